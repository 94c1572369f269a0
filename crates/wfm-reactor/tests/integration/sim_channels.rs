//! Simulator: notification channel REST (limits, eviction, replace/add, permissions).

use genesys_sim::SimConfig;
use reqwest::Method;
use serde_json::{Value, json};
use std::time::Duration;
use wfm_testkit::SimBuilder;
use wfm_testkit::api::*;
use wfm_testkit::ws::*;

fn ids(listing: &Value) -> Vec<String> {
    listing["entities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn channel_shape_head_and_list() {
    let sim = SimBuilder::small().start().await;
    let api = Api::login(&sim).await;
    let (s, ch) = api
        .send(Method::POST, "/api/v2/notifications/channels", &Value::Null)
        .await;
    assert_eq!(s, 200);
    let id = ch["id"].as_str().unwrap();
    assert!(ch["connectUri"].as_str().unwrap().ends_with(id));
    assert!(ch["connectUri"].as_str().unwrap().starts_with("ws://127.0.0.1:"));
    let expires = chrono::DateTime::parse_from_rfc3339(ch["expires"].as_str().unwrap()).unwrap();
    let hours = (expires.with_timezone(&chrono::Utc) - chrono::Utc::now()).num_minutes();
    assert!((23 * 60..=24 * 60).contains(&hours), "expires in {hours} min");
    let head = |cid: String| {
        let api = &api;
        async move {
            api.http
                .head(format!("{}/api/v2/notifications/channels/{cid}", api.base))
                .bearer_auth(&api.token)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(head(id.to_string()).await, 200);
    assert_eq!(head("streaming-0-nope".into()).await, 404);
    // Channels of other tokens show only with includechannels=oauthclient.
    let other = Api::login(&sim).await;
    other.channel().await;
    assert_eq!(
        ids(&api.get("/api/v2/notifications/channels").await.1),
        vec![id.to_string()]
    );
    assert_eq!(
        ids(&api
            .get("/api/v2/notifications/channels?includechannels=oauthclient")
            .await
            .1)
        .len(),
        2
    );
    sim.expire_channels();
    assert_eq!(head(id.to_string()).await, 404);
}

#[tokio::test]
async fn twenty_first_channel_evicts_oldest_unconnected() {
    let sim = SimBuilder::from(SimConfig {
        max_channels: 3,
        ..SimBuilder::small().config()
    })
    .start()
    .await;
    let api = Api::login(&sim).await;
    let (first, uri) = api.channel().await;
    let _ws = connect(&uri).await;
    assert!(
        sim.wait_for_channels(Duration::from_secs(2), |c| c.iter().any(|c| c.connected))
            .await
    );
    let (second, _) = api.channel().await;
    let (third, _) = api.channel().await;
    let (fourth, _) = api.channel().await;
    let now: Vec<String> = sim.channels().into_iter().map(|c| c.id).collect();
    assert_eq!(
        now,
        vec![first.clone(), third.clone(), fourth.clone()],
        "the connected first survives, the oldest unconnected goes"
    );
    assert!(!now.contains(&second));
}

#[tokio::test]
async fn put_replaces_post_adds_delete_clears() {
    let sim = SimBuilder::small().start().await;
    let api = Api::login(&sim).await;
    let (ch, _) = api.channel().await;
    let path = format!("/api/v2/notifications/channels/{ch}/subscriptions");
    let (s, body) = api
        .subscribe(&ch, &["v2.users.a.presence", "v2.users.b.presence"])
        .await;
    assert_eq!(s, 200);
    assert_eq!(ids(&body), vec!["v2.users.a.presence", "v2.users.b.presence"]);
    assert!(
        body["entities"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["state"] == "Permitted")
    );
    let (s, body) = api
        .send(Method::POST, &path, &json!([{"id": "v2.users.c.presence"}]))
        .await;
    assert_eq!(s, 200);
    assert_eq!(ids(&body).len(), 3);
    let (_, body) = api.subscribe(&ch, &["v2.users.z.routingStatus"]).await;
    assert_eq!(ids(&body), vec!["v2.users.z.routingStatus"]);
    assert_eq!(ids(&api.get(&path).await.1), vec!["v2.users.z.routingStatus"]);
    let (s, _) = api.send(Method::DELETE, &path, &Value::Null).await;
    assert_eq!(s, 200);
    assert!(ids(&api.get(&path).await.1).is_empty());
    assert_eq!(sim.channels().len(), 1, "DELETE keeps the channel");
}

#[tokio::test]
async fn more_than_max_topics_is_400() {
    let sim = SimBuilder::small().start().await;
    let api = Api::login(&sim).await;
    let (ch, _) = api.channel().await;
    let many: Vec<String> = (0..1001).map(|i| format!("v2.users.u{i}.presence")).collect();
    let refs: Vec<&str> = many.iter().map(String::as_str).collect();
    let (s, body) = api.subscribe(&ch, &refs).await;
    assert_eq!(s, 400);
    assert_eq!(body["status"], 400);
    assert!(sim.channels()[0].topics.is_empty(), "nothing applied");
    let (s, _) = api.subscribe(&ch, &refs[..1000]).await;
    assert_eq!(s, 200);
}

#[tokio::test]
async fn missing_permission_is_403_or_rejected_with_ignore_errors() {
    let sim = SimBuilder::small().start().await;
    sim.deny_permission("presence:userPresence:view");
    let api = Api::login(&sim).await;
    let (ch, _) = api.channel().await;
    let (s, body) = api
        .subscribe(&ch, &["v2.users.a.presence", "v2.users.a.routingStatus"])
        .await;
    assert_eq!(s, 403);
    assert_eq!(body["code"], "missing.any.permissions");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("presence:userPresence:view")
    );
    assert!(sim.channels()[0].topics.is_empty());
    let path = format!("/api/v2/notifications/channels/{ch}/subscriptions?ignoreErrors=true");
    let (s, body) = api
        .send(
            Method::PUT,
            &path,
            &json!([{"id": "v2.users.a.presence"}, {"id": "v2.users.a.routingStatus"}]),
        )
        .await;
    assert_eq!(s, 200);
    let rejected: Vec<&Value> = body["entities"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["state"] == "Rejected")
        .collect();
    assert_eq!(rejected.len(), 1);
    assert_eq!(rejected[0]["id"], "v2.users.a.presence");
    assert_eq!(
        rejected[0]["missingPermissions"],
        json!(["presence:userPresence:view"])
    );
    assert_eq!(
        sim.channels()[0].topics,
        vec!["v2.users.a.routingStatus".to_string()]
    );
}

#[tokio::test]
async fn schedule_topic_needs_one_of_two_permissions_and_rest_403_names_it() {
    let mut perms = std::collections::BTreeSet::new();
    perms.insert("wfm:publishedSchedule:view".to_string());
    let sim = SimBuilder::from(SimConfig {
        permissions: Some(perms),
        ..SimBuilder::small().config()
    })
    .start()
    .await;
    let bu = sim.org().business_units[0].id.clone();
    let api = Api::login(&sim).await;
    let (ch, _) = api.channel().await;
    let topic = format!("v2.workforcemanagement.businessunits.{bu}.schedules");
    assert_eq!(api.subscribe(&ch, &[&topic]).await.0, 200);
    let (s, body) = api
        .get(&format!(
            "/api/v2/workforcemanagement/managementunits/{}/users",
            sim.org().business_units[0].management_units[0].id
        ))
        .await;
    assert_eq!(s, 403);
    assert!(body["message"].as_str().unwrap().contains("wfm:agent:view"));
    assert!(
        body["messageParams"]["permissions"]
            .as_str()
            .unwrap()
            .contains("wfm:agent:view")
    );
}

#[tokio::test]
async fn combined_topic_over_200_chars_is_400_and_resubscribe_refreshes_expiry() {
    let sim = SimBuilder::small().start().await;
    let api = Api::login(&sim).await;
    let (ch, _) = api.channel().await;
    let long = format!("v2.users.{}?presence&routingStatus", "x".repeat(200));
    assert_eq!(api.subscribe(&ch, &[&long]).await.0, 400);
    let before = sim.channels()[0].expires;
    tokio::time::sleep(Duration::from_millis(5)).await;
    assert_eq!(
        api.subscribe(&ch, &["v2.users.a?presence&routingStatus"]).await.0,
        200
    );
    assert!(sim.channels()[0].expires > before);
}
