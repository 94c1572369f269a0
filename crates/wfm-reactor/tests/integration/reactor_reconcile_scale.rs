//! Measurement, not a check (ignored by default; run it by hand): time to the first
//! reconcile done (what `/readyz` waits for) and the REST calls it made, for 10,000
//! agents in one business unit at the default `requests_per_minute = 240`, with Genesys
//! adherence on. Debug build, the simulator in the same process:
//!
//! `cargo test -p wfm-reactor --test integration -- --ignored --nocapture reactor_reconcile_scale::`

use std::collections::BTreeMap;
use std::time::Duration;
use wfm_testkit::{DaemonBuilder, SimBuilder, outbox};

/// The route family of a logged path, for the call census.
fn family(path: &str) -> &'static str {
    if path.contains("/presences/purecloud/bulk") {
        "presence.bulk"
    } else if path.ends_with("/routingstatus") {
        "routingstatus.get"
    } else if path.ends_with("/adherence") {
        "adherence.get"
    } else if path.ends_with("/agentschedules/query") {
        "agentschedules.query"
    } else if path.contains("/notifications/") {
        "notifications"
    } else if path.starts_with("/downloads/") {
        "download"
    } else {
        "other"
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "measurement: 10,000 agents, about a minute"]
async fn time_to_ready_and_calls_for_10_000_agents() {
    let sim = SimBuilder::reactor(1, 10_000)
        .tweak(|c| c.rate_limit_per_minute = 100_000)
        .start()
        .await;
    let d = DaemonBuilder::minimal()
        .watch_all()
        .adherence(true)
        .start(sim)
        .await;
    let done = outbox::first_reconcile(&d.app, Duration::from_secs(600))
        .await
        .expect("first reconcile");
    let ready = done - d.started;
    let mut census: BTreeMap<&str, usize> = BTreeMap::new();
    for r in d.sim.request_log() {
        *census.entry(family(&r.path)).or_default() += 1;
    }
    eprintln!(
        "MEASURE agents=10000 first_reconcile_done_s={:.1}",
        ready.as_secs_f64()
    );
    eprintln!("MEASURE calls by route until then: {census:?}");
    d.shutdown().await;
}
