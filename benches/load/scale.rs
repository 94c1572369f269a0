//! Scenario 3, scale: many watched agents → time until every channel is connected with
//! every topic, channels used, and resident memory at steady state (process-wide: the
//! in-process simulator is included, so its own footprint is measured first).

use crate::harness::{self, Report};
use std::time::Duration;
use wfm_reactor::sim::SimConfig;

/// Topics one daemon can hold: 1,000 per channel × 19 channels (one of the platform's 20
/// is kept spare for token rollover).
const CAPACITY: usize = 19_000;

unsafe extern "C" {
    /// glibc: return free heap memory to the OS (Linux/glibc only, like this bench).
    fn malloc_trim(pad: usize) -> i32;
    /// mimalloc (the global allocator): free retained pages now rather than lazily.
    fn mi_collect(force: bool);
}

fn sim_config(agents: usize) -> SimConfig {
    SimConfig {
        business_units: 1,
        agents,
        rate_limit_per_minute: 100_000,
        // Inline query results: the simulator keeps 256 downloads and evicts an arbitrary
        // one, which a 95-MU snapshot outruns (reported as a simulator issue).
        download_threshold_agents: 10_000,
        ..SimConfig::default()
    }
}

const EXTRA: &str = "[fetch]\nrequests_per_minute = 60000\nconcurrency = 8\n";

/// Runs the scenario at `agents` watched agents.
pub async fn run(agents: usize) -> anyhow::Result<Report> {
    let mut r = Report::new(if agents > CAPACITY {
        "scale-over-capacity"
    } else {
        "scale"
    });
    let rss_runtime = harness::rss_mib();
    let (sim, _) = harness::start_sim(sim_config(agents)).await?;
    let rss_sim = harness::rss_mib();
    r.info("watched agents", agents as f64, "count");
    if agents + 1 > CAPACITY {
        // The daemon must refuse clearly at start rather than silently drop topics.
        let refused = match harness::start_against(sim.clone(), EXTRA).await {
            Ok(d) => {
                d.daemon.app.shutdown().await;
                false
            }
            Err(e) => {
                eprintln!("expected refusal: {e:#}");
                format!("{e:#}").contains("topics need more")
            }
        };
        r.at_least(
            "refused at start with a clear error (1 = yes)",
            f64::from(u8::from(refused)),
            "bool",
            1.0,
        );
        sim.shutdown();
        return Ok(r);
    }
    let d = harness::start_against(sim, EXTRA).await?;
    // Sizes of the committed events (the snapshot's schedule events are large).
    let mut live = d.app.store.live();
    let sizes = tokio::spawn(async move {
        let (mut n, mut total, mut max) = (0usize, 0usize, 0usize);
        loop {
            match live.recv().await {
                Ok(e) => {
                    n += 1;
                    total += e.len();
                    max = max.max(e.len());
                }
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                Err(_) => return (n, total, max),
            }
        }
    });
    let started_in = d.started.elapsed();
    let subscribed = d.subscribed(agents + 1, Duration::from_secs(60)).await?;
    let channels = d.sim.channels().len();
    r.info("app::start returned after", started_in.as_secs_f64(), "s");
    r.at_most(
        "time to fully subscribed",
        (subscribed - d.started).as_secs_f64(),
        "s",
        5.0,
    );
    r.info("channels used", channels as f64, "count");
    let rss_subscribed = harness::rss_mib();
    // Steady state: the first reconcile (a snapshot of every schedule and presence) done.
    match d.first_reconcile(Duration::from_secs(240)).await {
        Ok(at) => r.info("first reconcile done after", (at - d.started).as_secs_f64(), "s"),
        Err(e) => eprintln!("scale: {e:#}"),
    }
    let _ = d
        .settle(Duration::from_millis(500), Duration::from_secs(60))
        .await;
    let rss = harness::rss_mib();
    r.info("RSS: runtime only", rss_runtime, "MiB");
    r.info("RSS: + simulator org (before daemon)", rss_sim, "MiB");
    r.info("RSS when subscribed (daemon + simulator)", rss_subscribed, "MiB");
    r.info("RSS at steady state (daemon + simulator)", rss, "MiB");
    r.info(
        "RSS daemon estimate (steady − before daemon)",
        rss - rss_sim,
        "MiB",
    );
    // glibc keeps freed memory of the snapshot's peak; hand it back to see the live heap.
    // SAFETY: malloc_trim only releases free pages of glibc's heap; no pointer is touched.
    unsafe { malloc_trim(0) };
    // SAFETY: mi_collect only releases mimalloc's free pages; no live pointer is touched.
    // glibc still serves SQLite's own allocations, so both are trimmed.
    unsafe { mi_collect(true) };
    let trimmed = harness::rss_mib();
    r.info("RSS after malloc_trim (daemon + simulator)", trimmed, "MiB");
    r.at_most(
        "RSS daemon estimate after malloc_trim",
        trimmed - rss_sim,
        "MiB",
        64.0,
    );
    d.daemon.app.shutdown().await;
    if let Ok(Ok((n, total, max))) = tokio::time::timeout(Duration::from_secs(5), sizes).await {
        r.info("events committed (seen live)", n as f64, "count");
        r.info("their total size", total as f64 / 1_048_576.0, "MiB");
        r.info("largest event", max as f64 / 1024.0, "KiB");
    }
    Ok(r)
}
