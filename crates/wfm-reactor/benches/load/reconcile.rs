//! Scenario 4, reconcile: 50 schedules × 500 agents. Measures the first reconcile of an
//! empty store, then a reconcile after a gap (every socket dropped while every schedule
//! changed silently), and checks the REST rate against `fetch.requests_per_minute`.

use crate::harness::{self, Daemon, Report, Waits};
use genesys_sim::{AgentPick, Emit, ScheduleChange};
use std::collections::HashMap;
use std::time::Duration;
use tokio::time::Instant;

/// (business unit, schedule, first management unit) of every published schedule.
pub fn targets(d: &Daemon) -> Vec<(String, String, String)> {
    let org = d.sim.org();
    org.schedules
        .iter()
        .filter(|s| s.published)
        .map(|s| {
            let bu = org
                .business_units
                .iter()
                .find(|b| b.id == s.bu_id)
                .expect("schedule's BU");
            (s.bu_id.clone(), s.id.clone(), bu.management_units[0].id.clone())
        })
        .collect()
}

/// Waits for one `wfm.schedule.changed` per subject in `want`; returns arrival instants.
pub async fn await_changes(
    live: &mut tokio::sync::broadcast::Receiver<std::sync::Arc<str>>,
    want: &[String],
    timeout: Duration,
) -> HashMap<String, Instant> {
    await_changes_stamped(
        live,
        |s| want.iter().any(|w| w == s),
        want.len(),
        timeout,
        Instant::now,
    )
    .await
}

/// Waits for the first `wfm.schedule.changed` of `count` subjects accepted by `wanted`,
/// stamping each arrival with `stamp()` as it is received.
pub async fn await_changes_stamped<T>(
    live: &mut tokio::sync::broadcast::Receiver<std::sync::Arc<str>>,
    wanted: impl Fn(&str) -> bool,
    count: usize,
    timeout: Duration,
    stamp: impl Fn() -> T,
) -> HashMap<String, T> {
    let mut got = HashMap::new();
    let deadline = Instant::now() + timeout;
    while got.len() < count {
        let msg = match tokio::time::timeout_at(deadline, live.recv()).await {
            Err(_) => break,
            Ok(Err(tokio::sync::broadcast::error::RecvError::Lagged(_))) => continue,
            Ok(Err(_)) => break,
            Ok(Ok(m)) => m,
        };
        let now = stamp();
        // Only the envelope: the bench shares the daemon's cores, so it skips the data
        // instead of building a `Value` of every event.
        let Ok(head) = serde_json::from_str::<Head>(&msg) else {
            continue;
        };
        if head.kind == "wfm.schedule.changed"
            && let Some(s) = head.subject
            && wanted(&s)
        {
            got.entry(s).or_insert(now);
        }
    }
    got
}

/// The envelope fields `await_changes_stamped` reads; serde skips the rest.
#[derive(serde::Deserialize)]
struct Head {
    #[serde(rename = "type")]
    kind: String,
    subject: Option<String>,
}

/// Figures of the first reconcile (empty store → snapshot), taken right after start.
pub fn first(d: &Daemon, done: Instant, r: &mut Report) {
    let reqs = harness::requests_since(&d.sim, d.started);
    let api = reqs.iter().filter(|q| harness::is_api(q)).count();
    r.info(
        "first reconcile: wall time from start",
        (done - d.started).as_secs_f64(),
        "s",
    );
    r.info("first reconcile: API requests", api as f64, "requests");
}

/// The gap reconcile; `rpm` is the configured budget.
pub async fn after_gap(d: &Daemon, rpm: u32, r: &mut Report) -> anyhow::Result<()> {
    let targets = targets(d);
    let mut want = Vec::new();
    for (bu, schedule, mu) in &targets {
        d.sim.change_schedule(ScheduleChange {
            business_unit_id: bu.clone(),
            schedule_id: schedule.clone(),
            management_unit_id: Some(mu.clone()),
            agents: AgentPick::Count(5),
            emit: Emit::Silent,
        })?;
        want.push(format!("{schedule}/{mu}"));
    }
    let mut live = d.app.store.live();
    let mark = Instant::now();
    d.sim.drop_sockets();
    let arrived = await_changes(&mut live, &want, Duration::from_secs(180)).await;
    d.settle(Duration::from_millis(300), Duration::from_secs(180))
        .await?;
    let wall = arrived
        .values()
        .max()
        .map_or(f64::NAN, |t| (*t - mark).as_secs_f64());
    let reqs = harness::requests_since(&d.sim, mark);
    let api: Vec<_> = reqs.iter().filter(|q| harness::is_api(q)).cloned().collect();
    let queries = api
        .iter()
        .filter(|q| q.path.ends_with("/agentschedules/query"))
        .count();
    r.at_least(
        "gap reconcile: schedules found changed",
        arrived.len() as f64,
        "count",
        want.len() as f64,
    );
    r.info("gap reconcile: wall time (gap → last event)", wall, "s");
    r.info("gap reconcile: API requests", api.len() as f64, "requests");
    r.info(
        "gap reconcile: agent-schedule queries",
        queries as f64,
        "requests",
    );
    r.info(
        "gap reconcile: result downloads",
        (reqs.len() - api.len()) as f64,
        "requests",
    );
    let whole: Vec<_> = harness::requests_since(&d.sim, d.started)
        .into_iter()
        .filter(harness::is_api)
        .collect();
    r.info("configured requests_per_minute", f64::from(rpm), "requests/min");
    // Channel create/subscribe calls share the per-token limit but not the WFM budget.
    let channel_calls = whole
        .iter()
        .filter(|q| q.path.starts_with("/api/v2/notifications/"))
        .count();
    r.info(
        "of which notifications API calls (whole run)",
        channel_calls as f64,
        "requests",
    );
    r.at_most(
        "max API requests in any 60 s window (whole run)",
        harness::max_in_window(&whole, Duration::from_secs(60)) as f64,
        "requests",
        f64::from(rpm),
    );
    r.info(
        "max API requests in any 1 s window",
        harness::max_in_window(&whole, Duration::from_secs(1)) as f64,
        "requests",
    );
    let throttled = whole.iter().filter(|q| q.status == 429).count();
    r.at_most("429 answers", throttled as f64, "count", 0.0);
    Ok(())
}
