//! Upstream happenings (tokens, channels, sockets, frames, gaps): one log line + one metric each.

use tracing::{info, warn};

/// A token was obtained (never logs the token itself).
pub(crate) fn token_obtained(generation: u64) {
    metrics::counter!("wfm_reactor_token_requests_total", "outcome" => "ok").increment(1);
    info!(generation, "OAuth token obtained");
}

/// A token request failed (generic over the error, so telemetry imports nothing of `auth`).
pub(crate) fn token_failed(client_id: &str, error: &impl std::fmt::Display) {
    metrics::counter!("wfm_reactor_token_requests_total", "outcome" => "error").increment(1);
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
