//! End to end, reconcile: the first start emits a snapshot and a restart on the same store
//! emits nothing for unchanged state; a schedule changed silently while the socket was
//! down is found by the reconcile after reconnect, and nothing else is re-fetched.

use genesys_sim::{AgentPick, Emit, ScheduleChange};
use std::collections::BTreeSet;
use wfm_testkit::outbox::*;
use wfm_testkit::requests::*;
use wfm_testkit::{DaemonBuilder, SimBuilder, Upstream, start_app};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_start_snapshots_and_a_restart_on_the_same_store_emits_nothing() {
    let sim = SimBuilder::reactor(1, 25).start().await;
    let dir = tempfile::tempdir().unwrap();
    let app = start_app(
        DaemonBuilder::reactor().config(&Upstream::of(&sim), dir.path()),
        &sim,
    )
    .await;
    let org = sim.org();
    let bu = &org.business_units[0];
    let agents: BTreeSet<String> = bu
        .management_units
        .iter()
        .flat_map(|m| m.agent_ids.clone())
        .collect();
    // published_only: the draft is not part of the snapshot.
    let published: BTreeSet<String> = org
        .schedules
        .iter()
        .filter(|s| s.published)
        .map(|s| s.id.clone())
        .collect();

    let evs: Vec<_> = events_after(&app, 0).await.into_iter().map(|(_, v)| v).collect();
    let schedules = of_type(&evs, "wfm.schedule.changed");
    let presences = of_type(&evs, "presence.changed");
    assert_eq!(
        schedules.len() + presences.len(),
        evs.len(),
        "only schedule and presence events"
    );
    // One event per (published schedule, MU), every agent `added` with shifts.
    assert_eq!(schedules.len(), published.len() * bu.management_units.len());
    let seen: BTreeSet<String> = schedules
        .iter()
        .map(|e| e["data"]["scheduleId"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(seen, published);
    for e in &schedules {
        let d = &e["data"];
        assert_eq!(d["cause"], "snapshot");
        assert!(d["operationId"].is_null());
        assert_eq!(agent_ids(e).into_iter().collect::<BTreeSet<_>>(), agents);
        for a in d["agents"].as_array().unwrap() {
            assert_eq!(a["change"], "added");
            let has_work = !a["shifts"].as_array().unwrap().is_empty()
                || !a["fullDayTimeOffMarkers"].as_array().unwrap().is_empty();
            assert!(has_work, "an added agent carries its week: {a}");
        }
    }
    // One presence event per agent, previous null.
    let users: BTreeSet<String> = presences
        .iter()
        .map(|e| e["data"]["userId"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(users, agents);
    assert_eq!(presences.len(), agents.len());
    for e in &presences {
        assert!(e["data"]["previous"].is_null(), "{e}");
        assert_eq!(e["data"]["cause"], "snapshot");
        assert!(e["data"]["systemPresence"].is_string());
    }
    let seq = last_seq(&app).await;
    let known_before = app.store.known_schedules().await.unwrap();
    app.shutdown().await;

    // Second start, same store, same org: the reconcile finds nothing to emit.
    let log_before = sim.request_log().len();
    let app = start_app(
        DaemonBuilder::reactor().config(&Upstream::of(&sim), dir.path()),
        &sim,
    )
    .await;
    let evs = events_after(&app, seq).await;
    assert!(evs.is_empty(), "restart emitted {evs:#?}");
    let log = sim.request_log();
    assert!(
        agent_queries(&log[log_before..]).is_empty(),
        "unchanged schedules are not re-fetched on restart"
    );
    assert_eq!(app.store.known_schedules().await.unwrap(), known_before);
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_change_during_a_socket_gap_is_found_by_reconcile_alone() {
    let h = DaemonBuilder::reactor()
        .start(SimBuilder::reactor(1, 30).start().await)
        .await;
    let org = h.sim.org();
    let bu = &org.business_units[0];
    let mu = &bu.management_units[0];
    let target = org.schedules.iter().find(|s| s.published).unwrap();
    let agents = mu.agent_ids[5..8].to_vec();
    let seq = last_seq(&h.app).await;
    let log_before = h.sim.request_log().len();

    // Drop the sockets and change the schedule before the client can reconnect (no await
    // in between), with no notification.
    h.sim.drop_sockets();
    let outcome = h
        .sim
        .change_schedule(ScheduleChange {
            business_unit_id: bu.id.clone(),
            schedule_id: target.id.clone(),
            management_unit_id: Some(mu.id.clone()),
            agents: AgentPick::Ids(agents.clone()),
            emit: Emit::Silent,
        })
        .unwrap();

    wait_events(&h.app, seq, "the reconcile's change", |e| !e.is_empty()).await;
    idle(&h.app).await;
    let evs: Vec<_> = events_after(&h.app, seq)
        .await
        .into_iter()
        .map(|(_, v)| v)
        .collect();
    assert_eq!(evs.len(), 1, "exactly one event: {evs:#?}");
    let d = &evs[0]["data"];
    assert_eq!(evs[0]["type"], "wfm.schedule.changed");
    assert_eq!(d["cause"], "reconcile");
    assert_eq!(d["scheduleId"], target.id.as_str());
    assert_eq!(d["managementUnitId"], mu.id.as_str());
    assert_eq!(d["version"], i64::from(outcome.version));
    assert!(d["operationId"].is_null());
    let mut want = agents.clone();
    want.sort();
    assert_eq!(agent_ids(&evs[0]), want);
    let served = sim_agent_schedules(&h.sim, &bu.id, &target.week_date.to_string(), &target.id, &mu.id).await;
    for a in d["agents"].as_array().unwrap() {
        assert_eq!(a["change"], "updated");
        assert_same_shifts(a, &served[a["userId"].as_str().unwrap()]);
    }

    // The reconcile listed, saw one new version, and queried only that schedule.
    let log = h.sim.request_log();
    let after = &log[log_before..];
    assert!(
        after.iter().any(
            |r| r.path.ends_with("/weeks/recent/schedules") || r.path.contains("/weeks/recent/schedules")
        ),
        "the gap caused a schedule list: {after:#?}"
    );
    let queried: BTreeSet<&str> = agent_queries(after).iter().map(|r| r.path.as_str()).collect();
    assert_eq!(queried.len(), 1, "only the changed schedule: {queried:#?}");
    assert!(queried.iter().all(|p| p.contains(&target.id)));
    h.app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_first_reconcile_is_retried_without_waiting_for_the_timer() {
    // The periodic reconcile is an hour away: only the reactor's own retry can finish it.
    let sim = SimBuilder::reactor(1, 20).start().await;
    sim.fail_next("GET /weeks/recent/schedules", 1, 403, None);
    let dir = tempfile::tempdir().unwrap();
    let app = start_app(
        DaemonBuilder::reactor().config(&Upstream::of(&sim), dir.path()),
        &sim,
    )
    .await;
    let lists: Vec<u16> = sim
        .request_log()
        .iter()
        .filter(|r| r.path.ends_with("/weeks/recent/schedules"))
        .map(|r| r.status)
        .collect();
    assert_eq!(lists.first(), Some(&403), "{lists:?}");
    assert!(lists.contains(&200), "{lists:?}");
    let evs: Vec<_> = events_after(&app, 0).await.into_iter().map(|(_, v)| v).collect();
    let snapshots = of_type(&evs, "wfm.schedule.changed");
    assert_eq!(snapshots.len(), 5, "the snapshot happened after the retry");
    assert!(snapshots.iter().all(|e| e["data"]["cause"] == "snapshot"));
    app.shutdown().await;
}
