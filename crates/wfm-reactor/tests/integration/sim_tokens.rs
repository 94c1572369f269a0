//! Simulator: a channel dies with the token that created it (revoked, expired by
//! `expire_tokens`, or past its lifetime), detected lazily and pushed on the heartbeat.

use genesys_sim::{SimConfig, SimHandle};
use serde_json::json;
use std::time::Duration;
use tokio::time::Instant;
use wfm_testkit::SimBuilder;
use wfm_testkit::api::*;
use wfm_testkit::ws::*;

/// A logged-in client with one connected channel subscribed to `v2.users.a.presence`.
async fn setup(sim: &SimHandle) -> (Api, String, String, Ws) {
    let api = Api::login(sim).await;
    let (ch, uri) = api.channel().await;
    assert_eq!(api.subscribe(&ch, &["v2.users.a.presence"]).await.0, 200);
    let ws = connect(&uri).await;
    assert!(
        sim.wait_for_channels(T, |c| c.iter().any(|c| c.id == ch && c.connected))
            .await
    );
    (api, ch, uri, ws)
}

/// HEAD status of a channel as seen by `api`.
async fn head(api: &Api, ch: &str) -> u16 {
    api.http
        .head(format!("{}/api/v2/notifications/channels/{ch}", api.base))
        .bearer_auth(&api.token)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// Asserts a connect to `uri` gets `{"result":"404"}` then a close.
async fn assert_connect_gone(uri: &str) {
    let mut ws = connect(uri).await;
    assert_eq!(next_event(&mut ws, T).await.unwrap()["result"], "404");
    assert!(next_json(&mut ws, T).await.is_none());
}

#[tokio::test]
async fn revoked_token_kills_its_channels_with_token_revoked_then_404() {
    let sim = SimBuilder::small().start().await;
    let (_api, ch, uri, mut ws) = setup(&sim).await;
    sim.revoke_tokens();
    let f = next_event(&mut ws, T).await.unwrap();
    assert_eq!(f["topicName"], format!("v2.system.token_revoked.{ch}"));
    assert_eq!(f["eventBody"]["channelId"], ch.as_str());
    assert_eq!(f["eventBody"]["systemTopicType"], "token_revoked");
    assert_eq!(f["eventBody"]["reason"], "user_tokens_revoked");
    assert!(f["eventBody"]["message"].is_string());
    assert_eq!(next_event(&mut ws, T).await.unwrap()["result"], "404");
    assert!(next_json(&mut ws, T).await.is_none(), "then the socket closes");

    let fresh = Api::login(&sim).await;
    assert_eq!(head(&fresh, &ch).await, 404);
    let subs = format!("/api/v2/notifications/channels/{ch}/subscriptions");
    assert_eq!(fresh.get(&subs).await.0, 404);
    assert_eq!(fresh.subscribe(&ch, &["v2.users.b.presence"]).await.0, 404);
    assert_connect_gone(&uri).await;
    assert!(sim.channels().is_empty());
    // The new token's channels live.
    let (mine, _) = fresh.channel().await;
    assert_eq!(head(&fresh, &mine).await, 200);
}

#[tokio::test]
async fn expire_tokens_kills_channels_with_404_and_no_revoked_message() {
    let sim = SimBuilder::small().start().await;
    let (_api, _ch, _uri, mut ws) = setup(&sim).await;
    sim.expire_tokens();
    let f = next_event(&mut ws, T).await.unwrap();
    assert_eq!(f["result"], "404", "expiry is not a revocation: {f}");
    assert!(next_json(&mut ws, T).await.is_none());
    assert!(sim.channels().is_empty());
}

#[tokio::test]
async fn token_lifetime_expiry_is_detected_lazily_on_access() {
    let lifetime = Duration::from_millis(400);
    let sim = SimBuilder::from(SimConfig {
        token_lifetime: lifetime,
        heartbeat_interval: Duration::from_secs(30), // no push: only access detects it
        ..SimBuilder::small().config()
    })
    .start()
    .await;
    let api = Api::login(&sim).await;
    let (ch, uri) = api.channel().await;
    assert_eq!(api.subscribe(&ch, &["v2.users.a.presence"]).await.0, 200);
    assert_eq!(head(&api, &ch).await, 200);
    tokio::time::sleep(lifetime).await; // the lifetime itself is what is under test
    let fresh = Api::login(&sim).await;
    assert_eq!(head(&fresh, &ch).await, 404);
    let subs = format!("/api/v2/notifications/channels/{ch}/subscriptions");
    assert_eq!(fresh.get(&subs).await.0, 404);
    assert_connect_gone(&uri).await;
}

#[tokio::test]
async fn token_lifetime_expiry_is_pushed_to_the_socket_on_heartbeat() {
    let lifetime = Duration::from_millis(400);
    let sim = SimBuilder::from(SimConfig {
        token_lifetime: lifetime,
        ..SimBuilder::small().config() // 100 ms heartbeat
    })
    .start()
    .await;
    let issued = Instant::now();
    let (_api, _ch, _uri, mut ws) = setup(&sim).await;
    let f = next_event(&mut ws, T).await.unwrap();
    assert_eq!(f["result"], "404", "{f}");
    assert!(issued.elapsed() >= lifetime, "not before the token's lifetime");
    assert!(next_json(&mut ws, T).await.is_none());
}

#[tokio::test]
async fn dead_token_channel_gets_no_events_even_before_reaping() {
    let lifetime = Duration::from_millis(300);
    let sim = SimBuilder::from(SimConfig {
        token_lifetime: lifetime,
        heartbeat_interval: Duration::from_secs(30),
        ..SimBuilder::small().config()
    })
    .start()
    .await;
    let (_api, _ch, _uri, _ws) = setup(&sim).await;
    assert_eq!(sim.publish("v2.users.a.presence", json!({"n": 1})), 1);
    tokio::time::sleep(lifetime).await;
    assert_eq!(sim.publish("v2.users.a.presence", json!({"n": 2})), 0);
}

#[tokio::test]
async fn unbound_channels_survive_their_token() {
    let sim = SimBuilder::from(SimConfig {
        channels_bound_to_token: false,
        ..SimBuilder::small().config()
    })
    .start()
    .await;
    let (_api, ch, _uri, mut ws) = setup(&sim).await;
    sim.revoke_tokens();
    sim.expire_tokens();
    let fresh = Api::login(&sim).await;
    assert_eq!(head(&fresh, &ch).await, 200);
    assert_eq!(sim.publish("v2.users.a.presence", json!({"n": 3})), 1);
    assert_eq!(next_event(&mut ws, T).await.unwrap()["eventBody"]["n"], 3);
}
