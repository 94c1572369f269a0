//! End to end, version labels: a change announced while a fetch waits (here on a 429
//! pause) labels the management units queried after the announcement with its version,
//! and the re-fetch it causes emits nothing more.

mod reactor_support;

use reactor_support::*;
use std::collections::BTreeSet;
use wfm_reactor::sim::{AgentPick, Emit, ScheduleChange};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_announced_during_a_fetch_labels_the_later_queries() {
    // 201 agents: two management units.
    let h = harness(1, 201, |_| {}, |_| {}).await;
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
    wait_until("the first query was rate limited", || {
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
    // The stored version is the later one once the re-fetch ran.
    let stored = h.app.store.schedule_version(&s.id).await.unwrap();
    assert_eq!(stored, Some(i64::from(v2.version)));
    h.app.shutdown().await;
}
