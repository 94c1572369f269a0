//! Upstream resilience against the simulator: a refused combined topic is split so its
//! permitted part keeps flowing, channels are resubscribed before they expire, and a
//! silent (half-open) socket is detected by ping/pong and replaced with one gap.

use genesys_sim::SimConfig;
use std::time::Duration;
use tokio::time::{Instant, timeout};
use wfm_reactor::config::NotificationsConfig;
use wfm_reactor::notifications::channel::ChannelClient;
use wfm_reactor::topics::{GapCause, Notification, UpstreamEvent, presence_topics};
use wfm_reactor::wfm::RateBudget;
use wfm_testkit::SimBuilder;
use wfm_testkit::eventually;
use wfm_testkit::manager::*;

#[tokio::test]
async fn refused_combined_topic_is_split_and_presence_keeps_flowing() {
    let sim = SimBuilder::upstream().start().await;
    sim.deny_permission("routing:agent:view");
    let users = agents(&sim);
    let (m, mut rx) = manager(&sim, notifications());
    m.set_topics(set(presence_topics(&users[..2], true)))
        .await
        .unwrap();
    let start = next_gap(&mut rx).await;
    assert_eq!(start.cause, GapCause::Start);
    let mut gap_topics = start.topics.clone();
    gap_topics.sort();
    assert_eq!(
        gap_topics,
        presence_topics(&users[..2], false),
        "the start gap covers the permitted parts only"
    );
    eventually!(m.status().is_ready(), "ready");

    let status = m.status();
    for u in &users[..2] {
        let part = format!("v2.users.{u}.routingStatus");
        let d = status.degraded.get(&part).expect("routing status part degraded");
        assert_eq!(d.missing_permissions, vec!["routing:agent:view".to_string()]);
    }
    assert!(
        status.degraded.keys().all(|t| !t.contains('?')),
        "only the refused part is degraded, not the combined topic: {:?}",
        status.degraded.keys()
    );
    let gaps = deliver(&sim, &mut rx, &users[1]).await;
    assert!(gaps.is_empty(), "{gaps:?}");
    let routing = format!("v2.users.{}.routingStatus", users[1]);
    assert_eq!(
        sim.publish(&routing, serde_json::json!({})),
        0,
        "refused part not subscribed"
    );

    // A user added later goes through the same split (POST path).
    m.set_topics(set(presence_topics(&users[..3], true)))
        .await
        .unwrap();
    let added = next_gap(&mut rx).await;
    assert_eq!(added.cause, GapCause::TopicsAdded);
    assert_eq!(added.topics, vec![format!("v2.users.{}.presence", users[2])]);
    assert!(deliver(&sim, &mut rx, &users[2]).await.is_empty());
    assert!(deliver(&sim, &mut rx, &users[0]).await.is_empty());
    let mut subscribed = sim.channels()[0].topics.clone();
    subscribed.sort();
    assert_eq!(subscribed, presence_topics(&users[..3], false));
    assert!(
        m.status()
            .degraded
            .contains_key(&format!("v2.users.{}.routingStatus", users[2]))
    );
    m.shutdown().await;
}

#[tokio::test]
async fn channel_is_resubscribed_before_it_expires_without_a_gap() {
    let sim = SimBuilder::from(SimConfig {
        channel_lifetime: Duration::from_secs(2),
        ..SimBuilder::upstream().config()
    })
    .start()
    .await;
    let users = agents(&sim);
    let cfg = NotificationsConfig {
        expiry_margin: Duration::from_secs(1),
        ..notifications()
    };
    let (m, mut rx) = manager(&sim, cfg);
    m.set_topics(set(presence_topics(&users[..1], false)))
        .await
        .unwrap();
    assert_eq!(next_gap(&mut rx).await.cause, GapCause::Start);
    eventually!(m.status().is_ready(), "ready");
    let channel = sim.channels()[0].id.clone();

    // Events keep flowing across three channel lifetimes' worth of resubscriptions.
    let mut sent = Vec::new();
    let t0 = Instant::now();
    while t0.elapsed() < Duration::from_millis(3500) {
        let state = if sent.len() % 2 == 0 { "Away" } else { "Available" };
        sent.push(sim.set_presence(&users[0], state, true).unwrap());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut got = 0;
    while got < sent.len() {
        match timeout(Duration::from_secs(2), rx.recv())
            .await
            .expect("event in time")
            .unwrap()
        {
            UpstreamEvent::Notification {
                notification: Notification::Presence(_),
                ..
            } => got += 1,
            UpstreamEvent::Gap(g) => panic!("no gap expected: {g:?}"),
            UpstreamEvent::Notification { .. } => {}
        }
    }
    let chans = sim.channels();
    assert_eq!(chans.len(), 1);
    assert_eq!(chans[0].id, channel, "the same channel lives on");
    assert!(chans[0].connected);
    let log = sim.request_log();
    let creates = log
        .iter()
        .filter(|r| r.method == "POST" && r.path == "/api/v2/notifications/channels")
        .count();
    assert_eq!(creates, 1, "never recreated");
    let resubscribes = log
        .iter()
        .filter(|r| r.method == "PUT" && r.path.ends_with(&format!("{channel}/subscriptions")))
        .count();
    assert!(
        resubscribes >= 3,
        "initial subscription plus at least two extensions: {resubscribes}"
    );
    m.shutdown().await;
}

#[tokio::test]
async fn silent_socket_is_pinged_replaced_and_reported_by_one_gap() {
    let recorder = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
    let metrics = recorder.handle();
    let _guard = metrics::set_default_local_recorder(&recorder);
    let sim = SimBuilder::from(SimConfig {
        heartbeat_interval: Duration::from_millis(100),
        ..SimBuilder::upstream().config()
    })
    .start()
    .await;
    let users = agents(&sim);
    let cfg = NotificationsConfig {
        heartbeat_timeout: Duration::from_millis(300),
        pong_timeout: Duration::from_millis(200),
        ..notifications()
    };
    let (m, mut rx) = manager(&sim, cfg);
    m.set_topics(set(presence_topics(&users[..1], false)))
        .await
        .unwrap();
    assert_eq!(next_gap(&mut rx).await.cause, GapCause::Start);
    eventually!(m.status().is_ready(), "ready");
    assert!(deliver(&sim, &mut rx, &users[0]).await.is_empty());

    sim.mute_sockets(true);
    sim.set_presence(&users[0], "Away", true).unwrap(); // lost on the silent socket
    let gap = next_gap(&mut rx).await;
    assert_eq!(gap.cause, GapCause::HeartbeatTimeout);
    assert_eq!(gap.topics, vec![format!("v2.users.{}.presence", users[0])]);
    sim.mute_sockets(false);

    let gaps = deliver(&sim, &mut rx, &users[0]).await;
    assert!(gaps.is_empty(), "exactly one gap: {gaps:?}");
    assert_quiet(&mut rx, Duration::from_millis(800)).await;
    let upgrades = sim
        .request_log()
        .iter()
        .filter(|r| r.path.starts_with("/channels/"))
        .count();
    assert_eq!(upgrades, 2, "one replacement socket");
    let text = metrics.render();
    let pings: u64 = text
        .lines()
        .find_map(|l| l.strip_prefix("wfm_reactor_heartbeats_missed_total "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    assert!(pings >= 1, "a ping was sent before giving up: {text}");
    m.shutdown().await;
}

#[tokio::test]
async fn rate_limit_pauses_are_shared_with_the_rest_budget_both_ways() {
    let sim = SimBuilder::upstream().start().await;
    let budget = RateBudget::new(240, 4);
    let client =
        ChannelClient::new(sim.base_url(), tokens(&sim), reqwest::Client::new()).with_budget(budget.clone());
    let (channel, _) = client.create().await.unwrap();

    // A 429 here pauses the budget (the WFM client's calls) for exactly Retry-After...
    sim.fail_next("HEAD /api/v2/notifications/channels", 1, 429, Some(1));
    let t0 = Instant::now();
    let err = client.exists(&channel.id).await.unwrap_err();
    assert_eq!(err.retry_after(), Some(Duration::from_secs(1)));
    let until = budget.paused_until().expect("budget paused by the 429");
    assert!(until >= t0 + Duration::from_millis(900), "{:?}", until - t0);
    // ...and the next call here waits it out instead of hitting the limit again.
    assert!(client.exists(&channel.id).await.unwrap());
    assert!(t0.elapsed() >= Duration::from_secs(1), "{:?}", t0.elapsed());

    // A pause set by another caller holds these calls back too.
    budget.pause_for(Duration::from_millis(300));
    let t1 = Instant::now();
    assert!(client.exists(&channel.id).await.unwrap());
    assert!(t1.elapsed() >= Duration::from_millis(300), "{:?}", t1.elapsed());
    let limited = sim.request_log().iter().filter(|r| r.status == 429).count();
    assert_eq!(limited, 1);
}
