//! Scenario 1, ingest: presence notifications for 2,000 users through parse → dedupe →
//! store → outbox → file sink, in three phases: a flood (as fast as the daemon's sockets
//! drain them, many frames per read), then paced at 10,000/s and at 1,000/s (1 ms ticks,
//! the arrival pattern of a real stream). Each phase reports daemon CPU-s per 100,000.
//!
//! The simulator runs in its own process (`target/release/wfm-reactor sim`, see
//! `remote.rs`) and paces the stream itself, so this process's CPU time and the latency
//! histogram are the daemon's own. After the daemon stops, the Python peer (`peer.rs`)
//! consumes the identical phases from the same simulator in its own process, and the
//! scenario reports peer CPU / daemon CPU per phase.

use crate::harness::{self, Report, Waits};
use crate::peer::Peer;
use crate::remote::RemoteSim;
use std::time::Duration;
use tokio::time::Instant;
use wfm_reactor::telemetry::delivery::EVENT_TO_OUTBOX;

const USERS: usize = 2_000;
/// The simulator's default rate limit is 300 requests/min; the daemon stays below it.
const FETCH: &str = "[fetch]\nrequests_per_minute = 240\nconcurrency = 8\n";

/// One phase of the stream.
#[derive(Clone, Copy)]
struct Phase {
    /// Label in the figures.
    label: &'static str,
    /// Notifications per second (`None`: a flood).
    rate: Option<u32>,
    /// Notifications in the phase.
    total: usize,
}

const PHASES: [Phase; 3] = [
    Phase {
        label: "flood",
        rate: None,
        total: 100_000,
    },
    Phase {
        label: "paced 10k/s",
        rate: Some(10_000),
        total: 30_000,
    },
    Phase {
        label: "paced 1k/s",
        rate: Some(1_000),
        total: 10_000,
    },
];

/// The phases this run measures: all of them, or those named in `LOAD_INGEST_PHASES`
/// (comma-separated labels, e.g. `flood`), each of `LOAD_INGEST_TOTAL` notifications when
/// set. `scripts/callgrind-ingest.sh` runs one phase at two sizes under callgrind and
/// divides the difference, so start-up is not counted. The peer runs only with the defaults.
fn selected_phases() -> Vec<Phase> {
    let names = std::env::var("LOAD_INGEST_PHASES").ok();
    let total = std::env::var("LOAD_INGEST_TOTAL")
        .ok()
        .and_then(|t| t.parse().ok());
    PHASES
        .iter()
        .filter(|p| {
            names
                .as_deref()
                .is_none_or(|list| list.split(',').any(|l| l.trim() == p.label))
        })
        .map(|p| Phase {
            total: total.unwrap_or(p.total),
            ..*p
        })
        .collect()
}

/// How often the bench looks at the sink's cursor: this task runs in the measured process,
/// so a 2 ms poll alone cost ~5 % of the 1,000/s phase's target.
const DRAIN_POLL: Duration = Duration::from_millis(25);

/// Waits until the file sink's cursor reaches `target` or stops moving for 5 s.
async fn drained(d: &harness::App, target: u64) {
    let mut last = (d.sink_cursor(), Instant::now());
    while d.sink_cursor() < target {
        let c = d.sink_cursor();
        if c != last.0 {
            last = (c, Instant::now());
        } else if last.1.elapsed() > Duration::from_secs(5) {
            break; // stalled: report what arrived
        }
        tokio::time::sleep(DRAIN_POLL).await;
    }
}

/// Per-100k scaling of a phase's CPU seconds.
fn per_100k(cpu: f64, total: usize) -> f64 {
    cpu * 100_000.0 / total as f64
}

/// Runs the scenario, reported as `name`, on the SQLite file or (`state_url`) PostgreSQL;
/// the `ingest` scenario also runs the peer.
pub async fn run(name: &'static str, state_url: Option<String>) -> anyhow::Result<Report> {
    let sim = RemoteSim::spawn(USERS, 1).await?;
    let users = sim.agents().await?;
    anyhow::ensure!(users.len() == USERS, "sim generated {} agents", users.len());
    // WFM_LOAD_INGEST_CONFIG: extra tables for the daemon, to compare settings in one
    // build (e.g. `[notifications]\nmax_topics_per_channel = 500`); the README's figures use none.
    let extra = format!(
        "{FETCH}{}",
        std::env::var("WFM_LOAD_INGEST_CONFIG").unwrap_or_default()
    );
    let d = harness::start_app_on(&sim.base, &sim.client_id, &sim.client_secret, &extra, state_url).await?;
    // Generous bounds: under callgrind (scripts/callgrind-ingest.sh) start-up is ~50× slower.
    sim.subscribed(USERS + 1, Duration::from_secs(300)).await?;
    d.first_reconcile(Duration::from_secs(600)).await?;
    let mut seq = d
        .settle(Duration::from_millis(500), Duration::from_secs(60))
        .await?;
    let mut r = Report::new(name);
    let mut daemon_cpu = Vec::new();
    let phases = selected_phases();
    for phase in &phases {
        let cpu = daemon_phase(&d, &sim, phase, seq, &mut r).await?;
        daemon_cpu.push(cpu);
        seq += phase.total as u64;
    }
    d.app.shutdown().await;
    eprintln!("load: ingest phases done (pid {})", std::process::id());
    let defaults =
        std::env::var_os("LOAD_INGEST_PHASES").is_none() && std::env::var_os("LOAD_INGEST_TOTAL").is_none();
    if name == "ingest" && defaults {
        peer_phases(&sim, &users, &daemon_cpu, &mut r).await;
    }
    Ok(r)
}

/// One phase against the daemon; returns its CPU seconds.
async fn daemon_phase(
    d: &harness::App,
    sim: &RemoteSim,
    phase: &Phase,
    seq0: u64,
    r: &mut Report,
) -> anyhow::Result<f64> {
    // A progress line, so a profiler can be attached to one phase (docs/performance.md).
    eprintln!(
        "load: ingest phase {} starts (pid {})",
        phase.label,
        std::process::id()
    );
    let hist0 = harness::histogram(EVENT_TO_OUTBOX);
    let cpu0 = harness::precise_cpu_seconds();
    let sim_cpu0 = harness::pid_cpu_seconds(sim.pid());
    let t0 = Instant::now();
    let delivered = sim.flood_paced(None, phase.total, phase.rate).await?;
    anyhow::ensure!(
        delivered == phase.total,
        "only {delivered} of {} frames had a subscriber",
        phase.total
    );
    drained(d, seq0 + phase.total as u64).await;
    eprintln!("load: ingest phase {} ends", phase.label);
    let elapsed = t0.elapsed().as_secs_f64();
    let cpu = harness::precise_cpu_seconds() - cpu0;
    let sim_cpu = harness::pid_cpu_seconds(sim.pid()) - sim_cpu0;
    let hist1 = harness::histogram(EVENT_TO_OUTBOX);
    let events = d.sink_cursor().saturating_sub(seq0);
    let l = phase.label;
    r.info(
        &format!("{l}: events delivered to the file sink"),
        events as f64,
        "count",
    );
    let ms = |q| harness::quantile(&hist0, &hist1, q).unwrap_or(f64::NAN) * 1000.0;
    match phase.rate {
        None => {
            r.at_least(
                &format!("{l}: end-to-end throughput"),
                phase.total as f64 / elapsed,
                "notifications/s",
                50_000.0,
            );
            r.at_most(
                &format!("{l}: daemon CPU per 100k"),
                per_100k(cpu, phase.total),
                "CPU s",
                0.35,
            );
            r.info(&format!("{l}: p99 frame-to-outbox (queueing)"), ms(0.99), "ms");
        }
        Some(_) => {
            r.at_most(
                &format!("{l}: daemon CPU per 100k"),
                per_100k(cpu, phase.total),
                "CPU s",
                0.5,
            );
            r.info(&format!("{l}: p50 frame-to-outbox"), ms(0.5), "ms");
            r.at_most(&format!("{l}: p99 frame-to-outbox"), ms(0.99), "ms", 10.0);
        }
    }
    r.info(
        &format!("{l}: simulator CPU per 100k (other process)"),
        per_100k(sim_cpu, phase.total),
        "CPU s",
    );
    Ok(cpu)
}

/// The same phases against the peer; figures its CPU and the ratio to the daemon's.
async fn peer_phases(sim: &RemoteSim, users: &[String], daemon_cpu: &[f64], r: &mut Report) {
    let marks: Vec<usize> = PHASES
        .iter()
        .scan(0, |sum, p| {
            *sum += p.total;
            Some(*sum)
        })
        .collect();
    let mut peer = match Peer::start(sim, users, &marks).await {
        Ok(p) => p,
        Err(why) => {
            eprintln!("load: the Python peer is skipped: {why}");
            r.info("peer skipped (see stderr)", 1.0, "flag");
            return;
        }
    };
    let mut cpu0 = peer.ready_cpu;
    for (phase, daemon) in PHASES.iter().zip(daemon_cpu) {
        let sent = sim.flood_paced(None, phase.total, phase.rate);
        let (sent, mark) = tokio::join!(sent, peer.mark(Duration::from_secs(300)));
        let cpu = match (sent, mark) {
            (Ok(_), Ok(cpu)) => cpu,
            (Err(e), _) => {
                eprintln!("load: peer phase {} not sent: {e}", phase.label);
                return;
            }
            (_, Err(e)) => {
                eprintln!("load: peer phase {} incomplete: {e}", phase.label);
                return;
            }
        };
        let l = phase.label;
        r.info(
            &format!("{l}: peer CPU per 100k (Python genesys-notifications)"),
            per_100k(cpu - cpu0, phase.total),
            "CPU s",
        );
        r.info(
            &format!("{l}: peer CPU / daemon CPU"),
            (cpu - cpu0) / daemon,
            "ratio",
        );
        cpu0 = cpu;
    }
}
