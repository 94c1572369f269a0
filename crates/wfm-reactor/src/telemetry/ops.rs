//! Operator-facing happenings (live feed clients, doctor checks): one log line + one metric each.

use tracing::warn;

/// An SSE client connected to the live feed.
pub(crate) fn sse_client_connected() {
    metrics::gauge!("wfm_reactor_sse_clients").increment(1.0);
}

/// An SSE client's stream ended (its slot was given back).
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

/// An SSE client lagged behind the broadcast buffer and was dropped.
pub(crate) fn sse_client_dropped(missed: u64) {
    warn!(missed, "SSE client lagged behind the live feed; dropping it");
    metrics::counter!("wfm_reactor_sse_clients_dropped_total").increment(1);
}

/// An SSE client was turned away: `max` clients are connected already.
pub(crate) fn sse_client_refused(max: usize) {
    warn!(max, "live feed client refused: admin.max_sse_clients reached");
    metrics::counter!("wfm_reactor_sse_clients_refused_total").increment(1);
}

/// An admin request was refused by the tokenless policy (`reason`: `host` or `origin`).
pub(crate) fn admin_refused(reason: &'static str) {
    warn!(reason, "admin request refused (foreign Host or Origin)");
    metrics::counter!("wfm_reactor_admin_refused_total", "reason" => reason).increment(1);
}

/// A `POST /v1/resync` came within the cooldown; the client may retry in `secs`.
pub(crate) fn resync_refused(secs: u64) {
    tracing::info!(
        retry_after_s = secs,
        "resync refused: within reconcile.resync_cooldown"
    );
    metrics::counter!("wfm_reactor_resync_refused_total").increment(1);
}

/// A doctor check failed.
pub(crate) fn doctor_check_failed(check: &str, missing: &[String], detail: &str) {
    warn!(check, missing = ?missing, detail, "doctor check failed");
    metrics::counter!("wfm_reactor_doctor_failures_total").increment(1);
}

/// Samples the runtime's live task count into `wfm_reactor_tokio_tasks` (called per scrape,
/// so a soak run or an operator sees a task leak as a rising line). Outside a runtime: 0.
pub fn sample_tokio_tasks() {
    let alive = tokio::runtime::Handle::try_current()
        .map(|h| h.metrics().num_alive_tasks())
        .unwrap_or(0);
    metrics::gauge!("wfm_reactor_tokio_tasks").set(alive as f64);
}
