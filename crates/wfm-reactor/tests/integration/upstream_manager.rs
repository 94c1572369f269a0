//! The channel manager end to end against a small scripted stub (its own `stub` module).

mod stub;

use serde_json::json;
use std::collections::BTreeSet;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::{Instant, timeout};
use tokio_util::sync::CancellationToken;
use wfm_reactor::auth::TokenProvider;
use wfm_reactor::config::{NotificationsConfig, Secret};
use wfm_reactor::notifications::{ChannelManager, ManagerHandle};
use wfm_reactor::topics::{Gap, GapCause, Notification, UpstreamEvent, presence_topics};
use wfm_testkit::eventually;
use wfm_testkit::manager::{next_gap, presence_of as expect_presence};

fn config() -> NotificationsConfig {
    NotificationsConfig {
        backoff_min: Duration::from_millis(20),
        backoff_max: Duration::from_millis(200),
        heartbeat_timeout: Duration::from_secs(5),
        pong_timeout: Duration::from_secs(2),
        ..NotificationsConfig::default()
    }
}

fn spawn(base: &str, cfg: NotificationsConfig) -> (ManagerHandle, mpsc::Receiver<UpstreamEvent>) {
    let http = reqwest::Client::new();
    let tokens = TokenProvider::new(base.into(), "id".into(), Secret::new("s"), http.clone());
    let (tx, rx) = mpsc::channel(10_000);
    (
        ChannelManager::spawn(base.into(), tokens, http, cfg, tx, CancellationToken::new()),
        rx,
    )
}

fn presence_body() -> serde_json::Value {
    json!({"presenceDefinition": {"id": "p1", "systemPresence": "Available"}, "modifiedDate": "2026-08-15T08:00:00Z"})
}

/// Publishes to `user` until the manager receives it (the topic may be mid-reconnect).
async fn deliver(stub: &stub::Stub, rx: &mut mpsc::Receiver<UpstreamEvent>, user: &str) -> Vec<Gap> {
    eventually!(
        stub.publish(&format!("v2.users.{user}.presence"), presence_body()) > 0,
        "a socket subscribed to the user"
    );
    expect_presence(rx, user).await
}

async fn started(
    users: &[&str],
) -> (
    std::sync::Arc<stub::Stub>,
    ManagerHandle,
    mpsc::Receiver<UpstreamEvent>,
) {
    let (stub, base) = stub::start().await;
    let (m, mut rx) = spawn(&base, config());
    m.set_topics(presence_topics(users, false).into_iter().collect())
        .await
        .unwrap();
    let gap = next_gap(&mut rx).await;
    assert_eq!(gap.cause, GapCause::Start);
    eventually!(m.status().is_ready() && stub.connected_sockets() == 1, "ready");
    (stub, m, rx)
}

#[tokio::test]
async fn start_emits_one_gap_then_delivers() {
    let (stub, m, mut rx) = started(&["a", "b"]).await;
    assert!(deliver(&stub, &mut rx, "a").await.is_empty());
    let status = m.status();
    assert_eq!(status.channels.len(), 1);
    assert!(
        status
            .channels
            .values()
            .all(|c| c.subscribed && c.connected && c.topics == 2)
    );
    m.shutdown().await;
    assert!(
        stub.channels
            .lock()
            .unwrap()
            .values()
            .all(|c| c.topics.is_empty()),
        "shutdown removes subscriptions"
    );
}

#[tokio::test]
async fn hard_drop_recovers_with_exactly_one_gap() {
    let (stub, m, mut rx) = started(&["a"]).await;
    stub.drop_sockets();
    let gaps = deliver(&stub, &mut rx, "a").await;
    assert_eq!(gaps.len(), 1, "{gaps:?}");
    assert_eq!(gaps[0].cause, GapCause::SocketDropped);
    assert_eq!(gaps[0].topics, vec!["v2.users.a.presence"]);
    assert_eq!(stub.creates.load(Ordering::SeqCst), 1, "same channel reused");
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(rx.try_recv().is_err(), "no second gap");
    m.shutdown().await;
}

#[tokio::test]
async fn result_404_replaces_the_channel_with_one_gap() {
    let (stub, m, mut rx) = started(&["a"]).await;
    stub.kill_channels();
    let gaps = deliver(&stub, &mut rx, "a").await;
    assert_eq!(
        gaps.iter().map(|g| g.cause).collect::<Vec<_>>(),
        vec![GapCause::ChannelLost]
    );
    assert_eq!(
        stub.creates.load(Ordering::SeqCst),
        2,
        "a new channel was created"
    );
    m.shutdown().await;
}

#[tokio::test]
async fn socket_closing_switches_without_loss_or_gap() {
    let (stub, m, mut rx) = started(&["a"]).await;
    let publisher = {
        let stub = stub.clone();
        tokio::spawn(async move {
            for i in 0..60u32 {
                if i == 20 {
                    stub.socket_closing();
                }
                let body =
                    json!({"presenceDefinition": {"id": format!("p{i}"), "systemPresence": "Available"}});
                assert_eq!(
                    stub.publish("v2.users.a.presence", body),
                    1,
                    "always a socket to deliver to"
                );
                tokio::time::sleep(Duration::from_millis(3)).await;
            }
        })
    };
    publisher.await.unwrap();
    let mut seen = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(5);
    while seen.len() < 60 && Instant::now() < deadline {
        match timeout(Duration::from_millis(500), rx.recv()).await {
            Ok(Some(UpstreamEvent::Notification {
                notification: Notification::Presence(p),
                ..
            })) => seen.push(p.presence_definition_id.unwrap()),
            Ok(Some(UpstreamEvent::Gap(g))) => panic!("unexpected gap {g:?}"),
            Ok(Some(_)) => {}
            _ => break,
        }
    }
    let unique: BTreeSet<_> = seen.iter().cloned().collect();
    assert_eq!((seen.len(), unique.len()), (60, 60), "every event exactly once");
    let log = stub.log_lines();
    let connects: Vec<_> = log.iter().filter(|l| l.starts_with("connect")).collect();
    assert_eq!(connects.len(), 2, "{log:?}");
    let second = log.iter().position(|l| l == connects[1]).unwrap();
    let first_close = log.iter().position(|l| l.starts_with("close")).unwrap();
    assert!(second < first_close, "new socket before the old closed: {log:?}");
    m.shutdown().await;
}

#[tokio::test]
async fn many_agents_shard_over_three_channels() {
    let (stub, base) = stub::start().await;
    let (m, mut rx) = spawn(&base, config());
    let users: Vec<String> = (0..2500).map(|i| format!("user-{i:04}")).collect();
    let topics: BTreeSet<String> = presence_topics(&users, true).into_iter().collect();
    m.set_topics(topics.clone()).await.unwrap();
    for _ in 0..3 {
        assert_eq!(next_gap(&mut rx).await.cause, GapCause::Start);
    }
    eventually!(
        m.status().is_ready() && m.status().channels.len() == 3,
        "3 channels ready"
    );
    let per_channel: Vec<BTreeSet<String>> = stub
        .channels
        .lock()
        .unwrap()
        .values()
        .map(|c| c.topics.clone())
        .collect();
    assert_eq!(per_channel.len(), 3);
    assert!(per_channel.iter().all(|t| t.len() <= 1000));
    let all: Vec<String> = per_channel.into_iter().flatten().collect();
    assert_eq!(all.len(), 2500, "each topic subscribed once");
    assert_eq!(all.into_iter().collect::<BTreeSet<_>>(), topics);
    m.shutdown().await;
}

#[tokio::test]
async fn too_many_topics_is_refused_with_the_capacity() {
    let (_stub, base) = stub::start().await;
    let mut cfg = config();
    cfg.max_topics_per_channel = 10;
    cfg.max_channels = 2;
    let (m, _rx) = spawn(&base, cfg);
    let users: Vec<String> = (0..25).map(|i| format!("u{i}")).collect();
    let err = m
        .set_topics(presence_topics(&users, false).into_iter().collect())
        .await
        .unwrap_err();
    assert_eq!(err.capacity, 20);
    assert!(m.status().error.unwrap().contains("at most 20 topics fit"));
    m.shutdown().await;
}

#[tokio::test]
async fn adding_topics_posts_only_the_new_ones_with_a_gap_for_them() {
    let (stub, m, mut rx) = started(&["a"]).await;
    m.set_topics(presence_topics(["a", "b"], false).into_iter().collect())
        .await
        .unwrap();
    let gap = next_gap(&mut rx).await;
    assert_eq!(
        (gap.cause, gap.topics.clone()),
        (GapCause::TopicsAdded, vec!["v2.users.b.presence".to_string()])
    );
    assert!(
        stub.log_lines()
            .iter()
            .any(|l| l.starts_with("post ") && l.ends_with(" 1")),
        "{:?}",
        stub.log_lines()
    );
    assert!(deliver(&stub, &mut rx, "b").await.is_empty());
    m.shutdown().await;
}

#[tokio::test]
async fn shutdown_during_backoff_returns_promptly() {
    let (stub, base) = stub::start().await;
    stub.fail_create.store(1, Ordering::SeqCst);
    let mut cfg = config();
    cfg.backoff_min = Duration::from_secs(30);
    cfg.backoff_max = Duration::from_secs(60);
    let (m, _rx) = spawn(&base, cfg);
    m.set_topics(presence_topics(["a"], false).into_iter().collect())
        .await
        .unwrap();
    eventually!(stub.creates.load(Ordering::SeqCst) >= 1, "a failed create");
    tokio::time::sleep(Duration::from_millis(50)).await;
    let t0 = Instant::now();
    timeout(Duration::from_secs(2), m.shutdown())
        .await
        .expect("shutdown within 2 s");
    assert!(t0.elapsed() < Duration::from_secs(1), "{:?}", t0.elapsed());
}

#[tokio::test]
async fn at_the_platform_cap_one_channel_stays_spare_for_rollover() {
    let (_stub, base) = stub::start().await;
    let cfg = NotificationsConfig {
        max_topics_per_channel: 10,
        max_channels: 20,
        ..config()
    };
    let (m, _rx) = spawn(&base, cfg);
    let users: Vec<String> = (0..195).map(|i| format!("u{i}")).collect();
    let err = m
        .set_topics(presence_topics(&users, false).into_iter().collect())
        .await
        .unwrap_err();
    assert_eq!(err.capacity, 190);
    m.shutdown().await;
}
