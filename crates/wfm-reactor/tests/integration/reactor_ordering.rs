//! End to end, presence ordering: one user flooded with thousands of changes while other
//! users change too. A consumer applies events in outbox `sequence` order, so for every
//! user those events must never go back in time, and each one's `previous` must be what
//! that user's event before it said: otherwise the consumer ends on a stale presence.

use serde_json::Value;
use std::collections::HashMap;
use std::time::Duration;
use wfm_testkit::outbox::*;
use wfm_testkit::{DaemonBuilder, SimBuilder, eventually_within};

/// Changes flooded onto the one hot user.
const HOT: usize = 20_000;
/// Changes spread round-robin over the other users meanwhile.
const OTHERS: usize = 5_000;

/// The (presence, definition) pair an event sets, as its successor's `previous` names it.
fn presence_of(data: &Value) -> Value {
    serde_json::json!({
        "systemPresence": data["systemPresence"],
        "presenceDefinitionId": data["presenceDefinitionId"],
    })
}

/// Every place where a user's events, in sequence order, go back in time or name a
/// `previous` other than that user's event before.
fn violations(events: &[(u64, Value)]) -> Vec<String> {
    let mut last: HashMap<&str, (u64, &Value)> = HashMap::new();
    let mut found = Vec::new();
    for (seq, e) in events.iter().filter(|(_, e)| e["type"] == "presence.changed") {
        let data = &e["data"];
        let user = data["userId"].as_str().unwrap();
        if let Some((prev_seq, prev)) = last.get(user) {
            let (before, now) = (prev["modifiedDate"].as_str(), data["modifiedDate"].as_str());
            let parse = |d: Option<&str>| chrono::DateTime::parse_from_rfc3339(d.unwrap()).unwrap();
            if parse(now) < parse(before) {
                found.push(format!(
                    "user {user}: seq {seq} modifiedDate {} older than seq {prev_seq} {}",
                    now.unwrap(),
                    before.unwrap()
                ));
            }
            if data["previous"] != presence_of(prev) {
                found.push(format!(
                    "user {user}: seq {seq} previous {} but seq {prev_seq} set {}",
                    data["previous"],
                    presence_of(prev)
                ));
            }
        }
        last.insert(user, (*seq, data));
    }
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flooded_user_and_its_neighbours_get_their_events_in_order() {
    let h = DaemonBuilder::reactor()
        .start(SimBuilder::reactor(1, 20).start().await)
        .await;
    let users = h.sim.org().agent_ids();
    let (hot, others) = (vec![users[0].clone()], users[1..].to_vec());
    let seq0 = last_seq(&h.app).await;
    // Two floods at once on disjoint users: each keeps its users' dates increasing.
    let (a, b) = tokio::join!(
        h.sim.flood_presence(&hot, HOT),
        h.sim.flood_presence(&others, OTHERS)
    );
    assert_eq!((a, b), (HOT, OTHERS), "one subscribed socket got every frame");
    // Every flooded frame is a real change, so each one ends as one event.
    let want = seq0 + (HOT + OTHERS) as u64;
    let app = &h.app;
    let within = Duration::from_secs(30);
    eventually_within(within, "every flooded change is in the outbox", || async move {
        !app.store.read_outbox(want - 1, 1).await.unwrap().is_empty()
    })
    .await;
    let events = events_after(&h.app, 0).await;
    let found = violations(&events);
    assert!(
        found.is_empty(),
        "{} ordering violations in {} events; first ones:\n{}",
        found.len(),
        events.len(),
        found.iter().take(10).cloned().collect::<Vec<_>>().join("\n")
    );
    h.app.shutdown().await;
}
