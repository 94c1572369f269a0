//! Simulator: the notification websocket (envelope, heartbeat, ping, one socket per
//! channel, socket_closing, dead channels, combined topics, websocket subscribe).

use genesys_sim::SimHandle;
use serde_json::json;
use std::time::Duration;
use wfm_testkit::SimBuilder;
use wfm_testkit::api::*;
use wfm_testkit::ws::*;

/// A logged-in client with one connected channel subscribed to `topics`.
async fn setup(sim: &SimHandle, topics: &[&str]) -> (Api, String, String, Ws) {
    let api = Api::login(sim).await;
    let (ch, uri) = api.channel().await;
    assert_eq!(api.subscribe(&ch, topics).await.0, 200);
    let ws = connect(&uri).await;
    assert!(
        sim.wait_for_channels(T, |c| c.iter().any(|c| c.id == ch && c.connected))
            .await
    );
    (api, ch, uri, ws)
}

#[tokio::test]
async fn heartbeat_arrives_at_configured_interval() {
    let sim = SimBuilder::small().start().await;
    let (_api, _ch, _uri, mut ws) = setup(&sim, &[]).await;
    let started = tokio::time::Instant::now();
    for _ in 0..2 {
        let f = next_json(&mut ws, Duration::from_secs(1)).await.unwrap();
        assert_eq!(f["topicName"], "channel.metadata");
        assert_eq!(f["eventBody"]["message"], "WebSocket Heartbeat");
    }
    assert!(
        started.elapsed() >= Duration::from_millis(150),
        "two beats take about 200 ms"
    );
}

#[tokio::test]
async fn ping_gets_pong() {
    let sim = SimBuilder::small().start().await;
    let (_api, _ch, _uri, mut ws) = setup(&sim, &[]).await;
    send_json(&mut ws, &json!({"message": "ping"})).await;
    let f = next_event(&mut ws, T).await.unwrap();
    assert_eq!(f["topicName"], "channel.metadata");
    assert_eq!(f["eventBody"]["message"], "pong");
}

#[tokio::test]
async fn published_event_has_envelope_and_combined_topics_expand() {
    let sim = SimBuilder::small().start().await;
    let user = sim.org().agent_ids()[0].clone();
    let combined = format!("v2.users.{user}?presence&routingStatus");
    let (_api, _ch, _uri, mut ws) = setup(&sim, &[&combined]).await;
    let modified = sim.set_presence(&user, "On Queue", true).unwrap();
    let f = next_event(&mut ws, T).await.unwrap();
    assert_eq!(f["topicName"], format!("v2.users.{user}.presence"));
    assert_eq!(f["version"], "2");
    assert!(f["metadata"]["CorrelationId"].is_string());
    assert_eq!(f["eventBody"]["presenceDefinition"]["systemPresence"], "On Queue");
    assert_eq!(f["eventBody"]["modifiedDate"], modified.as_str());
    sim.set_routing_status(&user, "IDLE", true).unwrap();
    let f = next_event(&mut ws, T).await.unwrap();
    assert_eq!(f["topicName"], format!("v2.users.{user}.routingStatus"));
    assert_eq!(f["eventBody"]["routingStatus"]["status"], "IDLE");
    assert_eq!(f["eventBody"]["id"], user.as_str());
    // Unsubscribed topics are not delivered.
    assert_eq!(sim.publish("v2.users.someone-else.presence", json!({})), 0);
    assert_eq!(
        sim.publish(&format!("v2.users.{user}.presence"), json!({"x": 1})),
        1
    );
}

#[tokio::test]
async fn second_socket_kicks_the_first() {
    let sim = SimBuilder::small().start().await;
    let (_api, ch, uri, mut first) = setup(&sim, &["v2.users.a.presence"]).await;
    let mut second = connect(&uri).await;
    // The first socket is closed by the server.
    let mut closed = false;
    for _ in 0..20 {
        if next_json(&mut first, T).await.is_none() {
            closed = true;
            break;
        }
    }
    assert!(closed, "first socket must be closed");
    assert!(
        sim.wait_for_channels(T, |c| c.iter().any(|c| c.id == ch && c.connected))
            .await
    );
    sim.publish("v2.users.a.presence", json!({"n": 1}));
    assert_eq!(next_event(&mut second, T).await.unwrap()["eventBody"]["n"], 1);
}

#[tokio::test]
async fn socket_closing_then_forced_close_after_grace() {
    let sim = SimBuilder::small().start().await;
    let (_api, _ch, _uri, mut ws) = setup(&sim, &[]).await;
    let sent = tokio::time::Instant::now();
    sim.send_socket_closing();
    let f = next_event(&mut ws, T).await.unwrap();
    assert_eq!(f["topicName"], "v2.system.socket_closing");
    loop {
        if next_json(&mut ws, T).await.is_none() {
            break;
        }
    }
    assert!(
        sent.elapsed() >= Duration::from_millis(190),
        "closed only after the 200 ms grace"
    );
}

#[tokio::test]
async fn reconnecting_within_grace_keeps_the_new_socket() {
    let sim = SimBuilder::small().start().await;
    let (_api, ch, uri, mut old) = setup(&sim, &["v2.users.a.presence"]).await;
    sim.send_socket_closing();
    assert_eq!(
        next_event(&mut old, T).await.unwrap()["topicName"],
        "v2.system.socket_closing"
    );
    let mut new = connect(&uri).await;
    assert!(
        sim.wait_for_channels(T, |c| c.iter().any(|c| c.id == ch && c.connected))
            .await
    );
    tokio::time::sleep(Duration::from_millis(300)).await; // past the grace
    assert!(
        sim.channels()[0].connected,
        "the replacement socket survives the forced close"
    );
    sim.publish("v2.users.a.presence", json!({"n": 2}));
    assert_eq!(next_event(&mut new, T).await.unwrap()["eventBody"]["n"], 2);
}

#[tokio::test]
async fn expired_channel_gets_404_result_and_close() {
    let sim = SimBuilder::small().start().await;
    let (_api, _ch, uri, mut ws) = setup(&sim, &[]).await;
    sim.expire_channels();
    let f = next_event(&mut ws, T).await.unwrap();
    assert_eq!(f["result"], "404");
    assert!(next_json(&mut ws, T).await.is_none());
    // Connecting again to the dead channel: 404 result then close.
    let mut again = connect(&uri).await;
    assert_eq!(next_event(&mut again, T).await.unwrap()["result"], "404");
    assert!(next_json(&mut again, T).await.is_none());
}

#[tokio::test]
async fn websocket_subscribe_message_adds_topics() {
    let sim = SimBuilder::small().start().await;
    let (_api, ch, _uri, mut ws) = setup(&sim, &[]).await;
    send_json(
        &mut ws,
        &json!({"message": "subscribe", "topics": ["v2.users.q.presence"], "correlationId": "c1"}),
    )
    .await;
    let f = next_event(&mut ws, T).await.unwrap();
    assert_eq!(f["result"], "200");
    assert_eq!(f["status"], "subscribed");
    assert_eq!(f["correlationId"], "c1");
    assert!(
        sim.channels()
            .iter()
            .any(|c| c.id == ch && c.topics == vec!["v2.users.q.presence".to_string()])
    );
    send_json(
        &mut ws,
        &json!({"message": "subscribe", "topics": [], "correlationId": "c2"}),
    )
    .await;
    assert_eq!(next_event(&mut ws, T).await.unwrap()["result"], "400");
}

#[tokio::test]
async fn drop_sockets_closes_but_keeps_channel() {
    let sim = SimBuilder::small().start().await;
    let (_api, ch, _uri, mut ws) = setup(&sim, &["v2.users.a.presence"]).await;
    sim.drop_sockets();
    assert!(next_json(&mut ws, T).await.is_none());
    let chans = sim.channels();
    assert_eq!(chans.len(), 1);
    assert_eq!(chans[0].id, ch);
    assert!(!chans[0].connected);
}
