//! Operator-facing happenings (live feed clients, doctor checks): one log line + one metric each.

use tracing::warn;

/// An SSE client connected to the live feed.
pub(crate) fn sse_client_connected() {
    metrics::gauge!("wfm_reactor_sse_clients").increment(1.0);
}

/// An SSE client's stream ended.
pub(crate) fn sse_client_gone() {
    metrics::gauge!("wfm_reactor_sse_clients").decrement(1.0);
}

/// An SSE client lagged behind the live broadcast; it is caught up from the outbox.
pub(crate) fn sse_client_lagged(missed: u64) {
    warn!(
        missed,
        "SSE client lagged behind the live feed; catching it up from the outbox"
    );
    metrics::counter!("wfm_reactor_sse_clients_lagged_total").increment(1);
}

/// An SSE client asked for history already pruned; it got `event: reset`.
pub(crate) fn sse_client_reset() {
    metrics::counter!("wfm_reactor_sse_resets_total").increment(1);
}

/// A doctor check failed.
pub(crate) fn doctor_check_failed(check: &str, missing: &[String], detail: &str) {
    warn!(check, missing = ?missing, detail, "doctor check failed");
    metrics::counter!("wfm_reactor_doctor_failures_total").increment(1);
}
