//! Token provider and notifications REST client against a tiny axum stub.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{post, put};
use axum::{Json, Router};
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use wfm_reactor::auth::{AuthError, TokenProvider};
use wfm_reactor::config::Secret;
use wfm_reactor::notifications::channel::{ChannelClient, SubscribeMode};

#[derive(Default)]
struct Stub {
    token_requests: AtomicU64,
    expires_in: AtomicU64,
    /// API calls with the token of this generation (or older) answer 401.
    reject_up_to: AtomicU64,
    api_calls: AtomicU64,
}

async fn token(State(s): State<Arc<Stub>>, headers: HeaderMap, body: String) -> impl IntoResponse {
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    // base64("good:secret")
    if auth != "Basic Z29vZDpzZWNyZXQ=" || body != "grant_type=client_credentials" {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"error":"invalid_client","description":"bad"})),
        );
    }
    // Slow enough that concurrent callers overlap.
    tokio::time::sleep(Duration::from_millis(50)).await;
    let n = s.token_requests.fetch_add(1, Ordering::SeqCst) + 1;
    let expires_in = s.expires_in.load(Ordering::SeqCst).max(1);
    (
        StatusCode::OK,
        Json(json!({"access_token": format!("tok-{n}"), "token_type": "bearer", "expires_in": expires_in})),
    )
}

async fn create(State(s): State<Arc<Stub>>, headers: HeaderMap) -> impl IntoResponse {
    s.api_calls.fetch_add(1, Ordering::SeqCst);
    let n: u64 = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer tok-"))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    if n <= s.reject_up_to.load(Ordering::SeqCst) {
        return (StatusCode::UNAUTHORIZED, Json(json!({"message":"expired"})));
    }
    (
        StatusCode::OK,
        Json(json!({"id":"ch1","connectUri":"ws://127.0.0.1:1/ch1","expires":"2030-01-01T00:00:00Z"})),
    )
}

async fn subscribe(
    axum::extract::Query(q): axum::extract::Query<std::collections::HashMap<String, String>>,
    Json(topics): Json<Vec<serde_json::Value>>,
) -> impl IntoResponse {
    if q.get("ignoreErrors").map(String::as_str) != Some("true") {
        return (
            StatusCode::FORBIDDEN,
            Json(json!({"message":"missing permission"})),
        );
    }
    let entities: Vec<_> = topics
        .iter()
        .map(|t| {
            let id = t["id"].as_str().unwrap();
            if id.contains("secret") {
                json!({"id": id, "state": "Rejected", "rejectionReason": "no permission", "missingPermissions": ["wfm:schedule:view"]})
            } else {
                json!({"id": id, "state": "Permitted"})
            }
        })
        .collect();
    (StatusCode::OK, Json(json!({"entities": entities})))
}

async fn serve(stub: Arc<Stub>) -> String {
    let app = Router::new()
        .route("/oauth/token", post(token))
        .route("/api/v2/notifications/channels", post(create))
        .route(
            "/api/v2/notifications/channels/{id}/subscriptions",
            put(subscribe).post(subscribe),
        )
        .with_state(stub);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

fn provider(base: &str, id: &str) -> TokenProvider {
    TokenProvider::new(
        base.to_string(),
        id.into(),
        Secret::new("secret"),
        reqwest::Client::new(),
    )
}

#[tokio::test]
async fn concurrent_callers_share_one_token_request() {
    let stub = Arc::new(Stub::default());
    stub.expires_in.store(3600, Ordering::SeqCst);
    let base = serve(stub.clone()).await;
    let p = provider(&base, "good");
    let tokens = futures::future::join_all((0..20).map(|_| p.token())).await;
    assert!(tokens.iter().all(|t| t.as_ref().unwrap().bearer() == "tok-1"));
    assert_eq!(stub.token_requests.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn refreshes_before_expiry() {
    let stub = Arc::new(Stub::default());
    stub.expires_in.store(1, Ordering::SeqCst);
    let base = serve(stub.clone()).await;
    let p = provider(&base, "good");
    let first = p.token().await.unwrap();
    assert!(first.refresh_at < first.expires_at);
    tokio::time::sleep_until(first.refresh_at + Duration::from_millis(10)).await;
    let second = p.token().await.unwrap();
    assert!(
        tokio::time::Instant::now() < first.expires_at,
        "refreshed while the first was still valid"
    );
    assert_ne!(second.bearer(), first.bearer());
    assert_eq!(second.generation, first.generation + 1);
}

#[tokio::test]
async fn invalid_client_is_a_clear_fatal_error() {
    let stub = Arc::new(Stub::default());
    let base = serve(stub).await;
    let err = provider(&base, "wrong-client").token().await.unwrap_err();
    assert!(matches!(&err, AuthError::InvalidClient { client_id } if client_id == "wrong-client"));
    assert!(err.is_fatal());
    let text = err.to_string();
    assert!(
        text.contains("wrong-client") && !text.contains("secret\""),
        "{text}"
    );
}

#[tokio::test]
async fn invalidate_ignores_stale_generations() {
    let stub = Arc::new(Stub::default());
    stub.expires_in.store(3600, Ordering::SeqCst);
    let base = serve(stub.clone()).await;
    let p = provider(&base, "good");
    let t1 = p.token().await.unwrap();
    p.invalidate(&t1).await;
    let t2 = p.token().await.unwrap();
    p.invalidate(&t1).await; // a late 401 for the old token must not drop the new one
    assert_eq!(p.token().await.unwrap().bearer(), t2.bearer());
    assert_eq!(stub.token_requests.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_401_refreshes_once_and_succeeds() {
    let stub = Arc::new(Stub::default());
    stub.expires_in.store(3600, Ordering::SeqCst);
    stub.reject_up_to.store(1, Ordering::SeqCst);
    let base = serve(stub.clone()).await;
    let client = ChannelClient::new(base.clone(), provider(&base, "good"), reqwest::Client::new());
    let (channel, token) = client.create().await.unwrap();
    assert_eq!(channel.id, "ch1");
    assert_eq!(token.bearer(), "tok-2");
    assert_eq!(stub.api_calls.load(Ordering::SeqCst), 2);
    assert_eq!(stub.token_requests.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn forbidden_subscribe_names_the_missing_permission() {
    let stub = Arc::new(Stub::default());
    stub.expires_in.store(3600, Ordering::SeqCst);
    let base = serve(stub).await;
    let client = ChannelClient::new(base.clone(), provider(&base, "good"), reqwest::Client::new());
    let topics = vec![
        "v2.users.a.presence".to_string(),
        "v2.workforcemanagement.businessunits.secret.schedules".to_string(),
    ];
    let rejected = client
        .subscribe("ch1", &topics, SubscribeMode::Add)
        .await
        .unwrap();
    assert_eq!(rejected.len(), 1);
    assert_eq!(rejected[0].topic, topics[1]);
    assert_eq!(rejected[0].missing_permissions, vec!["wfm:schedule:view"]);
}
