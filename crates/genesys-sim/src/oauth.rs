//! `POST /oauth/token`: the client-credentials grant with Basic auth and a form body.

use super::query::Query;
use super::state::{AppState, Shared, TokenState};
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde_json::json;
use tokio::time::Instant;

/// An OAuth error body (`{error, description, error_description}`).
fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    let body = json!({"error": error, "description": description, "error_description": description});
    (status, Json(body)).into_response()
}

/// Client id and secret from `Authorization: Basic ...`.
fn basic(headers: &HeaderMap) -> Option<(String, String)> {
    let v = headers.get("authorization")?.to_str().ok()?;
    let (scheme, b64) = v.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let raw = base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .ok()?;
    let text = String::from_utf8(raw).ok()?;
    let (id, secret) = text.split_once(':')?;
    Some((id.to_string(), secret.to_string()))
}

/// True for a configured client's id and secret, unless a test revoked that client.
fn known_client(shared: &AppState, id: &str, secret: &str) -> bool {
    let c = &shared.config;
    let configured = (id == c.client_id && secret == c.client_secret)
        || c.extra_clients.iter().any(|(i, s)| i == id && s == secret);
    configured && !shared.lock().refused_clients.contains(id)
}

/// Issues a token for a configured client.
pub(crate) async fn token(State(shared): State<AppState>, headers: HeaderMap, body: String) -> Response {
    let form = Query::parse(Some(&body));
    if form.get("grant_type") != Some("client_credentials") {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "grant_type must be client_credentials",
        );
    }
    let creds = basic(&headers).or_else(|| {
        Some((
            form.get("client_id")?.to_string(),
            form.get("client_secret")?.to_string(),
        ))
    });
    let client = creds
        .filter(|(id, secret)| known_client(&shared, id, secret))
        .map(|(id, _)| id);
    let Some(client) = client else {
        metrics::counter!("wfm_reactor_sim_token_refused_total").increment(1);
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "client authentication failed",
        );
    };
    let access = issue(&shared, &client);
    Json(json!({"access_token": access, "token_type": "bearer", "expires_in": shared.config.token_lifetime.as_secs()}))
        .into_response()
}

/// Issues an access token for `client` (already authenticated) and records it.
pub(crate) fn issue(shared: &Shared, client: &str) -> String {
    let access = format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    let now = Instant::now();
    shared.lock().tokens.insert(
        access.clone(),
        TokenState {
            client: client.to_string(),
            expires_at: now + shared.config.token_lifetime,
            revoked: false,
            rate_window_start: now,
            rate_count: 0,
        },
    );
    access
}
