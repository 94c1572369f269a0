//! The reactor's adherence path in paused time, with a real store and no network: an On
//! Queue agent goes out of adherence when its scheduled break starts (no presence change),
//! back in when its presence becomes Break, and a restart emits nothing. The unit's
//! adherence topic is refused in every test: that is how a unit in `mode = "auto"` comes
//! to the local engine.

use super::tests::{context, watching};
use super::*;
use crate::store::{Batch, StateChange};
use crate::topics::PresenceUpdate;
use chrono::{DateTime, Utc};

fn at(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// On queue from 30 minutes ago for 40 minutes, then a 15-minute break.
fn schedule_json(now: DateTime<Utc>) -> String {
    let act = |start: DateTime<Utc>, len: i64, cat: &str| {
        serde_json::json!({"startDate": at(start), "lengthMinutes": len, "activityCodeId": cat,
            "activityCode": {"name": cat, "category": cat}, "description": null, "paid": true})
    };
    let start = now - chrono::Duration::minutes(30);
    let brk = start + chrono::Duration::minutes(40);
    serde_json::json!({"shifts": [{"id": "sh", "startDate": at(start), "lengthMinutes": 55,
        "activities": [act(start, 40, "OnQueueWork"), act(brk, 15, "Break")]}],
        "fullDayTimeOffMarkers": []})
    .to_string()
}

/// Stores u1's published schedule (see [`schedule_json`]) as a fetch would have.
async fn seed_schedule(store: &crate::store::Store, now: DateTime<Utc>) {
    let seed = Batch {
        changes: vec![StateChange::AgentSchedule {
            schedule_id: "s".into(),
            mu_id: "mu".into(),
            user_id: "u1".into(),
            hash: "h".into(),
            canonical_json: schedule_json(now),
        }],
        events: vec![],
    };
    store.commit(seed).await.unwrap();
}

fn presence(user: &str, p: &str) -> UpstreamEvent {
    UpstreamEvent::Notification {
        notification: Notification::Presence(PresenceUpdate {
            user_id: user.into(),
            system_presence: Some(p.into()),
            presence_definition_id: Some(format!("{p}-id")),
            modified_date: Some(Utc::now()),
            source: None,
        }),
        topic: format!("v2.users.{user}.presence"),
        received_at: Instant::now(),
    }
}

/// The unit's adherence topic was refused (as the upstream reports before a reconcile):
/// in `mode = "auto"` the unit falls back to the local engine.
fn refuse_unit_topic(reactor: &mut Reactor) {
    let refused: std::collections::BTreeSet<String> =
        [crate::topics::mu_adherence_topic("mu")].into_iter().collect();
    let shared = refused.clone();
    reactor.watch_refusals(Arc::new(move || shared.clone()));
    reactor
        .adherence
        .set_refused(&refused, reactor.presence.batch_mut());
}

/// Commits what the reactor decided; returns the adherence events' data, in order.
async fn commit(reactor: &mut Reactor) -> Vec<serde_json::Value> {
    let before = *reactor.ctx.store.committed().borrow();
    reactor.drain_commits().await;
    let events = reactor.ctx.store.read_outbox(before, 100).await.unwrap();
    events
        .iter()
        .map(|e| serde_json::from_str::<serde_json::Value>(&e.json).unwrap())
        .filter(|v| v["type"] == "wfm.adherence.changed")
        .collect()
}

#[tokio::test(start_paused = true)]
async fn a_scheduled_break_takes_an_on_queue_agent_out_then_break_presence_brings_it_back() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = context(dir.path());
    let (_tx, rx) = mpsc::channel(1);
    let (mut reactor, _h) = Reactor::new(ctx.clone(), watching(&["u1"]), rx);
    refuse_unit_topic(&mut reactor);
    // Schedules carry milliseconds.
    let now = DateTime::from_timestamp_millis(reactor.adherence.wall().timestamp_millis()).unwrap();
    seed_schedule(&ctx.store, now).await;
    reactor.load().await.unwrap();
    reactor.on_upstream(presence("u1", "On Queue"));
    let held = commit(&mut reactor).await;
    assert!(held.is_empty(), "nothing decided before the first reconcile");
    reactor.first.listed(vec![]); // the first reconcile found nothing to fetch
    let first = commit(&mut reactor).await;
    assert_eq!(first.len(), 1);
    assert_eq!(first[0]["data"]["adherenceState"], "InAdherence");
    assert_eq!(
        first[0]["data"]["cause"], "snapshot",
        "first start: the agent's first state"
    );

    // No presence change: the timer for the break fires at its start.
    let boundary = reactor.adherence.deadline().expect("a boundary is armed");
    let wall_boundary = now + chrono::Duration::minutes(10);
    assert_eq!(boundary, reactor.adherence.clock_instant(wall_boundary));
    tokio::time::sleep_until(boundary).await;
    reactor.adherence.due(reactor.presence.batch_mut());
    let out = commit(&mut reactor).await;
    assert_eq!(out.len(), 1, "{out:?}");
    let d = &out[0]["data"];
    assert_eq!(d["adherenceState"], "OutOfAdherence");
    assert_eq!(d["scheduledActivityCategory"], "Break");
    assert_eq!(d["previous"]["adherenceState"], "InAdherence");
    assert_eq!(d["cause"], "boundary");
    assert_eq!(d["adherenceChangeTime"], at(wall_boundary));
    assert_eq!(out[0]["time"], at(wall_boundary));

    reactor.on_upstream(presence("u1", "Break"));
    let back = commit(&mut reactor).await;
    assert_eq!(back.len(), 1);
    assert_eq!(back[0]["data"]["adherenceState"], "InAdherence");
    assert_eq!(back[0]["data"]["actualActivityCategory"], "Break");
    // A repeat of the same presence changes nothing.
    reactor.on_upstream(presence("u1", "Break"));
    assert!(commit(&mut reactor).await.is_empty());
    let clock = reactor.adherence.clock();
    drop(reactor);

    // Restart on the same store: the state still holds, nothing is emitted.
    let (_tx, rx) = mpsc::channel(1);
    let (mut again, handle) = Reactor::new(ctx.clone(), watching(&["u1"]), rx);
    refuse_unit_topic(&mut again);
    again.adherence.set_clock(clock);
    again.load().await.unwrap();
    again.first.listed(vec![]);
    assert!(
        commit(&mut again).await.is_empty(),
        "restart emits nothing spurious"
    );
    let ask = tokio::spawn(async move { handle.adherence(None).await });
    let msg = again.messages.recv().await.unwrap();
    again.on_message(msg);
    let view = ask.await.unwrap().unwrap();
    assert_eq!(view.len(), 1);
    assert_eq!(view[0].adherence_state, "InAdherence");
    assert_eq!(view[0].since, at(reactor_wall_since(&back[0])));
}

fn reactor_wall_since(event: &serde_json::Value) -> DateTime<Utc> {
    let t = event["data"]["adherenceChangeTime"].as_str().unwrap();
    DateTime::parse_from_rfc3339(t).unwrap().with_timezone(&Utc)
}

#[tokio::test(start_paused = true)]
async fn a_restart_after_a_boundary_passed_emits_that_change_once_as_a_reconcile() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = context(dir.path());
    let (_tx, rx) = mpsc::channel(1);
    let (mut reactor, _h) = Reactor::new(ctx.clone(), watching(&["u1"]), rx);
    refuse_unit_topic(&mut reactor);
    let now = DateTime::from_timestamp_millis(reactor.adherence.wall().timestamp_millis()).unwrap();
    seed_schedule(&ctx.store, now).await;
    reactor.load().await.unwrap();
    reactor.first.listed(vec![]);
    reactor.on_upstream(presence("u1", "On Queue"));
    assert_eq!(commit(&mut reactor).await.len(), 1);
    let clock = reactor.adherence.clock();
    drop(reactor);

    // Down for 12 minutes: the break began meanwhile.
    let (_tx, rx) = mpsc::channel(1);
    let (mut again, _h) = Reactor::new(ctx.clone(), watching(&["u1"]), rx);
    refuse_unit_topic(&mut again);
    again
        .adherence
        .set_clock(clock.shifted(chrono::Duration::minutes(12)));
    again.load().await.unwrap();
    again.first.listed(vec![]);
    let out = commit(&mut again).await;
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(out[0]["data"]["adherenceState"], "OutOfAdherence");
    assert_eq!(out[0]["data"]["cause"], "reconcile");
    assert_eq!(
        out[0]["data"]["previous"]["scheduledActivityCategory"],
        "OnQueueWork"
    );
}
