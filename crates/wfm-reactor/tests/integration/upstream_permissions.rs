//! A permission granted while the daemon runs takes effect without a restart: refused
//! topics are asked for again every `notifications.rejected_retry`, leave the degraded
//! list once accepted, and get a gap so the reactor reads their current state.

use std::time::Duration;
use wfm_reactor::config::NotificationsConfig;
use wfm_reactor::topics::{GapCause, presence_topics};
use wfm_testkit::SimBuilder;
use wfm_testkit::eventually;
use wfm_testkit::manager::*;

fn retrying() -> NotificationsConfig {
    NotificationsConfig {
        rejected_retry: Duration::from_millis(200),
        ..notifications()
    }
}

#[tokio::test]
async fn a_refused_part_of_a_combined_topic_is_subscribed_once_permitted() {
    let sim = SimBuilder::upstream().start().await;
    sim.deny_permission("routing:agent:view");
    let users = agents(&sim);
    let (m, mut rx) = manager(&sim, retrying());
    m.set_topics(set(presence_topics(&users[..2], true)))
        .await
        .unwrap();
    assert_eq!(next_gap(&mut rx).await.cause, GapCause::Start);
    eventually!(m.status().degraded.len() == 2, "degraded");
    let routing = format!("v2.users.{}.routingStatus", users[1]);
    assert_eq!(sim.publish(&routing, serde_json::json!({})), 0);

    // Still refused: retries keep it degraded and emit no gap.
    assert_quiet(&mut rx, Duration::from_millis(500)).await;
    assert_eq!(m.status().degraded.len(), 2);

    sim.allow_permission("routing:agent:view");
    let gap = next_gap(&mut rx).await;
    assert_eq!(gap.cause, GapCause::TopicsAdded);
    let mut topics = gap.topics.clone();
    topics.sort();
    let mut expected: Vec<String> = users[..2]
        .iter()
        .map(|u| format!("v2.users.{u}.routingStatus"))
        .collect();
    expected.sort();
    assert_eq!(topics, expected, "the gap names the parts accepted now");
    assert!(m.status().degraded.is_empty(), "{:?}", m.status().degraded);
    assert_eq!(sim.publish(&routing, serde_json::json!({})), 1, "now subscribed");
    // Presence kept flowing throughout.
    assert!(deliver(&sim, &mut rx, &users[0]).await.is_empty());
    m.shutdown().await;
}

#[tokio::test]
async fn a_refused_plain_topic_is_subscribed_once_permitted() {
    let sim = SimBuilder::upstream().start().await;
    sim.deny_permission("presence:userPresence:view");
    let users = agents(&sim);
    let (m, mut rx) = manager(&sim, retrying());
    m.set_topics(set(presence_topics(&users[..1], false)))
        .await
        .unwrap();
    eventually!(m.status().degraded.len() == 1, "degraded");
    sim.allow_permission("presence:userPresence:view");
    let gap = loop {
        let g = next_gap(&mut rx).await;
        if g.cause == GapCause::TopicsAdded {
            break g;
        }
    };
    assert_eq!(gap.topics, presence_topics(&users[..1], false));
    assert!(m.status().degraded.is_empty());
    assert!(deliver(&sim, &mut rx, &users[0]).await.is_empty());
    m.shutdown().await;
}
