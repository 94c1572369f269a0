//! Scenario 1, ingest: presence notifications for 2,000 users published as fast as the
//! simulator can send, through parse → dedupe → store → outbox → file sink.

use crate::harness::{self, Report};
use serde_json::json;
use std::time::Duration;
use tokio::time::Instant;
use wfm_reactor::sim::SimConfig;
use wfm_reactor::telemetry::delivery::EVENT_TO_OUTBOX;

const USERS: usize = 2_000;
const TOTAL: usize = 200_000;
/// The paced phase: this many more notifications at `PACED_RATE` per second, well below
/// saturation, so the latency figure is the pipeline's and not the flood's queue.
const PACED: usize = 20_000;
const PACED_RATE: usize = 10_000;

/// Presences the simulator never starts an agent in, alternated so every notification is
/// a real change (and therefore one outbox event).
const CYCLE: [(&str, &str); 2] = [
    ("Meeting", "3b894b9d-1b73-4a46-a6c8-5a0b7d3b9e21"),
    ("Training", "7b6b3b1e-6c42-4c4f-9d0c-0e8d0f6c2a31"),
];

/// The `i`-th notification's topic: users in turn.
fn users_topic(users: &[String], i: usize) -> String {
    format!("v2.users.{}.presence", users[i % USERS])
}

/// The `i`-th notification's body: alternating presence per round over the users, and a
/// `modifiedDate` 1 µs after the previous one (so a user's updates are 2 ms apart).
fn body(base: chrono::DateTime<chrono::Utc>, i: usize) -> serde_json::Value {
    let (name, id) = CYCLE[(i / USERS) % 2];
    let at = base + chrono::Duration::microseconds(i as i64);
    json!({
        "source": "PURECLOUD",
        "presenceDefinition": {"id": id, "systemPresence": name},
        "primary": true,
        "message": "",
        "modifiedDate": at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string(),
    })
}

/// Runs the scenario.
pub async fn run() -> anyhow::Result<Report> {
    let sim_config = SimConfig {
        business_units: 1,
        agents: USERS,
        rate_limit_per_minute: 100_000,
        ..SimConfig::default()
    };
    let d = harness::start(
        sim_config,
        "[fetch]\nrequests_per_minute = 6000\nconcurrency = 8\n",
    )
    .await?;
    let users = d.sim.org().agent_ids();
    anyhow::ensure!(users.len() == USERS, "sim generated {} agents", users.len());
    d.subscribed(USERS + 1, Duration::from_secs(30)).await?;
    d.first_reconcile(Duration::from_secs(60)).await?;
    let seq0 = d
        .settle(Duration::from_millis(500), Duration::from_secs(60))
        .await?;

    let topics: Vec<String> = users.iter().map(|u| format!("v2.users.{u}.presence")).collect();
    let base = chrono::Utc::now() + chrono::Duration::milliseconds(5);
    let hist0 = harness::histogram(EVENT_TO_OUTBOX);
    let cpu0 = harness::cpu_seconds();
    let t0 = Instant::now();
    let sim = d.sim.clone();
    // The publisher runs on a blocking thread so its CPU can be read on its own; it stands
    // in for Genesys' fan-out (the simulator's socket writers still share the runtime).
    let publisher = tokio::task::spawn_blocking(move || {
        let cpu = harness::thread_cpu_seconds();
        let mut delivered = 0usize;
        for i in 0..TOTAL {
            delivered += sim.publish(&topics[i % USERS], body(base, i));
        }
        (delivered, harness::thread_cpu_seconds() - cpu)
    });
    let (delivered, publisher_cpu) = publisher.await?;
    let published_in = t0.elapsed();
    anyhow::ensure!(
        delivered == TOTAL,
        "only {delivered} of {TOTAL} frames had a subscriber"
    );

    let target = seq0 + TOTAL as u64;
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
    let elapsed = t0.elapsed().as_secs_f64();
    let cpu = harness::cpu_seconds() - cpu0;
    let hist1 = harness::histogram(EVENT_TO_OUTBOX);
    let events = d.sink_cursor().saturating_sub(seq0);

    let mut r = Report::new("ingest");
    r.info("notifications published", TOTAL as f64, "count");
    r.info("events delivered to the file sink", events as f64, "count");
    r.info("simulator publish time", published_in.as_secs_f64(), "s");
    r.at_least(
        "end-to-end throughput",
        TOTAL as f64 / elapsed,
        "notifications/s",
        50_000.0,
    );
    r.info(
        "process CPU per 100k (daemon + sim)",
        cpu * 100_000.0 / TOTAL as f64,
        "CPU s",
    );
    r.at_most(
        "CPU per 100k, publisher thread subtracted",
        (cpu - publisher_cpu) * 100_000.0 / TOTAL as f64,
        "CPU s",
        1.0,
    );
    let ms = |q| harness::quantile(&hist0, &hist1, q).unwrap_or(f64::NAN) * 1000.0;
    r.info("flood p50 frame-to-outbox (queueing)", ms(0.5), "ms");
    r.info("flood p99 frame-to-outbox (queueing)", ms(0.99), "ms");

    // Paced phase: PACED_RATE/s in 10 ms ticks.
    let hist0 = harness::histogram(EVENT_TO_OUTBOX);
    let mut tick = tokio::time::interval(Duration::from_millis(10));
    let per_tick = PACED_RATE / 100;
    for chunk in 0..PACED / per_tick {
        tick.tick().await;
        for k in 0..per_tick {
            let i = TOTAL + chunk * per_tick + k;
            d.sim.publish(&users_topic(&users, i), body(base, i));
        }
    }
    let target = seq0 + (TOTAL + PACED) as u64;
    let deadline = Instant::now() + Duration::from_secs(30);
    while d.sink_cursor() < target && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let hist1 = harness::histogram(EVENT_TO_OUTBOX);
    let ms = |q| harness::quantile(&hist0, &hist1, q).unwrap_or(f64::NAN) * 1000.0;
    r.info("paced rate", PACED_RATE as f64, "notifications/s");
    r.info("paced p50 frame-to-outbox", ms(0.5), "ms");
    r.at_most("paced p99 frame-to-outbox", ms(0.99), "ms", 10.0);
    d.app.shutdown().await;
    Ok(r)
}
