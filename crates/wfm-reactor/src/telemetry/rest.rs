//! REST client telemetry: one function per happening, each logging and counting once.

use std::time::Duration;

/// A REST answer (or transport failure, `status = "error"`) on a route template.
pub(crate) fn request_done(route: &'static str, status: &str, took: Duration) {
    metrics::counter!("wfm_reactor_rest_requests_total", "route" => route, "status" => status.to_string())
        .increment(1);
    metrics::histogram!("wfm_reactor_rest_request_seconds", "route" => route).record(took.as_secs_f64());
}

/// A 429: the whole budget pauses.
pub(crate) fn rate_limited(route: &'static str, retry_after: Duration) {
    tracing::warn!(
        route,
        retry_after_s = retry_after.as_secs_f64(),
        "rate limited: pausing every REST call"
    );
    metrics::counter!("wfm_reactor_rest_rate_limited_total").increment(1);
}

/// A retry after a 5xx or transport failure.
pub fn retrying(route: &'static str, reason: &str, attempt: u32, delay: Duration) {
    tracing::warn!(
        route,
        reason,
        attempt,
        delay_ms = delay.as_millis() as u64,
        "REST call failed, retrying"
    );
    metrics::counter!("wfm_reactor_rest_retries_total", "route" => route).increment(1);
}

/// Time spent waiting for the rate budget (slot, pause and token).
pub(crate) fn budget_waited(waited: Duration) {
    metrics::histogram!("wfm_reactor_rest_budget_wait_seconds").record(waited.as_secs_f64());
}

/// A notifications REST answer (counted without a latency sample: those routes have none).
pub fn answered(route: &'static str, status: u16) {
    metrics::counter!("wfm_reactor_rest_requests_total", "route" => route, "status" => status.to_string())
        .increment(1);
}

/// An agent schedule query answered with neither a result nor a download.
pub(crate) fn query_without_result(
    route: &'static str,
    status: &impl std::fmt::Debug,
    operation_id: &impl std::fmt::Debug,
    forced: bool,
) {
    tracing::info!(
        route,
        status = ?status,
        operation_id = ?operation_id,
        forced,
        "agent schedule query answered without a result"
    );
    metrics::counter!("wfm_reactor_rest_query_without_result_total").increment(1);
}

/// A REST answer could not be decoded.
pub(crate) fn decode_failed(route: &'static str, error: &impl std::fmt::Display) {
    tracing::warn!(route, error = %error, "cannot decode REST answer");
    metrics::counter!("wfm_reactor_rest_decode_errors_total", "route" => route).increment(1);
}
