//! Genesys's own adherence end to end against the simulator: the unit topics are
//! subscribed, a change emits one `wfm.adherence.changed` (`computedBy: "genesys"`) naming
//! the previous categories, a repeat emits nothing, a change missed while the socket was
//! down is found by the REST re-read after the gap (`cause: "reconcile"`) and nothing else
//! is emitted; a restart emits nothing; a refused topic is degraded and its unit falls
//! back to the local engine.

use std::time::Duration;
use wfm_testkit::eventually::eventually_value;
use wfm_testkit::outbox::*;
use wfm_testkit::{DaemonBuilder, SimBuilder, Upstream, file_events, start_app};

const READY: Duration = Duration::from_secs(8);

fn adherence_of<'a>(evs: &'a [serde_json::Value], user: &str) -> Vec<&'a serde_json::Value> {
    evs.iter()
        .filter(|e| e["type"] == "wfm.adherence.changed" && e["subject"] == user)
        .collect()
}

/// Waits until the file sink holds an adherence event of `user` with `actual` category.
async fn wait_for(dir: &std::path::Path, user: &str, actual: &str) -> Vec<serde_json::Value> {
    eventually_value(
        READY,
        "the adherence event",
        || {
            let evs = file_events(dir);
            async move { evs }
        },
        |evs| {
            adherence_of(evs, user)
                .iter()
                .any(|e| e["data"]["actualActivityCategory"] == actual)
        },
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unit_topics_are_subscribed_changes_emit_once_and_a_gap_is_re_read() {
    let d = DaemonBuilder::ops()
        .adherence(true)
        .start(SimBuilder::ops().start().await)
        .await;
    d.wait_ready(READY).await;
    let topics: Vec<String> = d.sim.channels().into_iter().flat_map(|c| c.topics).collect();
    let org = d.sim.org();
    for mu in org.business_units.iter().flat_map(|b| &b.management_units) {
        let topic = format!("v2.workforcemanagement.managementunits.{}.adherence", mu.id);
        assert!(topics.contains(&topic), "{topic} subscribed");
    }
    let user = d.agents()[0].clone();
    let dir = d.dir.path().to_path_buf();

    d.sim.set_presence(&user, "Meal", true).expect("presence");
    wait_for(&dir, &user, "Meal").await;
    // the same state again: nothing (the Training change below proves it was read)
    d.sim.set_presence(&user, "Meal", true).expect("presence");
    d.sim.set_presence(&user, "Training", true).expect("presence");
    let evs = wait_for(&dir, &user, "Training").await;
    let mine = adherence_of(&evs, &user);
    let meal: Vec<_> = mine
        .iter()
        .filter(|e| e["data"]["actualActivityCategory"] == "Meal")
        .collect();
    assert_eq!(meal.len(), 1, "one event per real change: {mine:?}");
    let training = mine.last().unwrap();
    assert_eq!(training["data"]["computedBy"], "genesys");
    assert_eq!(training["data"]["cause"], "notification");
    assert_eq!(training["data"]["previous"]["actualActivityCategory"], "Meal");
    let (_, rows) = d.get("/v1/adherence").await;
    let rows: Vec<serde_json::Value> = serde_json::from_str(&rows).unwrap();
    let row = rows.iter().find(|r| r["userId"] == user.as_str()).unwrap();
    assert_eq!(row["computedBy"], "genesys");
    assert_eq!(row["actualActivityCategory"], "Training");

    // Changed while nobody listened, then the socket drops: the re-read finds exactly it.
    let before = file_events(&dir).len();
    d.sim.set_presence(&user, "Meeting", false).expect("presence");
    d.sim.drop_sockets();
    let evs = wait_for(&dir, &user, "Meeting").await;
    let after: Vec<&serde_json::Value> = evs[before..]
        .iter()
        .filter(|e| e["type"] == "wfm.adherence.changed")
        .collect();
    assert_eq!(after.len(), 1, "only the missed change: {after:?}");
    assert_eq!(after[0]["data"]["cause"], "reconcile");
    assert_eq!(after[0]["data"]["computedBy"], "genesys");
    assert_eq!(after[0]["data"]["previous"]["actualActivityCategory"], "Training");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_on_the_same_store_emits_no_adherence_event() {
    let sim = SimBuilder::ops().start().await;
    let dir = tempfile::tempdir().unwrap();
    let config = || {
        DaemonBuilder::ops()
            .adherence(true)
            .config(&Upstream::of(&sim), dir.path())
    };
    let app = start_app(config(), &sim).await;
    let user = sim.org().business_units[0].management_units[0].agent_ids[0].clone();
    sim.set_presence(&user, "Meal", true).expect("presence");
    eventually_value(
        READY,
        "the Meal adherence event",
        || async { events_after(&app, 0).await },
        |evs| {
            evs.iter().any(|(_, e)| {
                e["type"] == "wfm.adherence.changed" && e["data"]["actualActivityCategory"] == "Meal"
            })
        },
    )
    .await;
    let seq = last_seq(&app).await;
    app.shutdown().await;
    let app = start_app(config(), &sim).await;
    let evs: Vec<_> = events_after(&app, seq)
        .await
        .into_iter()
        .map(|(_, v)| v)
        .collect();
    assert!(
        of_type(&evs, "wfm.adherence.changed").is_empty(),
        "nothing changed while down: {evs:?}"
    );
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_unit_topic_is_degraded_and_falls_back_to_the_local_engine() {
    let sim = SimBuilder::ops().start().await;
    sim.deny_permission("wfm:realtimeAdherence:view");
    let d = DaemonBuilder::ops().adherence(true).start(sim).await;
    d.wait_ready(READY).await;
    let (_, ready) = d.readyz().await;
    let degraded = ready["degraded"].to_string();
    assert!(
        degraded.contains(".adherence"),
        "the unit topics are degraded: {ready}"
    );
    let user = d.agents()[0].clone();
    d.sim.set_presence(&user, "Meal", true).expect("presence");
    let evs = wait_for(d.dir.path(), &user, "Meal").await;
    let last = *adherence_of(&evs, &user).last().unwrap();
    assert_eq!(last["data"]["computedBy"], "local");
    assert_eq!(last["data"]["systemPresence"], "Meal");
}
