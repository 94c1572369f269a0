//! Cross-cutting behaviour of every route: request log, injected faults, bearer-token
//! checks and the per-token rate limit with its `inin-ratelimit-*` headers.

use super::errors::ApiError;
use super::state::{AppState, LoggedRequest, Shared};
use axum::body::HttpBody as _;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::time::Duration;
use tokio::time::Instant;

/// The bearer token of a request, once checked (handlers read it for channel ownership).
#[derive(Debug, Clone)]
pub(crate) struct AuthToken(pub String);

/// Length of a rate-limit window.
const WINDOW: Duration = Duration::from_secs(60);

/// The `Bearer` token of a request, if any.
fn bearer(headers: &HeaderMap) -> Option<String> {
    let v = headers.get("authorization")?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_string())
}

/// The middleware: logs the request and applies faults, auth and rate limiting.
pub(crate) async fn layer(State(shared): State<AppState>, mut req: Request, next: Next) -> Response {
    let at = Instant::now();
    let method = req.method().to_string();
    let path = req.uri().path().to_string();
    let query = req.uri().query().map(str::to_string);
    let token = bearer(req.headers());
    let mut resp = match take_fault(&shared, &method, &path) {
        Some(err) => err.into_response(),
        None if path.starts_with("/api/") => match check_token(&shared, token.as_deref()) {
            Err(err) => err.into_response(),
            Ok(tok) => {
                let (count, reset, limited) = rate(&shared, &tok);
                let mut resp = if limited {
                    let mut e = ApiError::new(
                        StatusCode::TOO_MANY_REQUESTS,
                        "too.many.requests",
                        format!(
                            "Rate limit exceeded the maximum. [{}] requests for [60] seconds",
                            shared.config.rate_limit_per_minute
                        ),
                    );
                    e.retry_after = Some(reset);
                    e.limit = Some(Box::new(
                        serde_json::json!({"key": "client.credentials.token.rate.per.minute", "namespace": "platform.api", "value": shared.config.rate_limit_per_minute}),
                    ));
                    metrics::counter!("wfm_reactor_sim_rate_limited_total").increment(1);
                    e.into_response()
                } else {
                    req.extensions_mut().insert(AuthToken(tok));
                    next.run(req).await
                };
                let h = resp.headers_mut();
                h.insert("inin-ratelimit-count", HeaderValue::from(count));
                h.insert(
                    "inin-ratelimit-allowed",
                    HeaderValue::from(shared.config.rate_limit_per_minute),
                );
                h.insert("inin-ratelimit-reset", HeaderValue::from(reset));
                resp
            }
        },
        None => next.run(req).await,
    };
    if let Ok(v) = HeaderValue::from_str(&uuid::Uuid::new_v4().to_string()) {
        resp.headers_mut().insert("inin-correlation-id", v);
    }
    let status = resp.status().as_u16();
    if status >= 400 {
        tracing::warn!(method = %method, path = %path, status, "sim: request answered with an error");
        metrics::counter!("wfm_reactor_sim_http_errors_total", "status" => status.to_string()).increment(1);
    }
    shared.log(LoggedRequest {
        at,
        method,
        path,
        query,
        status: resp.status().as_u16(),
        token,
        bytes: resp.body().size_hint().exact(),
    });
    resp
}

/// Consumes one injected failure matching this request, if any. A route pattern is a
/// path substring, optionally prefixed by a method (`"POST /agentschedules/query"`).
fn take_fault(shared: &Shared, method: &str, path: &str) -> Option<ApiError> {
    let mut inner = shared.lock();
    let idx = inner.faults.iter().position(|f| {
        let (m, p) = match f.route.split_once(' ') {
            Some((m, p)) => (Some(m), p),
            None => (None, f.route.as_str()),
        };
        f.remaining > 0 && m.is_none_or(|m| m.eq_ignore_ascii_case(method)) && path.contains(p)
    })?;
    let f = &mut inner.faults[idx];
    f.remaining -= 1;
    let status = StatusCode::from_u16(f.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut err = ApiError::new(
        status,
        "sim.injected.fault",
        format!("injected failure ({})", f.status),
    );
    err.retry_after = f.retry_after;
    if f.remaining == 0 {
        inner.faults.remove(idx);
    }
    Some(err)
}

/// Accepts a known, unexpired, unrevoked token.
fn check_token(shared: &Shared, token: Option<&str>) -> Result<String, ApiError> {
    let token = token.ok_or_else(ApiError::unauthorized)?;
    let inner = shared.lock();
    match inner.tokens.get(token) {
        Some(t) if !t.revoked && Instant::now() < t.expires_at => Ok(token.to_string()),
        _ => Err(ApiError::unauthorized()),
    }
}

/// Counts a request against its token's window: (count, seconds to reset, limited).
fn rate(shared: &Shared, token: &str) -> (u32, u64, bool) {
    let now = Instant::now();
    let mut inner = shared.lock();
    let Some(t) = inner.tokens.get_mut(token) else {
        return (0, 60, false);
    };
    if now.duration_since(t.rate_window_start) >= WINDOW {
        t.rate_window_start = now;
        t.rate_count = 0;
    }
    t.rate_count = t.rate_count.saturating_add(1);
    let left = WINDOW.saturating_sub(now.duration_since(t.rate_window_start));
    let reset = left.as_secs() + u64::from(left.subsec_nanos() > 0);
    (
        t.rate_count,
        reset.max(1),
        t.rate_count > shared.config.rate_limit_per_minute,
    )
}
