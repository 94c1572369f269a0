//! Scenario 2, bursts: every published schedule gets a burst of `Complete` events; the
//! daemon should coalesce each burst into one agent-schedules query and one event.

use crate::harness::{self, Daemon, Report};
use std::collections::HashMap;
use std::time::Duration;
use tokio::time::Instant;
use wfm_reactor::sim::{AgentPick, Emit, ScheduleChange};

/// Events per burst.
const BURST: usize = 30;

/// (business unit, schedule, first management unit) of every published schedule.
pub fn targets(d: &Daemon) -> Vec<(String, String, String)> {
    let org = d.sim.org();
    org.schedules
        .iter()
        .filter(|s| s.published)
        .map(|s| {
            let bu = org.business_units.iter().find(|b| b.id == s.bu_id).expect("schedule's BU");
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
    let mut got = HashMap::new();
    let deadline = Instant::now() + timeout;
    while got.len() < want.len() {
        let msg = match tokio::time::timeout_at(deadline, live.recv()).await {
            Err(_) => break,
            Ok(Err(tokio::sync::broadcast::error::RecvError::Lagged(_))) => continue,
            Ok(Err(_)) => break,
            Ok(Ok(m)) => m,
        };
        let now = Instant::now();
        let Ok(v) = serde_json::from_str::<serde_json::Value>(&msg) else { continue };
        if v["type"] == "wfm.schedule.changed"
            && let Some(s) = v["subject"].as_str()
            && want.iter().any(|w| w == s)
        {
            got.entry(s.to_string()).or_insert(now);
        }
    }
    got
}

/// Runs the bursts against a settled daemon whose debounce quiet window is `quiet`.
pub async fn run(d: &Daemon, quiet: Duration, r: &mut Report) -> anyhow::Result<()> {
    let targets = targets(d);
    let mut live = d.app.store.live();
    let mark = Instant::now();
    let mut tasks = Vec::new();
    for (bu, schedule, mu) in targets.clone() {
        let sim = d.sim.clone();
        tasks.push(tokio::spawn(async move {
            let mut last = Instant::now();
            for _ in 0..BURST {
                sim.change_schedule(ScheduleChange {
                    business_unit_id: bu.clone(),
                    schedule_id: schedule.clone(),
                    management_unit_id: Some(mu.clone()),
                    agents: AgentPick::Count(1),
                    emit: Emit::Complete,
                })?;
                last = Instant::now();
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            anyhow::Ok((format!("{schedule}/{mu}"), last))
        }));
    }
    let mut last_complete = HashMap::new();
    for t in tasks {
        let (subject, at) = t.await??;
        last_complete.insert(subject, at);
    }
    let want: Vec<String> = last_complete.keys().cloned().collect();
    let arrived = await_changes(&mut live, &want, Duration::from_secs(30)).await;
    d.settle(Duration::from_millis(500), Duration::from_secs(30)).await?;
    let reqs = harness::requests_since(&d.sim, mark);
    let queries = reqs.iter().filter(|q| q.path.ends_with("/agentschedules/query")).count();
    let api = reqs.iter().filter(|q| harness::is_api(q)).count();
    let mut beyond: Vec<f64> = arrived
        .iter()
        .map(|(s, at)| (at.duration_since(last_complete[s]).as_secs_f64() - quiet.as_secs_f64()) * 1000.0)
        .collect();
    let n = targets.len() as f64;
    r.info("schedules burst", n, "count");
    r.info("events per burst", BURST as f64, "count");
    r.at_least("schedules with exactly one change event", arrived.len() as f64, "count", n);
    r.at_most("agent-schedule queries per burst (floor 1)", queries as f64 / n, "requests", 1.0);
    r.info("all API requests per burst", api as f64 / n, "requests");
    r.info("result downloads per burst", (reqs.len() - api) as f64 / n, "requests");
    r.info("debounce quiet window", quiet.as_secs_f64() * 1000.0, "ms");
    r.info("p50 last Complete → outbox, beyond quiet", harness::sample_quantile(&mut beyond, 0.5), "ms");
    r.at_most("p99 last Complete → outbox, beyond quiet", harness::sample_quantile(&mut beyond, 0.99), "ms", 50.0);
    Ok(())
}
