//! Scenario 2, bursts: every published schedule gets a burst of `Complete` events; the
//! daemon should coalesce each burst into one agent-schedules query and one event.

use crate::harness::{self, Daemon, Report, Waits};
use genesys_sim::{AgentPick, Emit, ScheduleChange};
use std::collections::HashMap;
use std::time::Duration;
use tokio::time::Instant;

/// Events per burst.
const BURST: usize = 30;

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
        let Ok(v) = serde_json::from_str::<serde_json::Value>(&msg) else {
            continue;
        };
        if v["type"] == "wfm.schedule.changed"
            && let Some(s) = v["subject"].as_str()
            && want.iter().any(|w| w == s)
        {
            got.entry(s.to_string()).or_insert(now);
        }
    }
    got
}

/// Runs the bursts against a settled daemon whose debounce quiet window is `quiet`: one
/// schedule alone (the pipeline's own latency), then every schedule at once (where the
/// REST budget is the limit).
pub async fn run(d: &Daemon, quiet: Duration, r: &mut Report) -> anyhow::Result<()> {
    let all = targets(d);
    let mut single = Vec::new();
    for _ in 0..5 {
        let (_, mut beyond) = bursts(d, &all[..1], quiet).await?;
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
    let mark = Instant::now();
    let (arrived, mut beyond) = bursts(d, &all, quiet).await?;
    let reqs = harness::requests_since(&d.sim, mark);
    let queries = reqs
        .iter()
        .filter(|q| q.path.ends_with("/agentschedules/query"))
        .count();
    let api = reqs.iter().filter(|q| harness::is_api(q)).count();
    let n = all.len() as f64;
    r.info("schedules burst at once", n, "count");
    r.info("events per burst", BURST as f64, "count");
    r.at_least(
        "schedules with exactly one change event",
        arrived as f64,
        "count",
        n,
    );
    r.at_most(
        "agent-schedule queries per burst (floor 1)",
        queries as f64 / n,
        "requests",
        1.0,
    );
    r.info("all API requests per burst", api as f64 / n, "requests");
    r.info(
        "result downloads per burst",
        (reqs.len() - api) as f64 / n,
        "requests",
    );
    r.info("debounce quiet window", quiet.as_secs_f64() * 1000.0, "ms");
    r.info(
        "p50 last Complete → outbox, beyond quiet",
        harness::sample_quantile(&mut beyond, 0.5),
        "ms",
    );
    r.at_most(
        "p99 last Complete → outbox, beyond quiet",
        harness::sample_quantile(&mut beyond, 0.99),
        "ms",
        50.0,
    );
    Ok(())
}

/// Bursts every target at once; returns how many got their change event, and each one's
/// latency beyond the quiet window (ms). Waits for the daemon to settle afterwards.
async fn bursts(
    d: &Daemon,
    targets: &[(String, String, String)],
    quiet: Duration,
) -> anyhow::Result<(usize, Vec<f64>)> {
    let mut live = d.app.store.live();
    let mut tasks = Vec::new();
    for (bu, schedule, mu) in targets {
        let (bu, schedule, mu) = (bu.clone(), schedule.clone(), mu.clone());
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
    d.settle(Duration::from_millis(500), Duration::from_secs(30))
        .await?;
    let beyond: Vec<f64> = arrived
        .iter()
        .map(|(s, at)| (at.duration_since(last_complete[s]).as_secs_f64() - quiet.as_secs_f64()) * 1000.0)
        .collect();
    Ok((arrived.len(), beyond))
}
