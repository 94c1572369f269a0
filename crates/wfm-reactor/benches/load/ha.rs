//! Beyond one machine: the ingest scenario on PostgreSQL, events per second into
//! JetStream, and takeover times of two real replicas (median and max of several kills).
//! Each needs the real services (PostgreSQL on 127.0.0.1:5432, NATS on 127.0.0.1:4222);
//! without them the scenario reports nothing and says why.

use crate::harness::Report;
use crate::remote::{RemoteSim, binary};
use std::path::Path;
use std::time::Duration;
use tokio::time::Instant;
use wfm_reactor::config::{NatsSinkConfig, SinkConfig};
use wfm_reactor::sinks::{DeliveryOptions, spawn_delivery};
use wfm_reactor::store::Store;
use wfm_testkit::process::{log_lines, spawn};
use wfm_testkit::services::{nats, postgres::Schema, unique};

/// Events published in the JetStream scenario.
const NATS_EVENTS: u32 = 20_000;
/// Leader kills in the takeover scenario.
const KILLS: usize = 5;

/// Scenario `ingest-postgres`: `ingest` with the store in a fresh PostgreSQL schema.
pub async fn ingest_postgres() -> anyhow::Result<Report> {
    let Some(schema) = Schema::create_or_skip("bench ingest-postgres").await else {
        return Ok(Report::new("ingest-postgres"));
    };
    crate::ingest::run("ingest-postgres", Some(schema.url.clone())).await
}

/// Scenario `nats-publish`: a backlog of presence events from the SQLite outbox into a
/// file-backed JetStream stream, one publish in flight (the sink's ordering rule).
pub async fn nats_publish() -> anyhow::Result<Report> {
    let mut r = Report::new("nats-publish");
    let Some(js) = nats::jetstream_or_skip("bench nats-publish").await else {
        return Ok(r);
    };
    let (stream, prefix) = (unique("BENCH"), unique("b"));
    nats::create_stream(&js, &stream, vec![format!("{prefix}.>")]).await;
    let dir = tempfile::tempdir()?;
    let store = Store::open(&dir.path().join("s.db"))?;
    // The sink starts at the end of the outbox: register it first, then fill the backlog.
    store.sync_cursors(vec!["nats".into()]).await?;
    wfm_testkit::delivery::commit_presence(&store, 0, NATS_EVENTS).await;
    let config = NatsSinkConfig {
        name: None,
        url: nats::url(),
        stream: stream.clone(),
        subject: format!("{prefix}.{{type}}"),
        credentials_file: None,
        tls: None,
    };
    let (cancel, tracker) = (
        tokio_util::sync::CancellationToken::new(),
        tokio_util::task::TaskTracker::new(),
    );
    let t0 = Instant::now();
    let sinks = vec![("nats".to_string(), SinkConfig::Nats(config))];
    spawn_delivery(
        store.clone(),
        sinks,
        DeliveryOptions::default(),
        cancel.clone(),
        &tracker,
    )
    .await?;
    let deadline = t0 + Duration::from_secs(300);
    while store.cursor("nats").await?.unwrap_or(0) < NATS_EVENTS as u64 {
        anyhow::ensure!(
            Instant::now() < deadline,
            "JetStream backlog not drained in 300 s"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let secs = t0.elapsed().as_secs_f64();
    cancel.cancel();
    r.info("events published and acknowledged", NATS_EVENTS as f64, "count");
    r.info(
        "into JetStream (one in flight)",
        NATS_EVENTS as f64 / secs,
        "events/s",
    );
    let _ = js.delete_stream(&stream).await;
    Ok(r)
}

/// Scenario `takeover`: two replicas (release binary, default `[ha] takeover = "15s"`) on
/// one schema against the simulator; the leader is SIGKILLed `KILLS` times, each time
/// timed until the other replica logs `takeover`, then restarted as the standby.
pub async fn takeover() -> anyhow::Result<Report> {
    let mut r = Report::new("takeover");
    let Some(schema) = Schema::create_or_skip("bench takeover").await else {
        return Ok(r);
    };
    let sim = RemoteSim::spawn(200, 1).await?;
    let dir = tempfile::tempdir()?;
    let config = dir.path().join("replica.toml");
    std::fs::write(&config, replica_toml(&sim, &schema.url, dir.path()))?;
    let bin = binary()?.display().to_string();
    let mut runs = vec![spawn(&bin, &config, dir.path(), 0)];
    wait_log(dir.path(), 0, "takeover", 1, Duration::from_secs(60)).await?;
    runs.push(spawn(&bin, &config, dir.path(), 1));
    wait_log(dir.path(), 1, "lease held elsewhere", 1, Duration::from_secs(60)).await?;
    let (mut leader, mut standby) = (0usize, 1usize);
    let mut times = Vec::new();
    for _ in 0..KILLS {
        let before = log_lines(dir.path(), standby, "takeover").len();
        runs[leader].kill()?;
        let killed = Instant::now();
        wait_log(
            dir.path(),
            standby,
            "takeover",
            before + 1,
            Duration::from_secs(60),
        )
        .await?;
        times.push(killed.elapsed().as_secs_f64());
        let _ = runs[leader].wait();
        let next = runs.len();
        runs.push(spawn(&bin, &config, dir.path(), next));
        wait_log(
            dir.path(),
            next,
            "lease held elsewhere",
            1,
            Duration::from_secs(60),
        )
        .await?;
        (leader, standby) = (standby, next);
    }
    for run in &mut runs {
        let _ = run.kill();
        let _ = run.wait();
    }
    times.sort_by(f64::total_cmp);
    r.info("kills", KILLS as f64, "count");
    r.info(
        "takeover median (SIGKILL → standby logs takeover)",
        times[times.len() / 2],
        "s",
    );
    r.at_most("takeover max", times[times.len() - 1], "s", 15.0);
    Ok(r)
}

async fn wait_log(dir: &Path, n: usize, prefix: &str, count: usize, within: Duration) -> anyhow::Result<()> {
    let deadline = Instant::now() + within;
    while log_lines(dir, n, prefix).len() < count {
        anyhow::ensure!(
            Instant::now() < deadline,
            "run {n}: no {count}× {prefix:?} within {within:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    Ok(())
}

fn replica_toml(sim: &RemoteSim, url: &str, dir: &Path) -> String {
    format!(
        "[genesys]\nregion = \"mypurecloud.com\"\nclient_id = \"{id}\"\nclient_secret = \"{secret}\"\n\
         api_url = \"{base}\"\nlogin_url = \"{base}\"\n\n[state]\nurl = \"{url}\"\n\n[ha]\nenabled = true\n\n\
         [admin]\nlisten = \"127.0.0.1:0\"\n\n[[sinks]]\ntype = \"file\"\npath = \"{events}\"\n",
        id = sim.client_id,
        secret = sim.client_secret,
        base = sim.base,
        events = dir.join("events.ndjson").display(),
    )
}
