//! Simulator: benchmark helpers (presence flood, schedule burst, request counting).

use futures::StreamExt;
use genesys_sim::{AgentPick, Emit, ScheduleChange, SimHandle};
use serde_json::Value;
use std::collections::HashMap;
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;
use wfm_testkit::SimBuilder;
use wfm_testkit::api::*;
use wfm_testkit::ws::*;

/// A logged-in client with one connected channel subscribed to `topics`.
async fn setup(sim: &SimHandle, topics: &[&str]) -> (Api, Ws) {
    let api = Api::login(sim).await;
    let (ch, uri) = api.channel().await;
    assert_eq!(api.subscribe(&ch, topics).await.0, 200);
    let ws = connect(&uri).await;
    assert!(
        sim.wait_for_channels(T, |c| c.iter().any(|c| c.id == ch && c.connected))
            .await
    );
    (api, ws)
}

/// Reads presence frames until `want` arrived or none came for `quiet` (heartbeats do
/// not count as activity).
async fn read_presence(ws: &mut Ws, want: usize, quiet: Duration) -> Vec<Value> {
    let mut got = Vec::new();
    let mut deadline = tokio::time::Instant::now() + quiet;
    while got.len() < want {
        let Ok(Some(Ok(msg))) = tokio::time::timeout_at(deadline, ws.next()).await else {
            break;
        };
        if let Message::Text(t) = msg {
            let v: Value = serde_json::from_str(t.as_str()).expect("json frame");
            if v["topicName"].as_str().is_some_and(|t| t.ends_with(".presence")) {
                got.push(v);
                deadline = tokio::time::Instant::now() + quiet;
            }
        }
    }
    got
}

#[tokio::test]
async fn flood_delivers_exactly_total_real_changes_through_combined_topics() {
    let sim = SimBuilder::small().start().await;
    let users: Vec<String> = sim.org().agent_ids().into_iter().take(3).collect();
    let topics: Vec<String> = users
        .iter()
        .map(|u| format!("v2.users.{u}?presence&routingStatus"))
        .collect();
    let refs: Vec<&str> = topics.iter().map(String::as_str).collect();
    let (api, mut ws) = setup(&sim, &refs).await;
    let total = 3_000;
    let flood = tokio::spawn({
        let sim = sim.clone();
        let users = users.clone();
        async move { sim.flood_presence(&users, total).await }
    });
    let mut got = read_presence(&mut ws, total, T).await;
    assert_eq!(flood.await.unwrap(), total);
    assert_eq!(got.len(), total);
    let extra = read_presence(&mut ws, 1, Duration::from_millis(300)).await;
    assert!(extra.is_empty(), "exactly total frames, no more: {extra:?}");
    got.extend(extra);
    // Per user: strictly increasing modifiedDate and a changed presence every time.
    let mut last: HashMap<String, (String, String)> = HashMap::new();
    for f in &got {
        let topic = f["topicName"].as_str().unwrap();
        let user = topic
            .trim_start_matches("v2.users.")
            .trim_end_matches(".presence");
        assert!(users.iter().any(|u| u == user), "{topic}");
        let date = f["eventBody"]["modifiedDate"].as_str().unwrap().to_string();
        let presence = f["eventBody"]["presenceDefinition"]["systemPresence"]
            .as_str()
            .unwrap()
            .to_string();
        if let Some((d, p)) = last.get(user) {
            assert!(date > *d, "modifiedDate must increase: {d} then {date}");
            assert_ne!(presence, *p, "every event is a change");
        }
        last.insert(user.to_string(), (date, presence));
    }
    assert_eq!(last.len(), 3, "round-robin over every user");
    // REST presence follows the last event.
    let (s, rest) = api
        .get(&format!("/api/v2/users/{}/presences/purecloud", users[0]))
        .await;
    assert_eq!(s, 200);
    assert_eq!(rest["modifiedDate"], last[&users[0]].0.as_str());
    assert_eq!(
        rest["presenceDefinition"]["systemPresence"],
        last[&users[0]].1.as_str()
    );
}

#[tokio::test]
async fn flood_keeps_rest_routes_served_and_a_second_flood_continues_the_clock() {
    let sim = SimBuilder::small().start().await;
    let user = sim.org().agent_ids()[0].clone();
    let topic = format!("v2.users.{user}.presence");
    let (api, mut ws) = setup(&sim, &[&topic]).await;
    let flood = tokio::spawn({
        let sim = sim.clone();
        let users = vec![user.clone()];
        async move { sim.flood_presence(&users, 2_000).await }
    });
    // A REST call during the flood is answered.
    let (s, _) = api.get("/api/v2/workforcemanagement/businessunits").await;
    assert_eq!(s, 200);
    let first = read_presence(&mut ws, 2_000, T).await;
    assert_eq!(flood.await.unwrap(), 2_000);
    assert_eq!(first.len(), 2_000);
    let last_date = first[1_999]["eventBody"]["modifiedDate"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(sim.flood_presence(std::slice::from_ref(&user), 1).await, 1);
    let second = read_presence(&mut ws, 1, T).await;
    assert!(second[0]["eventBody"]["modifiedDate"].as_str().unwrap() > last_date.as_str());
}

#[tokio::test]
async fn flood_without_subscribers_or_known_users_delivers_nothing() {
    let sim = SimBuilder::small().start().await;
    let user = sim.org().agent_ids()[0].clone();
    assert_eq!(sim.flood_presence(std::slice::from_ref(&user), 10).await, 0);
    let (_api, _ws) = setup(&sim, &["v2.users.nobody.presence"]).await;
    assert_eq!(sim.flood_presence(&["nobody".to_string()], 10).await, 0);
}

#[tokio::test]
async fn request_count_and_log_since() {
    let sim = SimBuilder::small().start().await;
    let api = Api::login(&sim).await;
    api.get("/api/v2/workforcemanagement/businessunits").await;
    let mark = tokio::time::Instant::now();
    api.get("/api/v2/workforcemanagement/businessunits").await;
    api.channel().await;
    assert_eq!(sim.request_count("/businessunits"), 2);
    assert_eq!(sim.request_count("GET /businessunits"), 2);
    assert_eq!(sim.request_count("POST /businessunits"), 0);
    assert_eq!(sim.request_count("POST /notifications/channels"), 1);
    let since: Vec<String> = sim
        .request_log_since(mark)
        .iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert_eq!(
        since,
        vec![
            "GET /api/v2/workforcemanagement/businessunits".to_string(),
            "POST /api/v2/notifications/channels".to_string(),
        ]
    );
}

#[tokio::test]
async fn burst_schedules_applies_every_change_in_order() {
    let sim = SimBuilder::small().start().await;
    let org = sim.org();
    let bu = &org.business_units[0];
    let published: Vec<_> = org
        .schedules_of(&bu.id)
        .into_iter()
        .filter(|s| s.published)
        .collect();
    let change = |schedule_id: &str| ScheduleChange {
        business_unit_id: bu.id.clone(),
        schedule_id: schedule_id.to_string(),
        management_unit_id: None,
        agents: AgentPick::Count(2),
        emit: Emit::Silent,
    };
    let results = sim.burst_schedules(vec![
        change(&published[0].id),
        change("no-such-schedule"),
        change(&published[0].id),
    ]);
    assert_eq!(results.len(), 3);
    assert!(results[0].is_ok() && results[1].is_err() && results[2].is_ok());
    let version = sim
        .org()
        .schedules
        .iter()
        .find(|s| s.id == published[0].id)
        .unwrap()
        .version;
    assert_eq!(version, published[0].version + 2, "both edits applied");
}
