//! The admin HTTP server (`[admin] listen`, localhost by default).
//!
//! - `GET /livez`: 200 while the process can make progress; 503 once it cannot (its store
//!   writer died), so a supervisor restarts it instead of leaving it unready forever.
//! - `GET /readyz`: 200 once every readiness condition holds, else 503 with the reasons.
//! - `GET /metrics`: Prometheus text (`wfm_reactor_*`).
//! - `GET /v1/state`: presence per user, scheduled activity now, known schedule versions.
//! - `GET /v1/events`: Server-Sent Events of every emitted CloudEvent; `id:` is the
//!   sequence, `Last-Event-ID` / `?after=SEQ` replay from the outbox first (see `feed`).
//! - `GET /`: the intraday board (assets compiled in; see `board`).
//! - `GET /v1/adherence[?managementUnitId=ID]`: per agent the adherence state and since when.
//! - `POST /v1/resync`: trigger a full reconcile now (at most once per cooldown).
//! - `POST /v1/session`: sign in with the token; sets the session cookie (see [`guard`]).
//!
//! Access ([`guard`]) is one layer over the whole router (the board included); the resync
//! cooldown ([`cooldown`]) and the live feed cap ([`sse_slots`]) are layers on their routes.

mod cooldown;
mod guard;
mod sse_slots;

mod board;
mod feed;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router, middleware};
use futures::future::BoxFuture;
use futures::{Stream, StreamExt};
use metrics_exporter_prometheus::PrometheusHandle;
use serde::Serialize;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{broadcast, mpsc};
use tokio_util::sync::CancellationToken;

/// What `/readyz` reports: blocking reasons and degraded (non-blocking) notes.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct ReadinessReport {
    /// Why the daemon is not ready; empty when ready.
    pub reasons: Vec<String>,
    /// Things that work partially but do not hold readiness back (e.g. a rejected topic).
    pub degraded: Vec<String>,
    /// `"leader"` or `"standby"` (`[ha]`); `None` reads as `"leader"`: a daemon without
    /// a lease is the only one there is.
    pub role: Option<&'static str>,
    /// Each OAuth client's token, channels, topics and budget (`None`: not reported).
    pub clients: Option<serde_json::Value>,
}

/// Everything the admin server reads, supplied by the app wiring.
#[derive(Clone)]
pub struct AdminState {
    /// Why the process can no longer make progress (`None` while it can).
    pub liveness: Arc<dyn Fn() -> Option<String> + Send + Sync>,
    /// Computes the readiness report on each request.
    pub readiness: Arc<dyn Fn() -> ReadinessReport + Send + Sync>,
    /// Renders `/metrics`.
    pub metrics: PrometheusHandle,
    /// The live feed of committed events (JSON text).
    pub live: broadcast::Sender<Arc<str>>,
    /// Builds the `/v1/state` snapshot.
    pub state: Arc<dyn Fn() -> BoxFuture<'static, anyhow::Result<serde_json::Value>> + Send + Sync>,
    /// Asks the reactor for a full reconcile.
    pub resync: mpsc::Sender<()>,
    /// The store, for replaying the feed from a sequence (`None`: live only).
    pub store: Option<crate::store::Store>,
    /// Every tracked agent's adherence, of one management unit when given.
    pub adherence: Arc<dyn Fn(Option<String>) -> BoxFuture<'static, Option<serde_json::Value>> + Send + Sync>,
    /// Who may in: the `[admin]` token, the resync cooldown and the live feed cap.
    pub access: AccessConfig,
}

/// The access settings of the admin server (`[admin]` and `[reconcile] resync_cooldown`).
#[derive(Clone, Debug)]
pub struct AccessConfig {
    /// The bearer token; empty serves loopback `Host`s and same-origin requests only.
    pub token: crate::config::Secret,
    /// At most one `POST /v1/resync` per this long.
    pub resync_cooldown: Duration,
    /// Live feed clients at once.
    pub max_sse_clients: usize,
}

impl AccessConfig {
    /// The settings of `config`.
    pub fn of(config: &crate::config::Config) -> Self {
        Self {
            token: config.admin.token.clone(),
            resync_cooldown: config.reconcile.resync_cooldown,
            max_sse_clients: config.admin.max_sse_clients,
        }
    }
}

/// The router, separate from serving so tests can call it in-process. The guard is the
/// outermost layer, so a route added here is covered without saying so.
pub(crate) fn router(state: AdminState) -> Router {
    let guard = guard::Guard::new(state.access.token.expose());
    let cooldown = cooldown::Cooldown::new(state.access.resync_cooldown);
    let slots = sse_slots::Slots::new(state.access.max_sse_clients);
    Router::new()
        .route("/", get(board::index))
        .route("/board.css", get(board::css))
        .route("/board.js", get(board::js))
        .route("/livez", get(livez))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/v1/state", get(v1_state))
        .route(
            "/v1/events",
            get(v1_events).layer(middleware::from_fn_with_state(slots, sse_slots::limit)),
        )
        .route("/v1/adherence", get(v1_adherence))
        .route(
            "/v1/resync",
            post(v1_resync).layer(middleware::from_fn_with_state(cooldown, cooldown::limit)),
        )
        .with_state(state)
        .layer(middleware::from_fn_with_state(guard, guard::check))
}

async fn livez(State(state): State<AdminState>) -> Response {
    match (state.liveness)() {
        None => "ok".into_response(),
        Some(reason) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(serde_json::json!({ "live": false, "reason": reason })),
        )
            .into_response(),
    }
}

/// Serves the router on an already-bound listener until `cancel` fires.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AdminState,
    cancel: CancellationToken,
) -> std::io::Result<()> {
    axum::serve(listener, router(state))
        .with_graceful_shutdown(async move { cancel.cancelled().await })
        .await
}

async fn readyz(State(s): State<AdminState>) -> Response {
    let report = (s.readiness)();
    let code = if report.reasons.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let ready = report.reasons.is_empty();
    (
        code,
        Json(serde_json::json!({
            "ready": ready,
            "role": report.role.unwrap_or("leader"),
            "reasons": report.reasons,
            "degraded": report.degraded,
            "clients": report.clients,
        })),
    )
        .into_response()
}

async fn metrics(State(s): State<AdminState>) -> Response {
    s.metrics.run_upkeep();
    crate::telemetry::ops::sample_tokio_tasks();
    (
        [("content-type", "text/plain; version=0.0.4")],
        s.metrics.render(),
    )
        .into_response()
}

async fn v1_state(State(s): State<AdminState>) -> Response {
    match (s.state)().await {
        Ok(v) => Json(v).into_response(),
        Err(err) => {
            tracing::warn!(error = %format!("{err:#}"), "admin /v1/state failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                Json(serde_json::json!({ "error": format!("{err:#}") })),
            )
                .into_response()
        }
    }
}

async fn v1_resync(State(s): State<AdminState>) -> Response {
    match s.resync.try_send(()) {
        Ok(()) => (
            StatusCode::ACCEPTED,
            Json(serde_json::json!({ "resync": "scheduled" })),
        )
            .into_response(),
        Err(mpsc::error::TrySendError::Full(())) => (
            StatusCode::ACCEPTED,
            Json(serde_json::json!({ "resync": "already pending" })),
        )
            .into_response(),
        Err(mpsc::error::TrySendError::Closed(())) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(serde_json::json!({ "error": "reactor stopped" })),
        )
            .into_response(),
    }
}

/// `?after=SEQ` and `?managementUnitId=ID`.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct FeedQuery {
    after: Option<String>,
    management_unit_id: Option<String>,
}

async fn v1_events(
    State(s): State<AdminState>,
    headers: axum::http::HeaderMap,
    Query(q): Query<FeedQuery>,
) -> Response {
    // Subscribe before reading the outbox: nothing committed in between is missed.
    let rx = s.live.subscribe();
    let last_id = headers.get("last-event-id").and_then(|v| v.to_str().ok());
    let after = feed::start_after(last_id, q.after.as_deref());
    let keep_alive = KeepAlive::new().interval(Duration::from_secs(15));
    match s.store {
        Some(store) => Sse::new(feed::stream(store, rx, after))
            .keep_alive(keep_alive)
            .into_response(),
        None => Sse::new(live_stream(rx)).keep_alive(keep_alive).into_response(),
    }
}

async fn v1_adherence(State(s): State<AdminState>, Query(q): Query<FeedQuery>) -> Response {
    match (s.adherence)(q.management_unit_id).await {
        Some(v) => Json(v).into_response(),
        None => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(serde_json::json!({ "error": "reactor stopped" })),
        )
            .into_response(),
    }
}

/// Turns the broadcast into SSE events (no store to replay from: tests of the router); a
/// client that lags behind the broadcast buffer is dropped with a note.
fn live_stream(rx: broadcast::Receiver<Arc<str>>) -> impl Stream<Item = Result<Event, Infallible>> {
    futures::stream::unfold(Some(rx), |rx| async move {
        let mut rx = rx?;
        match rx.recv().await {
            Ok(json) => Some((Ok(Event::default().event("cloudevent").data(&*json)), Some(rx))),
            Err(broadcast::error::RecvError::Lagged(missed)) => {
                crate::telemetry::ops::sse_client_dropped(missed);
                let note = Event::default()
                    .event("dropped")
                    .data(format!("lagged: {missed} events missed"));
                Some((Ok(note), None))
            }
            Err(broadcast::error::RecvError::Closed) => None,
        }
    })
    .boxed()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};

    fn state(dead: Arc<AtomicBool>) -> AdminState {
        AdminState {
            liveness: Arc::new(move || {
                dead.load(Ordering::SeqCst)
                    .then(|| "store writer stopped".to_string())
            }),
            readiness: Arc::new(ReadinessReport::default),
            metrics: crate::telemetry::prometheus::handle(),
            live: broadcast::channel(4).0,
            state: Arc::new(|| Box::pin(async { Ok(serde_json::json!({})) })),
            resync: mpsc::channel(1).0,
            store: None,
            adherence: Arc::new(|_| Box::pin(async { Some(serde_json::json!([])) })),
            access: AccessConfig {
                token: crate::config::Secret::default(),
                resync_cooldown: Duration::from_secs(60),
                max_sse_clients: 4,
            },
        }
    }

    #[tokio::test]
    async fn livez_fails_once_the_process_cannot_make_progress() {
        let dead = Arc::new(AtomicBool::new(false));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/livez", listener.local_addr().unwrap());
        let cancel = CancellationToken::new();
        let server = tokio::spawn(serve(listener, state(dead.clone()), cancel.clone()));
        let r = reqwest::get(&url).await.unwrap();
        assert_eq!(r.status(), 200);
        dead.store(true, Ordering::SeqCst);
        let r = reqwest::get(&url).await.unwrap();
        assert_eq!(r.status(), 503);
        let body: serde_json::Value = r.json().await.unwrap();
        assert_eq!(body["live"], false);
        assert_eq!(body["reason"], "store writer stopped");
        cancel.cancel();
        server.await.unwrap().unwrap();
    }
}
