//! Scenario 1, ingest: presence notifications for 2,000 users flooded by the simulator as
//! fast as the daemon's sockets drain them, through parse → dedupe → store → outbox →
//! file sink.
//!
//! The simulator runs in its own process (`target/release/wfm-reactor sim`, see
//! `remote.rs`), so this process's CPU time and the latency histogram are the daemon's
//! own; the simulator's CPU is read from its /proc entry and reported beside it.

use crate::harness::{self, Report, Waits};
use crate::remote::RemoteSim;
use std::time::Duration;
use tokio::time::Instant;
use wfm_reactor::telemetry::delivery::EVENT_TO_OUTBOX;

const USERS: usize = 2_000;
const TOTAL: usize = 200_000;
/// The paced phase: this many more notifications at `PACED_RATE` per second, well below
/// saturation, so the latency figure is the pipeline's and not the flood's queue.
const PACED: usize = 20_000;
const PACED_RATE: usize = 10_000;
/// The simulator's default rate limit is 300 requests/min; the daemon stays below it.
const FETCH: &str = "[fetch]\nrequests_per_minute = 240\nconcurrency = 8\n";

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
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// Runs the scenario, reported as `name`, on the SQLite file or (`state_url`) PostgreSQL.
pub async fn run(name: &'static str, state_url: Option<String>) -> anyhow::Result<Report> {
    let sim = RemoteSim::spawn(USERS, 1).await?;
    let users = sim.agents().await?;
    anyhow::ensure!(users.len() == USERS, "sim generated {} agents", users.len());
    let d = harness::start_app_on(&sim.base, &sim.client_id, &sim.client_secret, FETCH, state_url).await?;
    sim.subscribed(USERS + 1, Duration::from_secs(30)).await?;
    d.first_reconcile(Duration::from_secs(120)).await?;
    let seq0 = d
        .settle(Duration::from_millis(500), Duration::from_secs(60))
        .await?;

    let hist0 = harness::histogram(EVENT_TO_OUTBOX);
    let cpu0 = harness::cpu_seconds();
    let sim_cpu0 = harness::pid_cpu_seconds(sim.pid());
    let t0 = Instant::now();
    let delivered = sim.flood(None, TOTAL).await?;
    let published_in = t0.elapsed();
    anyhow::ensure!(
        delivered == TOTAL,
        "only {delivered} of {TOTAL} frames had a subscriber"
    );
    drained(&d, seq0 + TOTAL as u64).await;
    let elapsed = t0.elapsed().as_secs_f64();
    let cpu = harness::cpu_seconds() - cpu0;
    let sim_cpu = harness::pid_cpu_seconds(sim.pid()) - sim_cpu0;
    let hist1 = harness::histogram(EVENT_TO_OUTBOX);
    let events = d.sink_cursor().saturating_sub(seq0);

    let mut r = Report::new(name);
    r.info("notifications published", TOTAL as f64, "count");
    r.info("events delivered to the file sink", events as f64, "count");
    r.info(
        "simulator flood time (frames queued)",
        published_in.as_secs_f64(),
        "s",
    );
    r.at_least(
        "end-to-end throughput",
        TOTAL as f64 / elapsed,
        "notifications/s",
        50_000.0,
    );
    r.at_most(
        "daemon CPU per 100k (own process)",
        cpu * 100_000.0 / TOTAL as f64,
        "CPU s",
        1.0,
    );
    r.info(
        "simulator CPU per 100k (other process)",
        sim_cpu * 100_000.0 / TOTAL as f64,
        "CPU s",
    );
    let ms = |q| harness::quantile(&hist0, &hist1, q).unwrap_or(f64::NAN) * 1000.0;
    r.info("flood p50 frame-to-outbox (queueing)", ms(0.5), "ms");
    r.info("flood p99 frame-to-outbox (queueing)", ms(0.99), "ms");

    // Paced phase: PACED_RATE/s in 10 ms ticks, each tick a flood of the next users.
    let hist0 = harness::histogram(EVENT_TO_OUTBOX);
    let cpu0 = harness::cpu_seconds();
    let mut tick = tokio::time::interval(Duration::from_millis(10));
    let per_tick = PACED_RATE / 100;
    for chunk in 0..PACED / per_tick {
        tick.tick().await;
        let from = (chunk * per_tick) % USERS;
        sim.flood(Some(&users[from..from + per_tick]), per_tick).await?;
    }
    drained(&d, seq0 + (TOTAL + PACED) as u64).await;
    let paced_cpu = harness::cpu_seconds() - cpu0;
    let hist1 = harness::histogram(EVENT_TO_OUTBOX);
    let ms = |q| harness::quantile(&hist0, &hist1, q).unwrap_or(f64::NAN) * 1000.0;
    r.info("paced rate", PACED_RATE as f64, "notifications/s");
    r.info(
        "paced: daemon CPU per 100k",
        paced_cpu * 100_000.0 / PACED as f64,
        "CPU s",
    );
    r.info("paced p50 frame-to-outbox", ms(0.5), "ms");
    r.at_most("paced p99 frame-to-outbox", ms(0.99), "ms", 10.0);
    d.app.shutdown().await;
    Ok(r)
}
