//! End to end, REST side of the schedule path: a 429 is retried no sooner than its
//! `Retry-After` and the change is emitted once; `downloadUrl` and async answers give the
//! same events as inline ones; a burst across 50 schedules stays within the budget.

use genesys_sim::{AgentPick, Emit, ScheduleChange, SimConfig, SimHandle};
use serde_json::Value;
use std::time::Duration;
use wfm_testkit::outbox::*;
use wfm_testkit::requests::*;
use wfm_testkit::{DaemonBuilder, SimBuilder, Upstream, start_app};

/// Changes `agents` of the first MU in the first published schedule, with one Complete.
fn change_first(sim: &SimHandle, agents: usize) -> String {
    let org = sim.org();
    let bu = &org.business_units[0];
    let mu = &bu.management_units[0];
    let s = org.schedules.iter().find(|s| s.published).unwrap();
    sim.change_schedule(ScheduleChange {
        business_unit_id: bu.id.clone(),
        schedule_id: s.id.clone(),
        management_unit_id: Some(mu.id.clone()),
        agents: AgentPick::Ids(mu.agent_ids[..agents].to_vec()),
        emit: Emit::Complete,
    })
    .unwrap();
    s.id.clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_is_retried_no_sooner_than_retry_after_and_emitted_once() {
    let h = DaemonBuilder::reactor()
        .start(SimBuilder::reactor(1, 20).start().await)
        .await;
    let seq = last_seq(&h.app).await;
    let log_before = h.sim.request_log().len();
    h.sim.fail_next("POST /agentschedules/query", 1, 429, Some(2));
    let schedule = change_first(&h.sim, 2);
    wait_events(&h.app, seq, "the change", |e| !e.is_empty()).await;
    idle(&h.app).await;

    let log = h.sim.request_log();
    let after = &log[log_before..];
    let queries = agent_queries(after);
    assert_eq!(
        queries.iter().map(|r| r.status).collect::<Vec<_>>(),
        vec![429, 200],
        "{queries:#?}"
    );
    let (limited, retried) = (queries[0].at, queries[1].at);
    assert!(
        retried - limited >= Duration::from_secs(2),
        "retried {:?} after the 429",
        retried - limited
    );
    // The whole budget paused: no budgeted request in between.
    let between: Vec<_> = budgeted(after)
        .into_iter()
        .filter(|r| r.at > limited && r.at < retried)
        .collect();
    assert!(between.is_empty(), "requests during the pause: {between:#?}");
    let evs = events_after(&h.app, seq).await;
    assert_eq!(evs.len(), 1, "emitted once: {evs:#?}");
    assert_eq!(evs[0].1["data"]["scheduleId"], schedule.as_str());
    assert_eq!(evs[0].1["data"]["cause"], "notification");
    h.app.shutdown().await;
}

/// Snapshot and change events of one run, without what differs between runs
/// (ids, times, operation ids), in a stable order.
async fn run_mode(sim_tweak: impl FnOnce(&mut SimConfig), async_only: bool) -> (Vec<Value>, Vec<String>) {
    let sim = SimBuilder::reactor(1, 20).tweak(sim_tweak).start().await;
    sim.set_async_only(async_only);
    let dir = tempfile::tempdir().unwrap();
    let app = start_app(
        DaemonBuilder::reactor().config(&Upstream::of(&sim), dir.path()),
        &sim,
    )
    .await;
    let seq = last_seq(&app).await;
    change_first(&sim, 3);
    wait_events(&app, seq, "the change", |e| !e.is_empty()).await;
    idle(&app).await;
    let mut out: Vec<Value> = events_after(&app, 0)
        .await
        .into_iter()
        .map(|(_, e)| e)
        .filter(|e| e["type"] == "wfm.schedule.changed")
        .map(|e| {
            let mut d = e["data"].clone();
            d.as_object_mut().unwrap().remove("operationId");
            d
        })
        .collect();
    out.sort_by_key(|d| (d["scheduleId"].to_string(), d["version"].to_string()));
    let paths = sim
        .request_log()
        .into_iter()
        .map(|r| format!("{} {}?{}", r.method, r.path, r.query.unwrap_or_default()))
        .collect();
    app.shutdown().await;
    (out, paths)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn download_url_and_async_answers_give_the_same_events_as_inline() {
    let (inline, inline_log) = run_mode(|_| {}, false).await;
    let (download, download_log) = run_mode(|c| c.download_threshold_agents = 0, false).await;
    let (asynch, async_log) = run_mode(|_| {}, true).await;
    // The three runs really used three delivery modes.
    assert!(!inline_log.iter().any(|p| p.contains("/downloads/")));
    assert!(download_log.iter().any(|p| p.starts_with("GET /downloads/")));
    assert!(
        async_log
            .iter()
            .any(|p| p.contains("/agentschedules/query?") && p.contains("forceDownloadService=true"))
    );
    // 5 published snapshots + 1 change, identical in every mode.
    assert_eq!(inline.len(), 6, "{inline:#?}");
    assert!(inline.iter().any(|d| d["cause"] == "notification"));
    assert_eq!(download, inline);
    assert_eq!(asynch, inline);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_across_50_schedules_stays_within_the_request_budget() {
    // 10 BUs × 5 weeks = 50 schedules; 60 requests/s with a burst of 2.
    let (rpm, concurrency) = (3600u32, 2usize);
    let h = DaemonBuilder::reactor()
        .tweak(move |c| {
            c.fetch.requests_per_minute = rpm;
            c.fetch.concurrency = concurrency;
            c.fetch.burst = Some(concurrency as u32);
        })
        .start(
            SimBuilder::reactor(10, 20)
                .tweak(|c| c.rate_limit_per_minute = 100_000)
                .start()
                .await,
        )
        .await;
    let org = h.sim.org();
    let published: Vec<_> = org.schedules.iter().filter(|s| s.published).collect();
    assert_eq!(published.len(), 50);
    let seq = last_seq(&h.app).await;
    for s in &published {
        h.sim
            .change_schedule(ScheduleChange {
                business_unit_id: s.bu_id.clone(),
                schedule_id: s.id.clone(),
                management_unit_id: None,
                agents: AgentPick::Count(1),
                emit: Emit::Complete,
            })
            .unwrap();
    }
    wait_events(&h.app, seq, "50 changes", |e| e.len() >= 50).await;
    idle(&h.app).await;
    assert_eq!(events_after(&h.app, seq).await.len(), 50);

    // Token bucket: any window of T seconds holds at most burst + rate·T requests. The
    // sim stamps arrival, not acquisition, so allow 100 ms of skew at the full rate.
    let log = h.sim.request_log();
    // The log is in completion order; windows are over arrival times.
    let mut times: Vec<_> = budgeted(&log).iter().map(|r| r.at).collect();
    times.sort();
    assert!(
        times.len() > 100,
        "snapshot and burst both measured: {}",
        times.len()
    );
    let rate = f64::from(rpm) / 60.0;
    let window = Duration::from_millis(500);
    let bound = concurrency + (rate * (window.as_secs_f64() + 0.1)).ceil() as usize;
    let worst = times
        .iter()
        .enumerate()
        .map(|(i, &t0)| times[i..].iter().take_while(|&&t| t - t0 < window).count())
        .max()
        .unwrap();
    assert!(worst <= bound, "{worst} requests in {window:?}, bound {bound}");
    // ... and the budget was actually the limit: the run took about as long as it allows.
    let span = *times.last().unwrap() - times[0];
    let floor = Duration::from_secs_f64((times.len() - concurrency) as f64 / rate * 0.9);
    assert!(
        span >= floor,
        "{} requests in {span:?}, floor {floor:?}",
        times.len()
    );
    h.app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_fetch_is_retried_and_still_reported_as_the_notification() {
    let h = DaemonBuilder::reactor()
        .start(SimBuilder::reactor(1, 20).start().await)
        .await;
    let seq = last_seq(&h.app).await;
    let log_before = h.sim.request_log().len();
    // 403 is not retried inside the client: the fetch fails and the coalescer retries it.
    h.sim.fail_next("POST /agentschedules/query", 1, 403, None);
    let org = h.sim.org();
    let bu = &org.business_units[0];
    let mu = &bu.management_units[0];
    let s = org.schedules.iter().find(|s| s.published).unwrap();
    let outcome = h
        .sim
        .change_schedule(ScheduleChange {
            business_unit_id: bu.id.clone(),
            schedule_id: s.id.clone(),
            management_unit_id: Some(mu.id.clone()),
            agents: AgentPick::Ids(mu.agent_ids[..2].to_vec()),
            emit: Emit::Complete,
        })
        .unwrap();
    wait_events(&h.app, seq, "the change after the retry", |e| !e.is_empty()).await;
    idle(&h.app).await;
    let log = h.sim.request_log();
    let statuses: Vec<u16> = agent_queries(&log[log_before..])
        .iter()
        .map(|r| r.status)
        .collect();
    assert_eq!(statuses, vec![403, 200]);
    let evs = events_after(&h.app, seq).await;
    assert_eq!(evs.len(), 1, "{evs:#?}");
    let d = &evs[0].1["data"];
    // The retry kept what the notification said.
    assert_eq!(d["cause"], "notification");
    assert_eq!(d["operationId"], outcome.operation_id.as_str());
    assert_eq!(d["version"], i64::from(outcome.version));
    assert_eq!(agent_ids(&evs[0].1).len(), 2);
    h.app.shutdown().await;
}
