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

/// An SSE client lagged behind the broadcast buffer and was dropped.
pub(crate) fn sse_client_dropped(missed: u64) {
    warn!(missed, "SSE client lagged behind the live feed; dropping it");
    metrics::counter!("wfm_reactor_sse_clients_dropped_total").increment(1);
    sse_client_gone();
}

/// A doctor check failed.
pub(crate) fn doctor_check_failed(check: &str, missing: &[String], detail: &str) {
    warn!(check, missing = ?missing, detail, "doctor check failed");
    metrics::counter!("wfm_reactor_doctor_failures_total").increment(1);
}
