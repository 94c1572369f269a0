//! Upstream against the embedded simulator: tokens, sharding, and make-before-break
//! switches (socket_closing, token rollover) without loss or gap.

use genesys_sim::SimConfig;
use std::collections::BTreeSet;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::{Instant, timeout};
use wfm_reactor::auth::{AuthError, TokenProvider};
use wfm_reactor::config::Secret;
use wfm_reactor::notifications::channel::ChannelClient;
use wfm_reactor::topics::{Notification, UpstreamEvent, presence_topics};

use wfm_testkit::SimBuilder;
use wfm_testkit::manager::*;

#[tokio::test]
async fn token_is_refreshed_before_expiry_and_never_used_expired() {
    let sim = SimBuilder::from(SimConfig {
        token_lifetime: Duration::from_secs(1),
        // This test is about the token, not the channel: keep the channel alive across tokens.
        channels_bound_to_token: false,
        ..SimBuilder::closing_grace().config()
    })
    .start()
    .await;
    let client = ChannelClient::new(sim.base_url(), tokens(&sim), reqwest::Client::new());
    let (channel, _) = client.create().await.unwrap();
    let t0 = Instant::now();
    while t0.elapsed() < Duration::from_millis(2500) {
        assert!(client.exists(&channel.id).await.unwrap());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let log = sim.request_log();
    assert!(
        log.iter().all(|r| r.status != 401),
        "a request hit an expired token"
    );
    let used: BTreeSet<_> = log.iter().filter_map(|r| r.token.clone()).collect();
    assert!(used.len() >= 3, "tokens rotated: {}", used.len());
}

#[tokio::test]
async fn revoked_token_gets_one_refresh_and_the_call_succeeds() {
    let sim = SimBuilder::closing_grace().start().await;
    let client = ChannelClient::new(sim.base_url(), tokens(&sim), reqwest::Client::new());
    client.create().await.unwrap();
    sim.revoke_tokens();
    client.create().await.unwrap();
    let log = sim.request_log();
    assert_eq!(log.iter().filter(|r| r.status == 401).count(), 1);
    assert_eq!(log.iter().filter(|r| r.path == "/oauth/token").count(), 2);
}

#[tokio::test]
async fn bad_credentials_are_a_clear_error() {
    let sim = SimBuilder::closing_grace().start().await;
    let p = TokenProvider::new(
        sim.base_url(),
        "not-the-client".into(),
        Secret::new("x"),
        reqwest::Client::new(),
    );
    let err = p.token().await.unwrap_err();
    assert!(matches!(err, AuthError::InvalidClient { .. }), "{err:?}");
    assert!(err.to_string().contains("not-the-client"));
}

#[tokio::test]
async fn agents_2500_shard_into_three_channels() {
    let sim = SimBuilder::closing_grace().start().await;
    let (m, _rx) = manager(&sim, notifications());
    let users: Vec<String> = (0..2500)
        .map(|i| format!("00000000-0000-0000-0000-{i:012}"))
        .collect();
    let topics: BTreeSet<String> = presence_topics(&users, true).into_iter().collect();
    m.set_topics(topics.clone()).await.unwrap();
    assert!(
        sim.wait_for_channels(Duration::from_secs(8), |c| c.len() == 3
            && c.iter().all(|c| c.connected))
            .await
    );
    let chans = sim.channels();
    assert!(chans.iter().all(|c| c.topics.len() <= 1000));
    let all: Vec<String> = chans.iter().flat_map(|c| c.topics.clone()).collect();
    assert_eq!(all.len(), 2500, "each topic subscribed exactly once");
    assert_eq!(all.into_iter().collect::<BTreeSet<_>>(), topics);
    m.shutdown().await;
}

#[tokio::test]
async fn socket_closing_switches_sockets_with_every_event_once_and_no_gap() {
    let sim = SimBuilder::closing_grace().start().await;
    let users = agents(&sim);
    let (m, mut rx) = running(&sim, &users[..1]).await;
    let user = users[0].clone();
    let states = ["Available", "Away", "Busy", "On Queue", "Meal"];
    let mut sent = Vec::new();
    for i in 0..40 {
        if i == 15 {
            sim.send_socket_closing();
        }
        sent.push(sim.set_presence(&user, states[i % states.len()], true).unwrap());
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let mut got = Vec::new();
    while got.len() < sent.len() {
        match timeout(Duration::from_secs(3), rx.recv())
            .await
            .expect("all events arrive")
            .unwrap()
        {
            UpstreamEvent::Notification {
                notification: Notification::Presence(p),
                ..
            } => {
                got.push(p.modified_date.unwrap());
            }
            UpstreamEvent::Gap(g) => panic!("no gap expected: {g:?}"),
            UpstreamEvent::Notification { .. } => {}
        }
    }
    assert_eq!(
        sorted_dates(&sent),
        {
            got.sort();
            got
        },
        "every event exactly once"
    );
    assert_no_more_events(&mut rx).await;
    let upgrades = sim
        .request_log()
        .iter()
        .filter(|r| r.path.starts_with("/channels/"))
        .count();
    assert_eq!(upgrades, 2, "one new socket, to the same channel");
    m.shutdown().await;
}

fn sorted_dates(sent: &[String]) -> Vec<chrono::DateTime<chrono::Utc>> {
    let mut v: Vec<_> = sent.iter().map(|s| s.parse().unwrap()).collect();
    v.sort();
    v
}

/// Neither a duplicate nor a gap follows (heartbeats are not events).
async fn assert_no_more_events(rx: &mut mpsc::Receiver<UpstreamEvent>) {
    if let Ok(Some(ev)) = timeout(Duration::from_millis(300), rx.recv()).await {
        panic!("unexpected extra event: {ev:?}");
    }
}

#[tokio::test]
async fn token_rollover_moves_to_a_new_channel_without_loss_or_gap() {
    let sim = SimBuilder::from(SimConfig {
        token_lifetime: Duration::from_secs(2),
        ..SimBuilder::closing_grace().config()
    })
    .start()
    .await;
    let users = agents(&sim);
    let (m, mut rx) = running(&sim, &users[..1]).await;
    let first = sim.channels()[0].id.clone();
    let mut sent = Vec::new();
    let t0 = Instant::now();
    while t0.elapsed() < Duration::from_millis(2200) {
        sent.push(
            sim.set_presence(
                &users[0],
                if sent.len() % 2 == 0 { "Away" } else { "Available" },
                true,
            )
            .unwrap(),
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut got = Vec::new();
    while got.len() < sent.len() {
        match timeout(Duration::from_secs(3), rx.recv())
            .await
            .expect("all events arrive")
            .unwrap()
        {
            UpstreamEvent::Notification {
                notification: Notification::Presence(p),
                ..
            } => got.push(p.modified_date.unwrap()),
            UpstreamEvent::Gap(g) => panic!("no gap expected: {g:?}"),
            UpstreamEvent::Notification { .. } => {}
        }
    }
    got.sort();
    assert_eq!(
        got,
        sorted_dates(&sent),
        "every event exactly once across the rollover"
    );
    assert_no_more_events(&mut rx).await;
    let live: Vec<_> = sim
        .channels()
        .into_iter()
        .filter(|c| !c.topics.is_empty())
        .collect();
    assert_eq!(live.len(), 1, "old channel unsubscribed");
    assert_ne!(
        live[0].id, first,
        "rolled over to a channel created with the new token"
    );
    assert!(sim.request_log().iter().all(|r| r.status != 401));
    m.shutdown().await;
}
