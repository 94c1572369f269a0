//! Upstream happenings (tokens, channels, sockets, frames, gaps): one log line + one metric each.

use tracing::{info, warn};

/// A token was obtained (never logs the token itself).
pub(crate) fn token_obtained(client_id: &str, generation: u64) {
    metrics::counter!("wfm_reactor_token_requests_total", "client" => client_id.to_string(), "outcome" => "ok")
        .increment(1);
    info!(client_id, generation, "OAuth token obtained");
}

/// A token request failed (generic over the error, so telemetry imports nothing of `auth`).
pub(crate) fn token_failed(client_id: &str, error: &impl std::fmt::Display) {
    metrics::counter!("wfm_reactor_token_requests_total", "client" => client_id.to_string(), "outcome" => "error")
        .increment(1);
    warn!(client_id, error = %error, "OAuth token request failed");
}

/// A frame was refused before or during parsing.
/// (Logged inside the session's span, which names the channel.)
pub(crate) fn frame_rejected(reason: &'static str, detail: &str) {
    metrics::counter!("wfm_reactor_frames_rejected_total", "reason" => reason).increment(1);
    warn!(reason, detail, "notification frame rejected");
}

/// A notification frame was parsed (heartbeats excluded).
pub(crate) fn notification_received(kind: &'static str) {
    metrics::counter!("wfm_reactor_notifications_received_total", "kind" => kind).increment(1);
}

/// A heartbeat window passed without any frame (a ping follows).
/// (Logged inside the session's span, which names the channel.)
pub(crate) fn heartbeat_missed() {
    metrics::counter!("wfm_reactor_heartbeats_missed_total").increment(1);
    warn!("no frame within heartbeat timeout, sending ping");
}

/// A socket or channel is being replaced.
pub fn reconnect(channel: &str, cause: &'static str) {
    metrics::counter!("wfm_reactor_reconnects_total", "cause" => cause).increment(1);
    warn!(channel, cause, "reconnecting notification socket");
}

/// A `socket_closing` notice ignored: a replacement socket is pending or the old one
/// still drains (a channel never has more than two sockets).
pub(crate) fn socket_closing_ignored(channel: &str, why: &'static str) {
    metrics::counter!("wfm_reactor_socket_closing_ignored_total").increment(1);
    tracing::debug!(channel, why, "socket_closing ignored");
}

/// Events may have been missed on these topics.
pub fn gap(cause: &'static str, topics: usize) {
    metrics::counter!("wfm_reactor_gaps_total").increment(1);
    info!(cause, topics, "notification gap: reconcile needed");
}

/// Current number of channels and subscribed topics.
pub(crate) fn channel_counts(channels: usize, topics: usize) {
    metrics::gauge!("wfm_reactor_channels").set(channels as f64);
    metrics::gauge!("wfm_reactor_topics").set(topics as f64);
}

/// A topic was refused for missing permissions.
pub(crate) fn topic_rejected(topic: &str, reason: &str, missing: &[String]) {
    metrics::counter!("wfm_reactor_topics_rejected_total").increment(1);
    warn!(topic, reason, missing_permissions = ?missing, "topic subscription rejected");
}

/// A topic refused earlier was accepted now (it leaves the degraded list).
pub(crate) fn topic_recovered(topic: &str) {
    metrics::counter!("wfm_reactor_topics_recovered_total").increment(1);
    info!(topic, "topic accepted now; no longer degraded");
}

/// A combined topic was refused as a whole; its parts are subscribed one by one.
pub(crate) fn combined_topic_split(channel: &str, topic: &str, missing: &[String]) {
    metrics::counter!("wfm_reactor_combined_topics_split_total").increment(1);
    warn!(channel, topic, missing = ?missing, "combined topic refused; subscribing its parts one by one");
}

/// The same frame arrived on a second socket or channel and was dropped.
pub(crate) fn frame_duplicate() {
    metrics::counter!("wfm_reactor_frames_duplicate_total").increment(1);
}

/// An upstream number (`Retry-After`, `expires_in`) beyond its bound, used as the bound.
pub(crate) fn number_clamped(
    route: &'static str,
    field: &'static str,
    value: f64,
    bound: std::time::Duration,
) {
    metrics::counter!("wfm_reactor_upstream_numbers_clamped_total", "field" => field).increment(1);
    warn!(
        route,
        field,
        value,
        bound_s = bound.as_secs(),
        "upstream number beyond its bound: clamped"
    );
}

/// An upstream number that does not parse, treated as absent.
pub(crate) fn number_refused(route: &'static str, field: &'static str, raw: &str) {
    metrics::counter!("wfm_reactor_upstream_numbers_refused_total", "field" => field).increment(1);
    let raw: String = raw.chars().take(64).collect();
    warn!(
        route,
        field, raw, "unparseable upstream number: treated as absent"
    );
}

/// An upstream body larger than its route's cap: the read stopped there.
pub(crate) fn body_too_large(route: &'static str, cap: u64) {
    metrics::counter!("wfm_reactor_upstream_bodies_too_large_total", "route" => route).increment(1);
    warn!(
        route,
        cap_bytes = cap,
        "upstream body larger than its cap: refused"
    );
}

/// A channel worker ended early (panic or return) and is started again after `delay`.
pub(crate) fn channel_worker_restarted(slot: u64, why: &str, delay: std::time::Duration) {
    metrics::counter!("wfm_reactor_channel_worker_restarts_total").increment(1);
    warn!(
        slot,
        why,
        delay_ms = delay.as_millis() as u64,
        "channel worker ended; restarting"
    );
}

/// A channel worker kept dying young and is given up: `/livez` fails from now on.
pub(crate) fn channel_worker_given_up(slot: u64, why: &str) {
    metrics::counter!("wfm_reactor_channel_workers_given_up_total").increment(1);
    tracing::error!(slot, why, "channel worker cannot be restarted; liveness fails");
}

/// Topics assigned to one OAuth client (`[[genesys.clients]]`).
pub(crate) fn client_topics(client: &str, topics: usize) {
    metrics::gauge!("wfm_reactor_client_topics", "client" => client.to_string()).set(topics as f64);
}

/// 1 while one OAuth client holds a token, 0 while it is refused or missing.
pub(crate) fn client_healthy(client: &str, healthy: bool) {
    let v = if healthy { 1.0 } else { 0.0 };
    metrics::gauge!("wfm_reactor_client_token_held", "client" => client.to_string()).set(v);
}

/// Registers the per-client gauges of every configured client before the first scrape.
pub fn expose_clients(clients: &[String]) {
    for c in clients {
        metrics::gauge!("wfm_reactor_client_topics", "client" => c.clone()).increment(0.0);
        metrics::gauge!("wfm_reactor_client_token_held", "client" => c.clone()).increment(0.0);
        for outcome in ["ok", "error"] {
            metrics::counter!("wfm_reactor_token_requests_total", "client" => c.clone(), "outcome" => outcome)
                .absolute(0);
        }
    }
}
