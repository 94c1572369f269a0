//! End to end, optional behaviour: `watch.routing_status` emits routing changes with
//! `previousStatus` and drops duplicates; `initial_snapshot = false` records the baseline
//! silently and then emits only real changes; a reconcile (and the snapshot) learn a
//! schedule's management units from membership, with no per-schedule metadata call.

use genesys_sim::{AgentPick, Emit, LoggedRequest, ScheduleChange};
use serde_json::json;
use wfm_testkit::outbox::*;
use wfm_testkit::requests::*;
use wfm_testkit::{DaemonBuilder, SimBuilder};

/// Schedule metadata reads (`GET …/weeks/{w}/schedules/{id}`), not listings.
fn metadata_reads(log: &[LoggedRequest]) -> usize {
    log.iter()
        .filter(|r| {
            r.method == "GET"
                && r.path.contains("/weeks/")
                && !r.path.ends_with("/schedules")
                && r.path.contains("/schedules/")
        })
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn routing_status_changes_name_the_previous_status_and_duplicates_are_dropped() {
    let h = DaemonBuilder::reactor()
        .tweak(|c| c.watch.routing_status = true)
        .start(SimBuilder::reactor(1, 10).start().await)
        .await;
    let snapshot: Vec<_> = events_after(&h.app, 0)
        .await
        .into_iter()
        .map(|(_, v)| v)
        .collect();
    let routing = of_type(&snapshot, "routing.status.changed");
    assert_eq!(routing.len(), 10, "one snapshot routing status per agent");
    let initial = routing[0]["data"].clone();
    let user = initial["userId"].as_str().unwrap().to_string();
    let before = initial["status"].as_str().unwrap().to_string();
    let next = if before == "INTERACTING" {
        "IDLE"
    } else {
        "INTERACTING"
    };
    let seq = last_seq(&h.app).await;

    let started = h.sim.set_routing_status(&user, next, true).unwrap();
    let evs = wait_events(&h.app, seq, "the routing change", |e| !e.is_empty()).await;
    assert_eq!(evs.len(), 1, "{evs:#?}");
    assert_eq!(evs[0]["type"], "routing.status.changed");
    let d = &evs[0]["data"];
    assert_eq!(d["userId"], user.as_str());
    assert_eq!(d["status"], next);
    assert_eq!(d["previousStatus"], before.as_str());
    assert_eq!(d["startTime"], started.as_str());
    assert_eq!(d["cause"], "notification");

    // The same notification again: nothing. Then a real change proves it was decided.
    let topic = format!("v2.users.{user}.routingStatus");
    let body = json!({"id": user, "routingStatus": {"status": next, "startTime": started}});
    assert_eq!(h.sim.publish(&topic, body), 1);
    h.sim.set_routing_status(&user, "OFF_QUEUE", true).unwrap();
    let evs = wait_events(&h.app, seq, "the second change", |e| e.len() >= 2).await;
    assert_eq!(evs.len(), 2, "the duplicate emitted nothing: {evs:#?}");
    assert_eq!(evs[1]["data"]["status"], "OFF_QUEUE");
    assert_eq!(evs[1]["data"]["previousStatus"], next);
    let stored = h.app.store.routing_status(&user).await.unwrap().unwrap();
    assert_eq!(stored.status, "OFF_QUEUE");
    h.app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_initial_snapshot_the_baseline_is_silent_and_a_change_is_exact() {
    let h = DaemonBuilder::reactor()
        .tweak(|c| c.reconcile.initial_snapshot = false)
        .start(SimBuilder::reactor(1, 20).start().await)
        .await;
    let evs = events_after(&h.app, 0).await;
    assert!(evs.is_empty(), "the first start emitted {evs:#?}");
    // ... but recorded the baseline.
    let org = h.sim.org();
    let published = org.schedules.iter().filter(|s| s.published).count();
    let known = h.app.store.known_schedules().await.unwrap();
    assert_eq!(known.len(), published);
    let one = h.app.store.known_schedule(&known[0].schedule_id).await.unwrap();
    assert_eq!(
        one.as_ref(),
        Some(&known[0]),
        "one header reads as in the full list"
    );
    assert_eq!(
        h.app.store.known_schedule("no-such-schedule").await.unwrap(),
        None
    );
    let bu = &org.business_units[0];
    let mu = &bu.management_units[0];
    let agent = &mu.agent_ids[0];
    let baseline = h
        .app
        .store
        .presence(agent)
        .await
        .unwrap()
        .expect("presence baseline");

    let s = org.schedules.iter().find(|s| s.published).unwrap();
    let agents = mu.agent_ids[1..3].to_vec();
    let outcome = h
        .sim
        .change_schedule(ScheduleChange {
            business_unit_id: bu.id.clone(),
            schedule_id: s.id.clone(),
            management_unit_id: Some(mu.id.clone()),
            agents: AgentPick::Ids(agents.clone()),
            emit: Emit::Complete,
        })
        .unwrap();
    let next = if baseline.system_presence == "Away" {
        "Busy"
    } else {
        "Away"
    };
    h.sim.set_presence(agent, next, true).unwrap();
    wait_events(&h.app, 0, "the two changes", |e| e.len() >= 2).await;
    idle(&h.app).await;
    let evs: Vec<_> = events_after(&h.app, 0)
        .await
        .into_iter()
        .map(|(_, v)| v)
        .collect();
    assert_eq!(evs.len(), 2, "{evs:#?}");
    let schedule = of_type(&evs, "wfm.schedule.changed");
    assert_eq!(schedule.len(), 1);
    let d = &schedule[0]["data"];
    assert_eq!(d["cause"], "notification");
    assert_eq!(d["version"], i64::from(outcome.version));
    let mut want = agents;
    want.sort();
    assert_eq!(agent_ids(schedule[0]), want);
    assert!(
        d["agents"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["change"] == "updated")
    );
    let presence = of_type(&evs, "presence.changed");
    assert_eq!(presence[0]["data"]["systemPresence"], next);
    assert_eq!(
        presence[0]["data"]["previous"]["systemPresence"],
        baseline.system_presence.as_str()
    );
    h.app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snapshot_and_reconcile_take_management_units_from_membership() {
    let h = DaemonBuilder::reactor()
        .start(SimBuilder::reactor(1, 20).start().await)
        .await;
    let snapshot_log = h.sim.request_log();
    assert_eq!(
        metadata_reads(&snapshot_log),
        0,
        "the snapshot read no schedule metadata"
    );
    let org = h.sim.org();
    let bu = &org.business_units[0];
    let mu = &bu.management_units[0];
    let target = org.schedules.iter().find(|s| s.published).unwrap();
    let seq = last_seq(&h.app).await;
    let before = h.sim.request_log().len();
    h.sim.drop_sockets();
    h.sim
        .change_schedule(ScheduleChange {
            business_unit_id: bu.id.clone(),
            schedule_id: target.id.clone(),
            management_unit_id: Some(mu.id.clone()),
            agents: AgentPick::Ids(mu.agent_ids[..2].to_vec()),
            emit: Emit::Silent,
        })
        .unwrap();
    wait_events(&h.app, seq, "the reconcile's change", |e| !e.is_empty()).await;
    idle(&h.app).await;
    let log = h.sim.request_log();
    let after = &log[before..];
    assert_eq!(metadata_reads(after), 0, "no metadata call: {after:#?}");
    // One query per management unit of the BU, for the one changed schedule.
    assert_eq!(agent_queries(after).len(), bu.management_units.len());
    eprintln!(
        "reconcile after a gap: {} budgeted requests ({} MUs)",
        budgeted(after).len(),
        bu.management_units.len()
    );
    let evs = events_after(&h.app, seq).await;
    assert_eq!(evs.len(), 1, "{evs:#?}");
    h.app.shutdown().await;
}
