//! Scenario 2, bursts: every published schedule gets a burst of `Complete` events at once;
//! the daemon should coalesce each burst into one agent-schedules query and one event,
//! and emit it soon after the debounce quiet window.
//!
//! The simulator runs in its own process (`remote.rs`) and makes the edits itself
//! (`POST /sim/schedule-bursts`), so serving 50 schedules' queries is not on the measured
//! process's cores. Both processes stamp instants on the one system clock.

use crate::harness::{self, App, Report, Waits};
use crate::remote::RemoteSim;
use crate::stats;
use serde_json::Value;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Events per burst (each edits one agent): the README's figures use this default.
const BURST: usize = 30;

/// `LOAD_BURST_EVENTS` overrides [`BURST`], to tell per-agent from per-schedule costs.
fn burst_events() -> usize {
    std::env::var("LOAD_BURST_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(BURST)
}

/// `LOAD_BURST_AGENTS_PER_EVENT`: agents each edit changes (default 1).
fn agents_per_event() -> usize {
    std::env::var("LOAD_BURST_AGENTS_PER_EVENT")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1)
}
/// 10 business units of 500 agents, 5 published weeks each: 50 schedules.
const AGENTS: usize = 5_000;
const UNITS: usize = 10;

/// Runs the scenario with this debounce quiet window and REST budget.
pub async fn run(quiet: Duration, rpm: u32) -> anyhow::Result<Report> {
    let mut r = Report::new("bursts");
    let sim = RemoteSim::spawn_with(AGENTS, UNITS, &["--rate-limit-per-minute", "100000"]).await?;
    let extra = format!(
        "[debounce]\nquiet = \"{}ms\"\nmax_wait = \"2s\"\n[fetch]\nrequests_per_minute = {rpm}\n{}",
        quiet.as_millis(),
        // WFM_LOAD_FETCH: extra `[fetch]` lines (e.g. `concurrency = 16`), to compare
        // settings in one build; the README's figures use none.
        std::env::var("WFM_LOAD_FETCH").unwrap_or_default()
    );
    let d = harness::start_app(&sim.base, &sim.client_id, &sim.client_secret, &extra).await?;
    d.first_reconcile(Duration::from_secs(180)).await?;
    sim.subscribed(AGENTS + UNITS, Duration::from_secs(30)).await?;
    d.settle(Duration::from_millis(500), Duration::from_secs(120))
        .await?;
    let all = sim.schedule_targets().await?;
    let mut single = Vec::new();
    for _ in 0..5 {
        let (_, mut beyond) = bursts(&d, &sim, &all[..1], quiet).await?;
        single.append(&mut beyond);
    }
    r.info(
        "one schedule alone (5 runs): median beyond quiet",
        harness::sample_quantile(&mut single, 0.5),
        "ms",
    );
    r.info(
        "one schedule alone (5 runs): max beyond quiet",
        harness::sample_quantile(&mut single, 1.0),
        "ms",
    );
    // Steady state: the first reconcile spent the budget's burst; a production daemon
    // meets simultaneous changes with it refilled (`budget_available` in /readyz).
    let refill = budget_refilled(&d, all.len(), Duration::from_secs(120)).await?;
    r.info(
        "waited for the budget to refill (after start-up)",
        refill.as_secs_f64(),
        "s",
    );
    // A progress line, so a profiler can be attached to the burst.
    eprintln!("load: bursts phase all starts (pid {})", std::process::id());
    let queries_before = queries_sent();
    let cpu_before = (stats::precise_cpu_seconds(), stats::pid_cpu_seconds(sim.pid()));
    let (arrived, mut beyond) = bursts(&d, &sim, &all, quiet).await?;
    let cpu = (
        stats::precise_cpu_seconds() - cpu_before.0,
        stats::pid_cpu_seconds(sim.pid()) - cpu_before.1,
    );
    let queries = queries_sent() - queries_before;
    if std::env::var_os("LOAD_DUMP_METRICS").is_some() {
        let mut sorted = beyond.clone();
        sorted.sort_by(f64::total_cmp);
        eprintln!("beyond quiet, sorted (ms): {sorted:.0?}");
    }
    let n = all.len() as f64;
    r.info("schedules burst at once", n, "count");
    r.info("events per burst", burst_events() as f64, "count");
    r.at_least(
        "schedules with exactly one change event",
        arrived as f64,
        "count",
        n,
    );
    r.at_most(
        "agent-schedule queries per burst (floor 1)",
        queries / n,
        "requests",
        1.0,
    );
    // Both include the 500 ms settle after the last event (heartbeats only).
    r.info(
        "CPU of the 50-schedule burst: daemon process (bench client included)",
        cpu.0,
        "CPU s",
    );
    r.info(
        "CPU of the 50-schedule burst: simulator (other process)",
        cpu.1,
        "CPU s",
    );
    r.info("debounce quiet window", quiet.as_secs_f64() * 1000.0, "ms");
    r.info("configured requests_per_minute", f64::from(rpm), "requests/min");
    r.info(
        "p50 last Complete → outbox, beyond quiet",
        harness::sample_quantile(&mut beyond, 0.5),
        "ms",
    );
    r.at_most(
        "p99 last Complete → outbox, beyond quiet",
        harness::sample_quantile(&mut beyond, 0.99),
        "ms",
        250.0,
    );
    if std::env::var_os("LOAD_DUMP_METRICS").is_some() {
        eprintln!("{}", wfm_reactor::telemetry::prometheus::handle().render());
    }
    d.app.shutdown().await;
    Ok(r)
}

/// Waits until every client's budget would let `n` requests start at once (what
/// `/readyz` reports as `budget_available`).
async fn budget_refilled(d: &App, n: usize, within: Duration) -> anyhow::Result<Duration> {
    let started = tokio::time::Instant::now();
    loop {
        let clients = d.app.upstream.reports();
        if !clients.is_empty() && clients.iter().all(|c| c.budget_available as usize >= n) {
            return Ok(started.elapsed());
        }
        anyhow::ensure!(
            started.elapsed() < within,
            "budget not refilled within {within:?}: {clients:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Agent-schedule queries the daemon sent so far (its own counter, by route).
fn queries_sent() -> f64 {
    let text = wfm_reactor::telemetry::prometheus::handle().render();
    text.lines()
        .filter(|l| l.starts_with("wfm_reactor_rest_requests_total") && l.contains("agentschedules"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// Bursts every target at once; returns how many got their change event, and each one's
/// latency beyond the quiet window (ms). Waits for the daemon to settle afterwards.
async fn bursts(
    d: &App,
    sim: &RemoteSim,
    targets: &[Value],
    quiet: Duration,
) -> anyhow::Result<(usize, Vec<f64>)> {
    let mut live = d.app.store.live();
    let last = sim
        .schedule_bursts(targets, burst_events(), agents_per_event())
        .await?;
    // When (µs since the epoch) the first change event of each burst subject arrived.
    let arrived = crate::reconcile::await_changes_stamped(
        &mut live,
        |s| last.contains_key(s),
        last.len(),
        Duration::from_secs(30),
        unix_micros,
    )
    .await;
    d.settle(Duration::from_millis(500), Duration::from_secs(30))
        .await?;
    let beyond = arrived
        .iter()
        .map(|(s, at)| (*at as f64 - last[s] as f64) / 1000.0 - quiet.as_secs_f64() * 1000.0)
        .collect();
    Ok((arrived.len(), beyond))
}

fn unix_micros() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64)
}
