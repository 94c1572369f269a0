//! A reconcile's presence at the fewest calls: where the unit adherence route is permitted
//! the reconcile takes presence (and routing status) from its answer and makes no bulk
//! presence call, yet emits exactly the presence changes made during a gap, as the
//! presence route would describe them; refused (topic or route), it reads in bulk as
//! before; both paths agree, so switching from one to the other emits nothing.

use genesys_sim::{LoggedRequest, SimHandle};
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::Duration;
use wfm_testkit::api::Api;
use wfm_testkit::outbox::*;
use wfm_testkit::{DaemonBuilder, SimBuilder, Upstream, start_app};

const PERMISSION: &str = "wfm:realtimeAdherence:view";

fn calls<'a>(log: &'a [LoggedRequest], route: &str) -> Vec<&'a LoggedRequest> {
    log.iter().filter(|r| r.path.contains(route)).collect()
}

fn bulk(log: &[LoggedRequest]) -> usize {
    calls(log, "/presences/purecloud/bulk").len()
}

fn config(sim: &SimHandle, dir: &std::path::Path, routing: bool) -> wfm_reactor::config::Config {
    DaemonBuilder::reactor()
        .adherence(true)
        .tweak(move |c| c.watch.routing_status = routing)
        .config(&Upstream::of(sim), dir)
}

/// Presence events after `seq`, by user.
async fn presence_after(app: &wfm_reactor::app::RunningApp, seq: u64) -> BTreeMap<String, Value> {
    let evs: Vec<Value> = events_after(app, seq).await.into_iter().map(|(_, v)| v).collect();
    of_type(&evs, "presence.changed")
        .into_iter()
        .map(|e| (e["subject"].as_str().unwrap().to_string(), e["data"].clone()))
        .collect()
}

/// Two agents whose snapshot presence is neither Meal nor Training (what the gap sets).
fn two_to_change(snapshot: &BTreeMap<String, Value>) -> Vec<String> {
    snapshot
        .iter()
        .filter(|(_, d)| !["Meal", "Training"].contains(&d["systemPresence"].as_str().unwrap()))
        .map(|(u, _)| u.clone())
        .take(2)
        .collect()
}

/// Changes two agents' presence silently, drops the sockets, and waits until the gap's
/// reconcile emitted both and the daemon went quiet; returns the events after `seq`.
async fn gap_with_two_changes(
    app: &wfm_reactor::app::RunningApp,
    sim: &SimHandle,
    users: &[String],
) -> BTreeMap<String, Value> {
    let seq = last_seq(app).await;
    sim.set_presence(&users[0], "Meal", false).unwrap();
    sim.set_presence(&users[1], "Training", false).unwrap();
    sim.drop_sockets();
    wait_events(app, seq, "both missed presence changes", |evs| {
        of_type(evs, "presence.changed").len() >= 2
    })
    .await;
    quiesce(app, Duration::from_millis(800), Duration::from_secs(20))
        .await
        .unwrap();
    presence_after(app, seq).await
}

/// The presence route's own answer for `user` (the form every presence event must have).
async fn route_presence(api: &Api, user: &str) -> Value {
    let (s, p) = api
        .get(&format!("/api/v2/users/{user}/presences/purecloud"))
        .await;
    assert_eq!(s, 200);
    p
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_adherence_route_no_bulk_presence_call_and_exactly_the_gap_changes() {
    let sim = SimBuilder::reactor(1, 25).start().await;
    let dir = tempfile::tempdir().unwrap();
    let app = start_app(config(&sim, dir.path(), false), &sim).await;
    let log = sim.request_log();
    assert_eq!(bulk(&log), 0, "the snapshot read presence from the unit answers");
    assert!(!calls(&log, "/adherence").is_empty());
    let snapshot = presence_after(&app, 0).await;
    let agents = wfm_testkit::org::bu_agents(&sim);
    assert_eq!(snapshot.len(), agents.len(), "every agent's presence");
    let api = Api::login(&sim).await;
    let sample = &agents[3];
    let route = route_presence(&api, sample).await;
    let first = &snapshot[sample];
    assert_eq!(
        first["systemPresence"],
        route["presenceDefinition"]["systemPresence"]
    );
    assert_eq!(first["presenceDefinitionId"], route["presenceDefinition"]["id"]);
    assert_eq!(first["modifiedDate"], route["modifiedDate"]);
    assert_eq!(first["source"], "PURECLOUD");

    let mark = sim.request_log().len();
    let users = two_to_change(&snapshot);
    let after = gap_with_two_changes(&app, &sim, &users).await;
    let log = sim.request_log();
    assert_eq!(bulk(&log[mark..]), 0, "no bulk presence call after the gap");
    assert!(
        !calls(&log[mark..], "/adherence").is_empty(),
        "the gap was reconciled"
    );
    assert_eq!(
        after.keys().collect::<Vec<_>>(),
        users.iter().collect::<Vec<_>>(),
        "exactly the two: {after:?}"
    );
    for (user, display) in users.iter().zip(["Meal", "Training"]) {
        let e = &after[user];
        let route = route_presence(&api, user).await;
        assert_eq!(e["systemPresence"], display);
        assert_eq!(e["presenceDefinitionId"], route["presenceDefinition"]["id"]);
        assert_eq!(e["modifiedDate"], route["modifiedDate"]);
        assert_eq!(e["cause"], "reconcile");
        assert_eq!(e["source"], "PURECLOUD");
        assert_eq!(e["previous"]["systemPresence"], snapshot[user]["systemPresence"]);
        assert_eq!(
            e["previous"]["presenceDefinitionId"],
            snapshot[user]["presenceDefinitionId"]
        );
    }
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_permission_refused_a_reconcile_reads_presence_in_bulk() {
    let sim = SimBuilder::reactor(1, 25).start().await;
    sim.deny_permission(PERMISSION);
    let dir = tempfile::tempdir().unwrap();
    let app = start_app(config(&sim, dir.path(), false), &sim).await;
    assert!(bulk(&sim.request_log()) > 0, "the snapshot read presence in bulk");
    let mark = sim.request_log().len();
    let users = two_to_change(&presence_after(&app, 0).await);
    let after = gap_with_two_changes(&app, &sim, &users).await;
    assert!(
        bulk(&sim.request_log()[mark..]) > 0,
        "bulk presence after the gap"
    );
    assert_eq!(after.len(), 2, "exactly the two: {after:?}");
    assert_eq!(after[&users[0]]["systemPresence"], "Meal");
    assert_eq!(after[&users[1]]["cause"], "reconcile");
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_adherence_route_falls_back_to_bulk_for_its_unit() {
    let sim = SimBuilder::reactor(1, 25).start().await;
    let dir = tempfile::tempdir().unwrap();
    let app = start_app(config(&sim, dir.path(), false), &sim).await;
    let units = sim.org().business_units[0].management_units.len();
    // the topic stays accepted; only the route answers 403, for every unit, many times
    sim.fail_next("GET /adherence", units * 20, 403, None);
    let mark = sim.request_log().len();
    let users = two_to_change(&presence_after(&app, 0).await);
    let after = gap_with_two_changes(&app, &sim, &users).await;
    sim.clear_faults();
    assert!(
        bulk(&sim.request_log()[mark..]) > 0,
        "bulk presence for the refused units"
    );
    assert_eq!(after.len(), 2, "exactly the two: {after:?}");
    assert_eq!(after[&users[1]]["systemPresence"], "Training");
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_paths_agree_so_moving_from_bulk_to_the_unit_answer_emits_nothing() {
    let sim = SimBuilder::reactor(1, 25).tweak(|c| c.seed = 5).start().await;
    let dir = tempfile::tempdir().unwrap();
    sim.deny_permission(PERMISSION);
    let app = start_app(config(&sim, dir.path(), true), &sim).await;
    assert!(bulk(&sim.request_log()) > 0);
    let seq = last_seq(&app).await;
    app.shutdown().await;
    sim.allow_permission(PERMISSION);
    let mark = sim.request_log().len();
    let app = start_app(config(&sim, dir.path(), true), &sim).await;
    quiesce(&app, Duration::from_millis(800), Duration::from_secs(20))
        .await
        .unwrap();
    let evs: Vec<Value> = events_after(&app, seq)
        .await
        .into_iter()
        .map(|(_, v)| v)
        .collect();
    let log = sim.request_log();
    assert_eq!(bulk(&log[mark..]), 0, "presence came from the unit answers");
    assert!(of_type(&evs, "presence.changed").is_empty(), "{evs:?}");
    assert!(of_type(&evs, "routing.status.changed").is_empty(), "{evs:?}");
    assert!(
        calls(&log[mark..], "/routingstatus").is_empty(),
        "every routing status agreed: no routing call"
    );
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_a_changed_routing_status_is_read_and_keeps_its_start_time() {
    let sim = SimBuilder::reactor(1, 25).start().await;
    let dir = tempfile::tempdir().unwrap();
    let app = start_app(config(&sim, dir.path(), true), &sim).await;
    let agents = wfm_testkit::org::bu_agents(&sim);
    let user = agents[2].clone();
    let seq = last_seq(&app).await;
    let mark = sim.request_log().len();
    sim.set_routing_status(&user, "NOT_RESPONDING", false).unwrap();
    sim.drop_sockets();
    wait_events(&app, seq, "the missed routing change", |evs| {
        !of_type(evs, "routing.status.changed").is_empty()
    })
    .await;
    quiesce(&app, Duration::from_millis(800), Duration::from_secs(20))
        .await
        .unwrap();
    let evs: Vec<Value> = events_after(&app, seq)
        .await
        .into_iter()
        .map(|(_, v)| v)
        .collect();
    let routing = of_type(&evs, "routing.status.changed");
    assert_eq!(routing.len(), 1, "{routing:?}");
    let log = sim.request_log();
    let api = Api::login(&sim).await;
    let (_, r) = api.get(&format!("/api/v2/users/{user}/routingstatus")).await;
    assert_eq!(routing[0]["data"]["status"], "NOT_RESPONDING");
    assert_eq!(routing[0]["data"]["startTime"], r["startTime"]);
    assert_eq!(routing[0]["data"]["cause"], "reconcile");
    let read: Vec<&str> = calls(&log[mark..], "/routingstatus")
        .iter()
        .map(|c| c.path.as_str())
        .collect();
    let own = format!("/api/v2/users/{user}/routingstatus");
    assert!(
        read.iter().all(|p| *p == own),
        "only the changed user's status was read: {read:?}"
    );
    assert!(!read.is_empty());
    app.shutdown().await;
}
