//! End to end, presence path: a real change emits one event with the right `previous`;
//! a duplicate (same content, same `modifiedDate`) and a stale one (older `modifiedDate`)
//! emit nothing.

use serde_json::json;
use wfm_testkit::outbox::*;
use wfm_testkit::{DaemonBuilder, SimBuilder};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicate_and_stale_presence_emit_nothing_and_a_real_change_names_previous() {
    let h = DaemonBuilder::reactor()
        .start(SimBuilder::reactor(1, 20).start().await)
        .await;
    // A user whose snapshot presence is neither of the two this test sets.
    let snapshot: Vec<_> = events_after(&h.app, 0)
        .await
        .into_iter()
        .map(|(_, v)| v)
        .collect();
    let initial = of_type(&snapshot, "presence.changed")
        .into_iter()
        .find(|e| !["Away", "Busy"].contains(&e["data"]["systemPresence"].as_str().unwrap()))
        .expect("a snapshot presence")["data"]
        .clone();
    let user = initial["userId"].as_str().unwrap().to_string();
    let topic = format!("v2.users.{user}.presence");
    let seq = last_seq(&h.app).await;

    // 1. A real change: previous is what the snapshot recorded.
    let away_at = h.sim.set_presence(&user, "Away", true).unwrap();
    let evs = wait_events(&h.app, seq, "the first change", |e| !e.is_empty()).await;
    assert_eq!(evs.len(), 1, "{evs:#?}");
    let away = &evs[0]["data"];
    assert_eq!(evs[0]["type"], "presence.changed");
    assert_eq!(away["userId"], user.as_str());
    assert_eq!(away["systemPresence"], "Away");
    assert_eq!(away["cause"], "notification");
    assert_eq!(away["modifiedDate"], away_at.as_str());
    assert_eq!(
        away["previous"],
        json!({"systemPresence": initial["systemPresence"], "presenceDefinitionId": initial["presenceDefinitionId"]})
    );
    let away_id = away["presenceDefinitionId"].as_str().unwrap().to_string();

    // 2. The same notification again (redelivery): a duplicate.
    let body = |system: &str, id: &str, at: &str| {
        json!({"source": "PURECLOUD", "presenceDefinition": {"id": id, "systemPresence": system},
               "primary": true, "message": "", "modifiedDate": at})
    };
    assert_eq!(h.sim.publish(&topic, body("Away", &away_id, &away_at)), 1);
    // 3. An older notification with other content (late delivery): stale.
    let older = (chrono::DateTime::parse_from_rfc3339(&away_at).unwrap() - chrono::Duration::minutes(5))
        .to_utc()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let initial_id = initial["presenceDefinitionId"].as_str().unwrap();
    let initial_system = initial["systemPresence"].as_str().unwrap();
    assert_eq!(h.sim.publish(&topic, body(initial_system, initial_id, &older)), 1);
    // 4. A later real change: the socket delivers in order, so once it is emitted, 2 and
    //    3 have been decided.
    let busy_at = h.sim.set_presence(&user, "Busy", true).unwrap();
    let evs = wait_events(&h.app, seq, "the second change", |e| e.len() >= 2).await;
    let evs: Vec<_> = evs
        .into_iter()
        .filter(|e| e["data"]["userId"] == user.as_str())
        .collect();
    assert_eq!(evs.len(), 2, "duplicate and stale emitted nothing: {evs:#?}");
    let busy = &evs[1]["data"];
    assert_eq!(busy["systemPresence"], "Busy");
    assert_eq!(busy["modifiedDate"], busy_at.as_str());
    assert_eq!(
        busy["previous"],
        json!({"systemPresence": "Away", "presenceDefinitionId": away_id})
    );
    let all = events_after(&h.app, seq).await;
    assert_eq!(all.len(), 2, "nothing else emitted: {all:#?}");
    let stored = h.app.store.presence(&user).await.unwrap().unwrap();
    assert_eq!(stored.system_presence, "Busy");
    h.app.shutdown().await;
}
