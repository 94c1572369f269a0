//! Upstream recovery against the embedded simulator: a dropped socket, a `404` result and
//! an expired channel each recover with exactly one gap; a rejected topic names its
//! permission while the rest deliver; malformed frames are survived; shutdown is prompt.

use std::collections::BTreeSet;
use std::time::Duration;
use tokio::time::{Instant, timeout};
use wfm_reactor::config::NotificationsConfig;
use wfm_reactor::topics::{GapCause, bu_schedule_topic, presence_topics};
use wfm_testkit::SimBuilder;
use wfm_testkit::eventually;
use wfm_testkit::manager::*;

#[tokio::test]
async fn hard_drop_recovers_with_one_gap() {
    let sim = SimBuilder::closing_grace().start().await;
    let users = agents(&sim);
    let (m, mut rx) = running(&sim, &users[..2]).await;
    sim.drop_sockets();
    let gaps = deliver(&sim, &mut rx, &users[1]).await;
    assert_eq!(
        gaps.iter().map(|g| g.cause).collect::<Vec<_>>(),
        vec![GapCause::SocketDropped]
    );
    assert_eq!(gaps[0].topics.len(), 2);
    m.shutdown().await;
}

#[tokio::test]
async fn result_404_recovers_on_a_new_channel_with_one_gap() {
    let sim = SimBuilder::closing_grace().start().await;
    let users = agents(&sim);
    let (m, mut rx) = running(&sim, &users[..1]).await;
    let before = sim.channels()[0].id.clone();
    sim.expire_channels();
    let gaps = deliver(&sim, &mut rx, &users[0]).await;
    assert_eq!(
        gaps.iter().map(|g| g.cause).collect::<Vec<_>>(),
        vec![GapCause::ChannelLost]
    );
    assert_ne!(sim.channels()[0].id, before);
    m.shutdown().await;
}

#[tokio::test]
async fn expiry_while_disconnected_recovers_via_failed_head_with_one_gap() {
    let sim = SimBuilder::closing_grace().start().await;
    let users = agents(&sim);
    let (m, mut rx) = running(&sim, &users[..1]).await;
    sim.drop_sockets();
    sim.expire_channels();
    let gaps = deliver(&sim, &mut rx, &users[0]).await;
    assert_eq!(gaps.len(), 1, "{gaps:?}");
    assert!(matches!(
        gaps[0].cause,
        GapCause::ChannelLost | GapCause::SocketDropped
    ));
    assert_eq!(sim.channels().len(), 1);
    m.shutdown().await;
}

#[tokio::test]
async fn rejected_topic_names_the_permission_and_the_rest_deliver() {
    let sim = SimBuilder::closing_grace().start().await;
    sim.deny_permission("wfm:schedule:view");
    sim.deny_permission("wfm:publishedSchedule:view");
    let bu = sim.org().business_units[0].id.clone();
    let users = agents(&sim);
    let (m, mut rx) = manager(&sim, notifications());
    let mut topics: BTreeSet<String> = presence_topics(&users[..3], false).into_iter().collect();
    topics.insert(bu_schedule_topic(&bu));
    m.set_topics(topics).await.unwrap();
    eventually!(
        m.status().is_ready() && sim.channels().iter().any(|c| c.connected),
        "ready"
    );
    let status = m.status();
    let degraded = status
        .degraded
        .get(&bu_schedule_topic(&bu))
        .expect("BU topic degraded");
    assert!(
        degraded
            .missing_permissions
            .iter()
            .any(|p| p == "wfm:schedule:view"),
        "{degraded:?}"
    );
    let gaps = deliver(&sim, &mut rx, &users[2]).await;
    assert!(
        gaps.iter().all(|g| !g.topics.contains(&bu_schedule_topic(&bu))),
        "no gap for a rejected topic"
    );
    m.shutdown().await;
}

#[tokio::test]
async fn malformed_frames_are_counted_and_the_session_survives() {
    let recorder = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
    let handle = recorder.handle();
    let _guard = metrics::set_default_local_recorder(&recorder);
    let sim = SimBuilder::closing_grace().start().await;
    let users = agents(&sim);
    let (m, mut rx) = running(&sim, &users[..1]).await;
    let topic = format!("v2.users.{}.presence", users[0]);
    assert_eq!(
        sim.publish(
            &topic,
            serde_json::json!({"modifiedDate": 42, "presenceDefinition": "x"})
        ),
        1
    );
    let gaps = deliver(&sim, &mut rx, &users[0]).await;
    assert!(gaps.is_empty());
    let text = handle.render();
    assert!(
        text.contains("wfm_reactor_frames_rejected_total{reason=\"wrong_type\"} 1"),
        "{text}"
    );
    m.shutdown().await;
}

#[tokio::test]
async fn shutdown_during_backoff_is_prompt() {
    let sim = SimBuilder::closing_grace().start().await;
    sim.fail_next("POST /api/v2/notifications/channels", 100, 503, None);
    let cfg = NotificationsConfig {
        backoff_min: Duration::from_secs(30),
        backoff_max: Duration::from_secs(60),
        ..notifications()
    };
    let (m, _rx) = manager(&sim, cfg);
    m.set_topics(presence_topics(&agents(&sim)[..1], false).into_iter().collect())
        .await
        .unwrap();
    eventually!(
        sim.request_log().iter().any(|r| r.status == 503),
        "a failed create"
    );
    let t0 = Instant::now();
    timeout(Duration::from_secs(3), m.shutdown())
        .await
        .expect("prompt shutdown");
    assert!(t0.elapsed() < Duration::from_secs(1), "{:?}", t0.elapsed());
}
