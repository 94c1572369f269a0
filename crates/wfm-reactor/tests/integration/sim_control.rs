//! Simulator: the `/sim/` control routes a benchmark uses to drive a simulator that runs
//! in another process (presence flood, channel status).

use futures::StreamExt;
use serde_json::{Value, json};
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;
use wfm_testkit::SimBuilder;
use wfm_testkit::api::*;
use wfm_testkit::ws::*;

/// POSTs `body` to `/sim/flood` without a token; (status, JSON or Null).
async fn flood(base: &str, body: &Value) -> (u16, Value) {
    let resp = reqwest::Client::new()
        .post(format!("{base}/sim/flood"))
        .json(body)
        .send()
        .await
        .expect("flood request");
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

/// Collects presence frame topics on `ws` until none came for `quiet` (heartbeats do not
/// count as activity).
async fn count_presence(ws: &mut Ws, quiet: Duration) -> Vec<String> {
    let mut users = Vec::new();
    let mut deadline = tokio::time::Instant::now() + quiet;
    while let Ok(Some(Ok(msg))) = tokio::time::timeout_at(deadline, ws.next()).await {
        if let Message::Text(t) = msg {
            let v: Value = serde_json::from_str(t.as_str()).expect("json frame");
            if let Some(topic) = v["topicName"].as_str().filter(|t| t.ends_with(".presence")) {
                users.push(topic.to_string());
                deadline = tokio::time::Instant::now() + quiet;
            }
        }
    }
    users
}

#[tokio::test]
async fn flood_route_sends_total_over_the_named_users_or_every_agent() {
    let sim = SimBuilder::small().start().await;
    let agents = sim.org().agent_ids();
    let topics: Vec<String> = agents.iter().map(|u| format!("v2.users.{u}.presence")).collect();
    let refs: Vec<&str> = topics.iter().map(String::as_str).collect();
    let api = Api::login(&sim).await;
    let (ch, uri) = api.channel().await;
    assert_eq!(api.subscribe(&ch, &refs).await.0, 200);
    let mut ws = connect(&uri).await;
    assert!(
        sim.wait_for_channels(T, |c| c.iter().any(|c| c.id == ch && c.connected))
            .await
    );

    // The status route shows the connected channel and its topic count, without a token.
    let status: Value = reqwest::get(format!("{}/sim/channels", sim.base_url()))
        .await
        .expect("channels request")
        .json()
        .await
        .expect("channels json");
    assert_eq!(status[0]["id"], ch.as_str());
    assert_eq!(status[0]["connected"], true);
    assert_eq!(status[0]["topics"], agents.len());

    let listed: Vec<String> = reqwest::get(format!("{}/sim/agents", sim.base_url()))
        .await
        .expect("agents request")
        .json()
        .await
        .expect("agents json");
    assert_eq!(listed, agents);

    // Named users: only they get frames, round-robin.
    let two = &agents[..2];
    let (s, body) = flood(&sim.base_url(), &json!({"users": two, "total": 10})).await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(body["delivered"], 10);
    let got = count_presence(&mut ws, Duration::from_millis(300)).await;
    assert_eq!(got.len(), 10);
    assert!(got.iter().all(|t| t.contains(&two[0]) || t.contains(&two[1])));

    // null = every agent: one frame each per round.
    let total = agents.len() * 2;
    let (s, body) = flood(&sim.base_url(), &json!({"users": null, "total": total})).await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(body["delivered"], total);
    let got = count_presence(&mut ws, Duration::from_millis(300)).await;
    assert_eq!(got.len(), total);
    for t in &topics {
        assert_eq!(got.iter().filter(|g| *g == t).count(), 2, "{t}");
    }
}

#[tokio::test]
async fn flood_route_rejects_bad_requests_with_a_client_error() {
    let sim = SimBuilder::small().start().await;
    let (s, body) = flood(&sim.base_url(), &json!({"users": null, "total": 100_000_000})).await;
    assert_eq!(s, 400);
    assert!(body["message"].as_str().unwrap_or("").contains("limit"), "{body}");
    let (s, _) = flood(&sim.base_url(), &json!({"users": null})).await;
    assert!(
        (400..500).contains(&s),
        "missing total must be a client error, got {s}"
    );
}
