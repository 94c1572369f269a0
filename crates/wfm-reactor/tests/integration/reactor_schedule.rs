//! End to end, schedule path: a burst of notifications for one schedule coalesces into one
//! REST query and one event with exactly the changed agents; a notification during an
//! in-flight fetch causes exactly one more fetch; a Delete emits `wfm.schedule.deleted`.

use genesys_sim::{AgentPick, Emit, ScheduleChange};
use std::collections::BTreeSet;
use std::time::Duration;
use wfm_testkit::outbox::*;
use wfm_testkit::requests::*;
use wfm_testkit::{DaemonBuilder, FirstSchedule, SimBuilder, eventually};

fn change(bu: &str, schedule: &str, mu: &str, agents: &[String], emit: Emit) -> ScheduleChange {
    ScheduleChange {
        business_unit_id: bu.into(),
        schedule_id: schedule.into(),
        management_unit_id: Some(mu.into()),
        agents: AgentPick::Ids(agents.to_vec()),
        emit,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thirty_events_for_one_schedule_become_one_query_and_one_event() {
    // A 1 s quiet window: the 150 ms pacing below stays far inside it even on a loaded CI box.
    let h = DaemonBuilder::reactor()
        .tweak(|c| {
            c.debounce.quiet = Duration::from_secs(1);
            c.debounce.max_wait = Duration::from_secs(4);
        })
        .start(SimBuilder::reactor(1, 30).start().await)
        .await;
    let FirstSchedule {
        business_unit: bu,
        schedule,
        week,
        management_unit: mu,
        agents: members,
    } = FirstSchedule::of(&h.sim);
    let agents = members[..3].to_vec();
    let seq = last_seq(&h.app).await;
    let queries_before = agent_queries(&h.sim.request_log()).len();

    // 10 edits of the same 3 agents, each Processing + Complete + a duplicate Complete:
    // 30 notifications within ~1.35 s.
    let mut last = None;
    for i in 0..10 {
        let emit = Emit::ProcessingThenComplete {
            duplicate_complete: 1,
        };
        last = Some(
            h.sim
                .change_schedule(change(&bu, &schedule, &mu, &agents, emit))
                .unwrap(),
        );
        if i < 9 {
            tokio::time::sleep(Duration::from_millis(150)).await; // pacing the burst
        }
    }
    let last = last.unwrap();
    wait_events(&h.app, seq, "the schedule change", |e| {
        !of_type(e, "wfm.schedule.changed").is_empty()
    })
    .await;
    idle(&h.app).await;

    let log = h.sim.request_log();
    let queries: Vec<_> = agent_queries(&log)[queries_before..].to_vec();
    assert_eq!(
        queries.len(),
        1,
        "exactly one agent-schedules query: {queries:#?}"
    );
    assert!(queries[0].path.contains(&schedule));

    let evs: Vec<_> = events_after(&h.app, seq)
        .await
        .into_iter()
        .map(|(_, v)| v)
        .collect();
    assert_eq!(evs.len(), 1, "exactly one event: {evs:#?}");
    let ev = &evs[0];
    assert_eq!(ev["type"], "wfm.schedule.changed");
    let d = &ev["data"];
    assert_eq!(d["scheduleId"], schedule.as_str());
    assert_eq!(d["managementUnitId"], mu.as_str());
    assert_eq!(d["businessUnitId"], bu.as_str());
    assert_eq!(d["weekDate"], week.as_str());
    assert_eq!(d["cause"], "notification");
    assert_eq!(d["version"], i64::from(last.version));
    assert_eq!(d["operationId"], last.operation_id.as_str());
    let mut want = agents.clone();
    want.sort();
    assert_eq!(agent_ids(ev), want);
    let served = sim_agent_schedules(&h.sim, &bu, &week, &schedule, &mu).await;
    for a in d["agents"].as_array().unwrap() {
        assert_eq!(a["change"], "updated");
        assert_same_shifts(a, &served[a["userId"].as_str().unwrap()]);
    }
    h.app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_arriving_during_a_fetch_causes_exactly_one_more_fetch() {
    let h = DaemonBuilder::reactor()
        .start(SimBuilder::reactor(1, 30).start().await)
        .await;
    let FirstSchedule {
        business_unit: bu,
        schedule,
        week,
        management_unit: mu,
        agents: members,
    } = FirstSchedule::of(&h.sim);
    let (first, second) = (members[..2].to_vec(), members[2..4].to_vec());
    let seq = last_seq(&h.app).await;
    let queries_before = agent_queries(&h.sim.request_log()).len();

    // Hold the first fetch in flight: its query is answered 429 with Retry-After 1 s.
    h.sim.fail_next("POST /agentschedules/query", 1, 429, Some(1));
    h.sim
        .change_schedule(change(&bu, &schedule, &mu, &first, Emit::Complete))
        .unwrap();
    eventually("the first query was answered 429", || {
        let log = h.sim.request_log();
        async move {
            agent_queries(&log)[queries_before..]
                .iter()
                .any(|r| r.status == 429)
        }
    })
    .await;
    let later = h
        .sim
        .change_schedule(change(&bu, &schedule, &mu, &second, Emit::Complete))
        .unwrap();
    let all: BTreeSet<String> = first.iter().chain(&second).cloned().collect();
    wait_events(&h.app, seq, "both changes emitted", |e| {
        of_type(e, "wfm.schedule.changed")
            .iter()
            .flat_map(|ev| agent_ids(ev))
            .collect::<BTreeSet<_>>()
            == all
    })
    .await;
    idle(&h.app).await;

    let log = h.sim.request_log();
    let queries = &agent_queries(&log)[queries_before..];
    let ok: Vec<_> = queries.iter().filter(|r| r.status == 200).collect();
    assert_eq!(queries.len(), 3, "429, its retry, one more fetch: {queries:#?}");
    assert_eq!(
        ok.len(),
        2,
        "the in-flight fetch and exactly one more: {queries:#?}"
    );

    // Every changed agent is emitted exactly once, with the shifts served now.
    let evs: Vec<_> = events_after(&h.app, seq)
        .await
        .into_iter()
        .map(|(_, v)| v)
        .collect();
    let changed = of_type(&evs, "wfm.schedule.changed");
    assert_eq!(changed.len(), evs.len(), "only schedule events: {evs:#?}");
    let emitted: Vec<String> = changed.iter().flat_map(|e| agent_ids(e)).collect();
    assert_eq!(emitted.len(), all.len(), "no agent emitted twice: {emitted:?}");
    let served = sim_agent_schedules(&h.sim, &bu, &week, &schedule, &mu).await;
    for e in &changed {
        for a in e["data"]["agents"].as_array().unwrap() {
            assert_same_shifts(a, &served[a["userId"].as_str().unwrap()]);
        }
    }
    // Notifications fetched only the MU they named, so the stored version stays the last
    // fully fetched one (a lost notification for another MU must not be masked); a
    // reconcile re-reads every MU, finds nothing new, and records the later version.
    let stored = h.app.store.schedule_version(&schedule).await.unwrap();
    assert!(
        stored < Some(i64::from(later.version)),
        "narrowed fetches keep the version: {stored:?}"
    );
    let seq_before_resync = last_seq(&h.app).await;
    h.app.reactor.resync.send(()).await.unwrap();
    let store = h.app.store.clone();
    let schedule_id = schedule.clone();
    let want = Some(i64::from(later.version));
    eventually("the reconcile recorded the later version", || {
        let (store, schedule_id) = (store.clone(), schedule_id.clone());
        async move { store.schedule_version(&schedule_id).await.unwrap() == want }
    })
    .await;
    idle(&h.app).await;
    let after = events_after(&h.app, seq_before_resync).await;
    assert!(
        of_type(
            &after.iter().map(|(_, v)| v.clone()).collect::<Vec<_>>(),
            "wfm.schedule.changed"
        )
        .is_empty(),
        "the reconcile found nothing new: {after:#?}"
    );
    h.app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delete_of_a_known_schedule_emits_schedule_deleted() {
    let h = DaemonBuilder::reactor()
        .start(SimBuilder::reactor(1, 20).start().await)
        .await;
    let FirstSchedule {
        business_unit: bu,
        schedule,
        week,
        ..
    } = FirstSchedule::of(&h.sim);
    let seq = last_seq(&h.app).await;
    let op = h
        .sim
        .delete_schedule(
            &bu,
            &schedule,
            Emit::ProcessingThenComplete {
                duplicate_complete: 2,
            },
        )
        .unwrap();
    wait_events(&h.app, seq, "the deletion", |e| !e.is_empty()).await;
    idle(&h.app).await;
    let evs: Vec<_> = events_after(&h.app, seq)
        .await
        .into_iter()
        .map(|(_, v)| v)
        .collect();
    assert_eq!(evs.len(), 1, "exactly one event: {evs:#?}");
    let ev = &evs[0];
    assert_eq!(ev["type"], "wfm.schedule.deleted");
    let d = &ev["data"];
    assert_eq!(d["businessUnitId"], bu.as_str());
    assert_eq!(d["scheduleId"], schedule.as_str());
    assert_eq!(d["weekDate"], week.as_str());
    assert_eq!(d["operationId"], op.as_str());
    assert_eq!(d["cause"], "notification");
    let known = h.app.store.known_schedules().await.unwrap();
    assert!(
        known.iter().all(|s| s.schedule_id != schedule),
        "forgotten by the store"
    );
    h.app.shutdown().await;
}
