//! Scenario 3, scale: many watched agents → time until every channel is connected with
//! every topic, channels used, and resident memory at steady state (process-wide: the
//! in-process simulator is included, so its own footprint is measured first).

use crate::harness::{self, Report};
use std::time::Duration;
use wfm_reactor::sim::SimConfig;

/// Topics one daemon can hold: 1,000 per channel × 19 channels (one of the platform's 20
/// is kept spare for token rollover).
const CAPACITY: usize = 19_000;

fn sim_config(agents: usize) -> SimConfig {
    SimConfig {
        business_units: 1,
        agents,
        rate_limit_per_minute: 100_000,
        ..SimConfig::default()
    }
}

const EXTRA: &str = "[fetch]\nrequests_per_minute = 6000\nconcurrency = 8\n";

/// Runs the scenario at `agents` watched agents.
pub async fn run(agents: usize) -> anyhow::Result<Report> {
    let mut r = Report::new(if agents > CAPACITY { "scale-over-capacity" } else { "scale" });
    let rss_runtime = harness::rss_mib();
    let (sim, _) = harness::start_sim(sim_config(agents)).await?;
    let rss_sim = harness::rss_mib();
    r.info("watched agents", agents as f64, "count");
    if agents + 1 > CAPACITY {
        // The daemon must refuse clearly at start rather than silently drop topics.
        let refused = match harness::start_against(sim.clone(), EXTRA).await {
            Ok(d) => {
                d.app.shutdown().await;
                false
            }
            Err(e) => {
                eprintln!("expected refusal: {e:#}");
                format!("{e:#}").contains("topics need more")
            }
        };
        r.at_least("refused at start with a clear error (1 = yes)", f64::from(u8::from(refused)), "bool", 1.0);
        sim.shutdown();
        return Ok(r);
    }
    let d = harness::start_against(sim, EXTRA).await?;
    let started_in = d.started.elapsed();
    let subscribed = d.subscribed(agents + 1, Duration::from_secs(60)).await?;
    let channels = d.sim.channels().len();
    r.info("app::start returned after", started_in.as_secs_f64(), "s");
    r.at_most("time to fully subscribed", (subscribed - d.started).as_secs_f64(), "s", 5.0);
    r.info("channels used", channels as f64, "count");
    d.first_reconcile(Duration::from_secs(120)).await?;
    d.settle(Duration::from_millis(500), Duration::from_secs(120)).await?;
    // Steady state: let the allocator settle after the first reconcile's bursts.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss = harness::rss_mib();
    r.info("RSS: runtime only", rss_runtime, "MiB");
    r.info("RSS: + simulator org (before daemon)", rss_sim, "MiB");
    r.info("RSS at steady state (daemon + simulator)", rss, "MiB");
    r.at_most("RSS daemon estimate (steady − before daemon)", rss - rss_sim, "MiB", 64.0);
    d.app.shutdown().await;
    Ok(r)
}
