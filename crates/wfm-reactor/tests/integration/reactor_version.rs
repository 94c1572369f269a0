//! End to end, version labels: a change announced while a fetch waits (here on a 429
//! pause) labels the management units queried after the announcement with its version,
//! and the re-fetch it causes emits nothing more.

use genesys_sim::{AgentPick, Emit, ScheduleChange};
use std::collections::BTreeSet;
use wfm_testkit::outbox::*;
use wfm_testkit::requests::*;
use wfm_testkit::{DaemonBuilder, SimBuilder, eventually};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_announced_during_a_fetch_labels_the_later_queries() {
    // 201 agents: two management units. The units' `agentschedules.changed` topic is
    // refused, so every fetch reads whole units (a narrowed one would read only the first
    // change's agents, and the re-fetch would emit the second change's: right, but not
    // the labelling this test is about).
    let sim = SimBuilder::reactor(1, 201).start().await;
    sim.deny_permission("wfm:agentSchedule:view");
    let h = DaemonBuilder::reactor().start(sim).await;
    let org = h.sim.org();
    let bu = &org.business_units[0];
    assert_eq!(bu.management_units.len(), 2);
    let (a, b) = (&bu.management_units[0], &bu.management_units[1]);
    let s = org.schedules.iter().find(|s| s.published).unwrap();
    let change = |agents: Vec<String>| ScheduleChange {
        business_unit_id: bu.id.clone(),
        schedule_id: s.id.clone(),
        management_unit_id: None,
        agents: AgentPick::Ids(agents),
        emit: Emit::Complete,
    };
    let seq = last_seq(&h.app).await;
    let before = h.sim.request_log().len();
    // The fetch's first query is rate limited: the whole budget pauses for 1 s.
    h.sim.fail_next("POST /agentschedules/query", 1, 429, Some(1));
    let v1 = h
        .sim
        .change_schedule(change(vec![a.agent_ids[0].clone(), b.agent_ids[0].clone()]))
        .unwrap();
    eventually("the first query was rate limited", || {
        let limited = agent_queries(&h.sim.request_log()[before..])
            .iter()
            .any(|r| r.status == 429);
        async move { limited }
    })
    .await;
    // A second change lands (and is announced) during the pause.
    let v2 = h
        .sim
        .change_schedule(change(vec![a.agent_ids[1].clone(), b.agent_ids[1].clone()]))
        .unwrap();
    wait_events(&h.app, seq, "both MUs", |e| e.len() >= 2).await;
    idle(&h.app).await;
    let evs: Vec<_> = events_after(&h.app, seq)
        .await
        .into_iter()
        .map(|(_, v)| v)
        .collect();
    assert_eq!(
        evs.len(),
        2,
        "one event per MU, nothing from the re-fetch: {evs:#?}"
    );
    // The MU queried first (its query was sent before the announcement) keeps v1; the
    // other was queried after it and carries v2. Both hold both changes' agents.
    let versions: BTreeSet<i64> = evs
        .iter()
        .map(|e| e["data"]["version"].as_i64().unwrap())
        .collect();
    assert_eq!(
        versions,
        BTreeSet::from([i64::from(v1.version), i64::from(v2.version)])
    );
    for e in &evs {
        let mu = e["data"]["managementUnitId"].as_str().unwrap();
        let members = if mu == a.id { a } else { b };
        let mut want = members.agent_ids[..2].to_vec();
        want.sort();
        assert_eq!(agent_ids(e), want, "{e:#}");
    }
    // Notification fetches name their MUs, so they never advance the stored version
    // (only a fetch of every MU does; see `a_lost_notification_for_another_mu_...`).
    let stored = h.app.store.schedule_version(&s.id).await.unwrap();
    assert!(stored < Some(i64::from(v1.version)), "{stored:?}");
    h.app.shutdown().await;
}

/// A notification for one management unit must not hide a change of another whose
/// notification was lost: the narrowed fetch keeps the stored version, so the next
/// reconcile compares versions, re-reads every MU and emits the lost change.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_notification_for_another_mu_is_found_by_the_next_reconcile() {
    let h = DaemonBuilder::reactor()
        .start(SimBuilder::reactor(1, 201).start().await)
        .await;
    let org = h.sim.org();
    let bu = &org.business_units[0];
    let (a, b) = (&bu.management_units[0], &bu.management_units[1]);
    let s = org.schedules.iter().find(|s| s.published).unwrap();
    let change = |mu: &str, agent: &str, emit: Emit| ScheduleChange {
        business_unit_id: bu.id.clone(),
        schedule_id: s.id.clone(),
        management_unit_id: Some(mu.to_string()),
        agents: AgentPick::Ids(vec![agent.to_string()]),
        emit,
    };
    let seq = last_seq(&h.app).await;
    // MU a changes but its notification is lost; then MU b changes with a notification.
    h.sim
        .change_schedule(change(&a.id, &a.agent_ids[0], Emit::Silent))
        .unwrap();
    h.sim
        .change_schedule(change(&b.id, &b.agent_ids[0], Emit::Complete))
        .unwrap();
    wait_events(&h.app, seq, "MU b's change", |e| !e.is_empty()).await;
    idle(&h.app).await;
    let only_b: BTreeSet<String> = events_after(&h.app, seq)
        .await
        .iter()
        .flat_map(|(_, v)| agent_ids(v))
        .collect();
    assert_eq!(only_b, BTreeSet::from([b.agent_ids[0].clone()]));
    // The next reconcile (here: resync) must find MU a's change.
    h.app.reactor.resync.send(()).await.unwrap();
    let want = a.agent_ids[0].clone();
    wait_events(&h.app, seq, "MU a's lost change", |e| {
        e.iter().flat_map(agent_ids).any(|id| id == want)
    })
    .await;
    let found: Vec<_> = events_after(&h.app, seq)
        .await
        .into_iter()
        .map(|(_, v)| v)
        .collect();
    let reconciled: Vec<_> = found
        .iter()
        .filter(|e| e["data"]["cause"] == "reconcile")
        .collect();
    assert_eq!(reconciled.len(), 1, "{found:#?}");
    assert_eq!(agent_ids(reconciled[0]), vec![a.agent_ids[0].clone()]);
    h.app.shutdown().await;
}
