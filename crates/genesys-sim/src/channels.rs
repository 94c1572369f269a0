//! Notification channel REST routes: create/list/HEAD channels and manage subscriptions,
//! with the 20-channel eviction, the 1,000-topic limit and per-topic permission checks.

use super::errors::{ApiError, ApiResult};
use super::notify::send_gone;
use super::platform::AuthToken;
use super::query::Query;
use super::reap::reap;
use super::schedules::iso;
use super::state::{AppState, ChannelState, Shared};
use super::topics;
use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::{Extension, response::IntoResponse};
use chrono::Utc;
use rand::Rng;
use serde_json::{Value, json};
use tokio::time::Instant;

/// How long a channel lives without a resubscription ([`super::SimConfig::channel_lifetime`]).
fn channel_ttl(shared: &Shared) -> chrono::Duration {
    chrono::Duration::from_std(shared.config.channel_lifetime).unwrap_or(chrono::Duration::hours(24))
}

/// A channel id like Genesys's `streaming-0-<26 chars>`.
fn new_channel_id() -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rng();
    let tail: String = (0..26)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect();
    format!("streaming-0-{tail}")
}

/// Renders a `Channel`.
fn channel_json(shared: &Shared, ch: &ChannelState) -> Value {
    json!({"connectUri": format!("{}/channels/{}", shared.ws_base, ch.id), "id": ch.id, "expires": iso(ch.expires)})
}

/// `POST /api/v2/notifications/channels`
pub(crate) async fn create(
    State(shared): State<AppState>,
    Extension(tok): Extension<AuthToken>,
) -> Json<Value> {
    let mut inner = shared.lock();
    reap(&shared, &mut inner);
    Json(admit(&shared, &mut inner, &tok.0))
}

/// Creates a channel for `token`, first pushing out one of its OAuth client's channels
/// when the client is at the limit; returns the `Channel` body.
pub(crate) fn admit(shared: &Shared, inner: &mut crate::state::Inner, token: &str) -> Value {
    // The cap is per OAuth client: only this client's channels count and may be evicted.
    let client = inner.tokens.get(token).map(|t| t.client.clone());
    let of_client = |inner: &crate::state::Inner, c: &ChannelState| {
        inner.tokens.get(&c.token).map(|t| &t.client) == client.as_ref()
    };
    let owned: Vec<usize> = (0..inner.channels.len())
        .filter(|&i| of_client(inner, &inner.channels[i]))
        .collect();
    if owned.len() >= shared.config.max_channels.max(1) {
        // Oldest last-used unconnected channel first; else the oldest of all.
        let chans = &inner.channels;
        let victim = owned
            .iter()
            .copied()
            .filter(|&i| chans[i].socket.is_none())
            .min_by_key(|&i| chans[i].last_used)
            .or_else(|| owned.iter().copied().min_by_key(|&i| chans[i].last_used));
        if let Some(i) = victim {
            let gone = inner.channels.remove(i);
            if let Some(sock) = &gone.socket {
                send_gone(sock);
            }
            metrics::counter!("wfm_reactor_sim_channels_evicted_total").increment(1);
        }
    }
    let ch = ChannelState {
        id: new_channel_id(),
        token: token.to_string(),
        bound: shared.config.channels_bound_to_token,
        topics: Vec::new(),
        expanded: Default::default(),
        expires: Utc::now() + channel_ttl(shared),
        last_used: Instant::now(),
        socket: None,
    };
    let body = channel_json(shared, &ch);
    inner.channels.push(ch);
    body
}

/// `GET /api/v2/notifications/channels?includechannels=token|oauthclient`
pub(crate) async fn list(
    State(shared): State<AppState>,
    Extension(tok): Extension<AuthToken>,
    RawQuery(raw): RawQuery,
) -> Json<Value> {
    let all = Query::parse(raw.as_deref()).get("includechannels") == Some("oauthclient");
    let mut inner = shared.lock();
    reap(&shared, &mut inner);
    let entities: Vec<Value> = inner
        .channels
        .iter()
        .filter(|c| all || c.token == tok.0)
        .map(|c| channel_json(&shared, c))
        .collect();
    Json(json!({"entities": entities}))
}

/// `HEAD /api/v2/notifications/channels/{id}`: 200 if it exists and lives, else 404.
pub(crate) async fn head(State(shared): State<AppState>, Path(id): Path<String>) -> StatusCode {
    let mut inner = shared.lock();
    reap(&shared, &mut inner);
    if inner.channels.iter().any(|c| c.id == id) {
        StatusCode::OK
    } else {
        StatusCode::NOT_FOUND
    }
}

/// Renders the current subscriptions of a channel.
fn listing(ch: &ChannelState, rejected: Vec<Value>) -> Value {
    let mut entities: Vec<Value> = ch
        .topics
        .iter()
        .map(|t| json!({"id": t, "state": "Permitted", "selfUri": format!("/api/v2/notifications/availabletopics/{t}")}))
        .collect();
    entities.extend(rejected);
    json!({"entities": entities})
}

/// `GET .../channels/{id}/subscriptions`
pub(crate) async fn get_subs(
    State(shared): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let mut inner = shared.lock();
    reap(&shared, &mut inner);
    let ch = inner
        .channels
        .iter()
        .find(|c| c.id == id)
        .ok_or_else(|| ApiError::not_found("channel"))?;
    Ok(Json(listing(ch, Vec::new())))
}

/// `DELETE .../channels/{id}/subscriptions`: removes every subscription, keeps the channel.
pub(crate) async fn delete_subs(
    State(shared): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<impl IntoResponse> {
    let mut inner = shared.lock();
    reap(&shared, &mut inner);
    let ch = inner
        .channels
        .iter_mut()
        .find(|c| c.id == id)
        .ok_or_else(|| ApiError::not_found("channel"))?;
    ch.topics.clear();
    ch.reindex();
    Ok(StatusCode::OK)
}

/// Topic ids from a bare-array body (`[{"id": ...}]`; plain strings tolerated).
fn topic_ids(body: &Value) -> ApiResult<Vec<String>> {
    let arr = body
        .as_array()
        .ok_or_else(|| ApiError::bad_request("bad.request", "body must be a JSON array of topics"))?;
    arr.iter()
        .map(|t| {
            t.get("id")
                .and_then(Value::as_str)
                .or_else(|| t.as_str())
                .map(String::from)
                .ok_or_else(|| ApiError::bad_request("bad.request", "every topic needs an id"))
        })
        .collect()
}

/// `PUT .../subscriptions` (replace).
pub(crate) async fn put_subs(
    State(shared): State<AppState>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
    Json(body): Json<Value>,
) -> ApiResult<Json<Value>> {
    let ignore = Query::parse(raw.as_deref()).flag("ignoreErrors");
    subscribe(&shared, &id, topic_ids(&body)?, true, ignore).map(Json)
}

/// `POST .../subscriptions` (add).
pub(crate) async fn post_subs(
    State(shared): State<AppState>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
    Json(body): Json<Value>,
) -> ApiResult<Json<Value>> {
    let ignore = Query::parse(raw.as_deref()).flag("ignoreErrors");
    subscribe(&shared, &id, topic_ids(&body)?, false, ignore).map(Json)
}

/// Applies a subscription change. Rejected topics fail the whole call with 403 unless
/// `ignore_errors`, in which case they come back with `state: "Rejected"`.
pub(crate) fn subscribe(
    shared: &Shared,
    id: &str,
    requested: Vec<String>,
    replace: bool,
    ignore_errors: bool,
) -> ApiResult<Value> {
    let mut inner = shared.lock();
    reap(shared, &mut inner);
    if !inner.channels.iter().any(|c| c.id == id) {
        return Err(ApiError::not_found("channel"));
    }
    let mut permitted = Vec::new();
    let mut rejected = Vec::new();
    let mut missing_all = Vec::new();
    for topic in requested {
        let parts = topics::expand(&topic)
            .map_err(|e| ApiError::bad_request("bad.request", format!("{topic}: {e}")))?;
        let mut missing: Vec<String> = Vec::new();
        for part in &parts {
            let need = topics::required(part);
            if !need.is_empty() && !need.iter().any(|p| shared.has_permission(&inner, p)) {
                for p in need {
                    if !missing.iter().any(|m| m == p) {
                        missing.push(p.to_string());
                    }
                }
            }
        }
        if missing.is_empty() {
            permitted.push(topic);
        } else {
            tracing::warn!(topic = %topic, missing = ?missing, "sim: topic rejected for missing permissions");
            missing_all.extend(missing.iter().cloned());
            rejected.push(json!({"id": topic, "state": "Rejected", "rejectionReason": "Missing permissions", "missingPermissions": missing}));
        }
    }
    if !rejected.is_empty() && !ignore_errors {
        missing_all.sort();
        missing_all.dedup();
        return Err(ApiError::missing_permissions(&missing_all));
    }
    let max = shared.config.max_topics_per_channel;
    let ch = inner
        .channels
        .iter_mut()
        .find(|c| c.id == id)
        .ok_or_else(|| ApiError::not_found("channel"))?;
    let mut topics_new = if replace { Vec::new() } else { ch.topics.clone() };
    for t in permitted {
        if !topics_new.contains(&t) {
            topics_new.push(t);
        }
    }
    if topics_new.len() > max {
        return Err(ApiError::bad_request(
            "notification.subscription.limit",
            format!(
                "A channel may subscribe to at most {max} topics; {} requested",
                topics_new.len()
            ),
        ));
    }
    ch.topics = topics_new;
    ch.reindex();
    ch.expires = Utc::now() + channel_ttl(shared);
    ch.last_used = Instant::now();
    Ok(listing(ch, rejected))
}
