//! Simulator: OAuth, token validity, rate limiting, injected faults and the request log.

use genesys_sim::SimConfig;
use reqwest::StatusCode;
use serde_json::Value;
use wfm_testkit::SimBuilder;
use wfm_testkit::api::*;

#[tokio::test]
async fn token_is_issued_with_configured_lifetime() {
    let sim = SimBuilder::from(SimConfig {
        token_lifetime: std::time::Duration::from_secs(300),
        ..SimBuilder::small().config()
    })
    .start()
    .await;
    let r = reqwest::Client::new()
        .post(format!("{}/oauth/token", sim.base_url()))
        .basic_auth(sim.client_id(), Some(sim.client_secret()))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["expires_in"], 300);
    assert!(
        body["token_type"]
            .as_str()
            .unwrap()
            .eq_ignore_ascii_case("bearer")
    );
    assert!(body["access_token"].as_str().unwrap().len() > 20);
}

#[tokio::test]
async fn wrong_credentials_get_invalid_client_and_bad_grant_400() {
    let sim = SimBuilder::small().start().await;
    let http = reqwest::Client::new();
    let r = http
        .post(format!("{}/oauth/token", sim.base_url()))
        .basic_auth(sim.client_id(), Some("wrong"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"], "invalid_client");
    let r = http
        .post(format!("{}/oauth/token", sim.base_url()))
        .basic_auth(sim.client_id(), Some(sim.client_secret()))
        .form(&[("grant_type", "password")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn missing_revoked_and_expired_tokens_get_401_error_body() {
    let sim = SimBuilder::small().start().await;
    let api = Api::login(&sim).await;
    assert_eq!(api.get("/api/v2/workforcemanagement/businessunits").await.0, 200);
    let r = reqwest::get(format!(
        "{}/api/v2/workforcemanagement/businessunits",
        sim.base_url()
    ))
    .await
    .unwrap();
    assert_eq!(r.status(), 401);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["status"], 401);
    assert!(body["code"].is_string() && body["message"].is_string());

    sim.revoke_tokens();
    assert_eq!(api.get("/api/v2/workforcemanagement/businessunits").await.0, 401);

    let fresh = Api::login(&sim).await;
    assert_eq!(
        fresh.get("/api/v2/workforcemanagement/businessunits").await.0,
        200
    );
    sim.expire_tokens();
    assert_eq!(
        fresh.get("/api/v2/workforcemanagement/businessunits").await.0,
        401
    );
}

#[tokio::test]
async fn rate_limit_headers_and_429_with_retry_after() {
    let sim = SimBuilder::from(SimConfig {
        rate_limit_per_minute: 3,
        ..SimBuilder::small().config()
    })
    .start()
    .await;
    let tok = token(&sim).await;
    let http = reqwest::Client::new();
    let url = format!("{}/api/v2/workforcemanagement/businessunits", sim.base_url());
    for i in 1..=3u32 {
        let r = http.get(&url).bearer_auth(&tok).send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["inin-ratelimit-count"], i.to_string().as_str());
        assert_eq!(r.headers()["inin-ratelimit-allowed"], "3");
        let reset: u64 = r.headers()["inin-ratelimit-reset"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=60).contains(&reset));
    }
    let r = http.get(&url).bearer_auth(&tok).send().await.unwrap();
    assert_eq!(r.status(), 429);
    let retry: u64 = r.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry));
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["status"], 429);
    assert_eq!(body["limit"]["namespace"], "platform.api");
    assert_eq!(body["limit"]["value"], 3);
    // Another token has its own budget.
    let other = token(&sim).await;
    assert_eq!(
        http.get(&url).bearer_auth(&other).send().await.unwrap().status(),
        200
    );
}

#[tokio::test]
async fn fail_next_injects_status_and_retry_after_then_recovers() {
    let sim = SimBuilder::small().start().await;
    let api = Api::login(&sim).await;
    sim.fail_next("GET /businessunits", 2, 503, Some(7));
    let url = format!("{}/api/v2/workforcemanagement/businessunits", sim.base_url());
    for _ in 0..2 {
        let r = api.http.get(&url).bearer_auth(&api.token).send().await.unwrap();
        assert_eq!(r.status(), 503);
        assert_eq!(r.headers()["retry-after"], "7");
    }
    assert_eq!(api.get("/api/v2/workforcemanagement/businessunits").await.0, 200);
    let log = sim.request_log();
    let statuses: Vec<u16> = log
        .iter()
        .filter(|l| l.path.ends_with("/businessunits"))
        .map(|l| l.status)
        .collect();
    assert_eq!(statuses, vec![503, 503, 200]);
    assert!(
        log.iter()
            .filter(|l| l.path.ends_with("/businessunits"))
            .all(|l| l.token.as_deref() == Some(api.token.as_str()))
    );
}

#[tokio::test]
async fn unknown_route_gets_404_error_body() {
    let sim = SimBuilder::small().start().await;
    let api = Api::login(&sim).await;
    let (s, body) = api.get("/api/v2/nothing/here").await;
    assert_eq!(s, 404);
    assert_eq!(body["status"], 404);
}
