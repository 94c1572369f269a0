//! Delivering notifications to connected sockets in the Genesys envelope.

use super::liveness::alive;
use super::state::{Inner, Outbound, Shared, Socket};
use axum::extract::ws::Utf8Bytes;
use serde_json::{Value, json};

/// The event envelope `{topicName, version, eventBody, metadata:{CorrelationId}}`.
pub(crate) fn envelope(topic: &str, body: &Value) -> String {
    json!({
        "topicName": topic, "version": "2", "eventBody": body,
        "metadata": {"CorrelationId": uuid::Uuid::new_v4().to_string()},
    })
    .to_string()
}

/// Sends `body` under `topic` to every socket whose channel subscribes it (directly or
/// through a combined topic). Returns how many sockets got it.
pub(crate) fn publish(shared: &Shared, topic: &str, body: &Value) -> usize {
    let inner = shared.lock();
    publish_locked(&inner, topic, body)
}

/// [`publish`] with the lock already held (keeps multi-event sequences in order). A
/// channel whose token died gets nothing, even before the reaper has removed it.
pub(crate) fn publish_locked(inner: &Inner, topic: &str, body: &Value) -> usize {
    let frame = Utf8Bytes::from(envelope(topic, body));
    let mut sent = 0;
    for ch in &inner.channels {
        if let Some(sock) = &ch.socket
            && ch.expanded.contains(topic)
            && alive(inner, ch)
            && sock.send(Outbound::Text(frame.clone()))
        {
            sent += 1;
        }
    }
    metrics::counter!("wfm_reactor_sim_events_published_total").increment(sent as u64);
    sent
}

/// Sends `body` to every socket subscribed to a topic accepted by `matches`, under the
/// topic name that socket subscribed (used for per-user query results, whose user id a
/// client-credentials client cannot know for sure).
pub(crate) fn publish_where(shared: &Shared, matches: impl Fn(&str) -> bool, body: &Value) -> usize {
    let inner = shared.lock();
    let mut sent = 0;
    for ch in &inner.channels {
        let Some(sock) = &ch.socket else { continue };
        if !alive(&inner, ch) {
            continue;
        }
        for topic in ch.expanded.iter().filter(|t| matches(t)) {
            if sock.send_text(envelope(topic, body)) {
                sent += 1;
            }
        }
    }
    sent
}

/// Tells a channel's socket the channel is gone (`{"result":"404"}`) and closes it.
pub(crate) fn send_gone(sock: &Socket) {
    let msg = json!({"result": "404", "message": "The channel does not exist or has expired."});
    sock.send_text(msg.to_string());
    sock.send(Outbound::Close);
}
