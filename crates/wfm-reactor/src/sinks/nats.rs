//! NATS JetStream: each event published in structured mode with `Nats-Msg-Id` = its
//! CloudEvent id, acknowledged by the stream's PubAck.
//!
//! Why one publish in flight at a time: JetStream keeps the order in which messages
//! reach it. With several in flight, a message lost with a dying connection can be
//! overtaken by the next one (still queued in the client, sent after the reconnect), and
//! its retry then lands behind it. One at a time keeps each subject in sequence order
//! across outages; the `Nats-Msg-Id` de-duplication turns every retry (and every repeat
//! after a crash or a takeover) into a `duplicate` PubAck, which counts as delivered.
//!
//! Permanent failures (no such stream, a subject no stream binds, a subject bound to a
//! different stream, a message above the server's limit) dead-letter the event; a server
//! that is away or slow is retried with backoff, without limit, in order.

use super::{BatchResult, Control, DeliveryHandle};
use crate::config::NatsSinkConfig;
use crate::store::{NewDeadLetter, OutboxEvent};
use crate::telemetry::delivery as tm;
use async_nats::jetstream::{self, context::PublishErrorKind, message::PublishMessage};
use bytes::Bytes;
use std::time::Duration;

/// How long one PubAck may take before the publish is retried.
const ACK_TIMEOUT: Duration = Duration::from_secs(5);
/// Longest pause between two reconnect attempts (async-nats's own default grows to 8 s;
/// a shorter cap puts delivery back sooner after a NATS restart or failover).
const MAX_RECONNECT_DELAY: Duration = Duration::from_secs(2);

/// A JetStream stream fed by one connection.
pub struct NatsSink {
    js: jetstream::Context,
    config: NatsSinkConfig,
}

/// What one publish came to.
#[derive(Debug)]
pub enum Published {
    /// Stored by the stream (or a duplicate of a message it already holds).
    Acked {
        /// The stream said it already had this `Nats-Msg-Id`.
        duplicate: bool,
    },
    /// Try again later (server away, ack timed out, JetStream not ready).
    Retry(String),
    /// Never going to work for this event: dead-letter it.
    Refused(String),
}

impl NatsSink {
    /// Connects in the background (the daemon starts even while NATS is away; the
    /// first publishes then wait and retry). `name` labels the connection gauge, and
    /// connection changes are reported into `status` (so `/readyz` lists them).
    pub async fn connect(
        config: &NatsSinkConfig,
        name: &str,
        status: DeliveryHandle,
    ) -> anyhow::Result<Self> {
        let addrs = config
            .url
            .split(',')
            .map(|u| u.trim().parse::<async_nats::ServerAddr>())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| anyhow::anyhow!("nats url {:?}: {e}", config.url))?;
        let mut options = async_nats::ConnectOptions::new()
            .name(concat!("wfm-reactor/", env!("CARGO_PKG_VERSION")))
            .retry_on_initial_connect()
            .max_reconnects(None)
            .reconnect_delay_callback(|attempts| {
                Duration::from_millis(100 * attempts.min(20) as u64).min(MAX_RECONNECT_DELAY)
            })
            .event_callback(connection_events(name.to_string(), status));
        if let Some(path) = &config.credentials_file {
            options = options
                .credentials_file(path)
                .await
                .map_err(|e| anyhow::anyhow!("nats credentials_file {}: {e}", path.display()))?;
        }
        if let Some(tls) = &config.tls {
            options = options.require_tls(tls.required);
            if let Some(ca) = &tls.ca_file {
                options = options.add_root_certificates(ca.clone());
            }
            if let (Some(cert), Some(key)) = (&tls.cert_file, &tls.key_file) {
                options = options.add_client_certificate(cert.clone(), key.clone());
            }
        }
        tm::sink_connection(name, false);
        let client = options
            .connect(addrs)
            .await
            .map_err(|e| anyhow::anyhow!("nats {}: {e}", config.url))?;
        let mut js = jetstream::new(client);
        js.set_timeout(ACK_TIMEOUT);
        Ok(Self {
            js,
            config: config.clone(),
        })
    }

    /// Publishes the batch one event after another; stops early only when told to.
    pub async fn deliver(&mut self, batch: &[OutboxEvent], ctl: &Control) -> BatchResult {
        let mut result = BatchResult::stopped(None);
        for ev in batch {
            let mut backoff = ctl.backoff.start();
            loop {
                let outcome = tokio::select! {
                    _ = ctl.hard_stop() => return result,
                    o = self.publish(ev) => o,
                };
                match outcome {
                    Published::Acked { duplicate } => {
                        if duplicate {
                            tm::sink_duplicate(&ctl.sink, ev.seq);
                        }
                        break;
                    }
                    Published::Refused(error) => {
                        tm::sink_dead_lettered(&ctl.sink, ev.seq, None, &error);
                        result.dead.push(NewDeadLetter {
                            seq: ev.seq,
                            status: None,
                            error,
                            event: ev.json.to_string(),
                        });
                        break;
                    }
                    Published::Retry(error) => {
                        let one = std::slice::from_ref(ev);
                        if !ctl.wait_retry(&mut backoff, one, &error, None).await {
                            return result;
                        }
                    }
                }
            }
            result.acked = Some(ev.seq);
        }
        result.stopped = false;
        result
    }

    /// One publish of one event, waiting for its PubAck.
    pub async fn publish(&self, ev: &OutboxEvent) -> Published {
        let Some(event_type) = event_type(&ev.json) else {
            return Published::Refused("event has no CloudEvent type".into());
        };
        let subject = self.config.subject_for(&event_type);
        let message = PublishMessage::build()
            .payload(Bytes::copy_from_slice(ev.json.as_bytes()))
            .header("Content-Type", "application/cloudevents+json")
            .message_id(&ev.id)
            .expected_stream(&self.config.stream);
        let ack = match self.js.send_publish(subject.clone(), message).await {
            Ok(ack) => ack.await,
            Err(e) => Err(e),
        };
        match ack {
            Ok(ack) => Published::Acked {
                duplicate: ack.duplicate,
            },
            Err(err) => self.classify(&subject, err).await,
        }
    }

    /// Sorts a failed publish into retry or refuse. "No responders" is ambiguous (no
    /// stream binds the subject, or JetStream is still starting after a restart), so
    /// the stream itself is asked before an event is given up.
    async fn classify(&self, subject: &str, err: jetstream::context::PublishError) -> Published {
        let text = format!("publish to {subject}: {err}");
        match err.kind() {
            PublishErrorKind::StreamNotFound => self.check_binding(subject, text).await,
            PublishErrorKind::MaxPayloadExceeded => Published::Refused(text),
            PublishErrorKind::Other => match api_error_code(&err) {
                Some(code) if (400..500).contains(&code) && code != 408 && code != 429 => {
                    Published::Refused(text)
                }
                _ => Published::Retry(text),
            },
            _ => Published::Retry(text),
        }
    }

    /// After "no responders": refuse only when the stream is known not to take `subject`.
    async fn check_binding(&self, subject: &str, text: String) -> Published {
        use jetstream::context::GetStreamErrorKind;
        let stream = &self.config.stream;
        match self.js.get_stream(stream).await {
            Ok(s) => {
                let subjects = &s.cached_info().config.subjects;
                if subjects.iter().any(|pattern| subject_matches(pattern, subject)) {
                    Published::Retry(format!("{text} (stream {stream} binds it; JetStream not ready?)"))
                } else {
                    Published::Refused(format!(
                        "subject {subject} is not bound to stream {stream} (its subjects: {})",
                        subjects.join(", ")
                    ))
                }
            }
            Err(e) => match e.kind() {
                GetStreamErrorKind::JetStream(api) if api.code() == 404 => {
                    Published::Refused(format!("no such stream {stream}: {api}"))
                }
                _ => Published::Retry(format!("{text}; stream {stream} lookup: {e}")),
            },
        }
    }
}

/// The JetStream API error code (HTTP-like: 400, 404, 503...) behind a publish error.
fn api_error_code(err: &jetstream::context::PublishError) -> Option<usize> {
    let source = std::error::Error::source(err)?;
    source.downcast_ref::<jetstream::Error>().map(|e| e.code())
}

/// The event's CloudEvent `type`, read without building the whole JSON tree.
fn event_type(json: &str) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Head {
        r#type: String,
    }
    serde_json::from_str::<Head>(json).ok().map(|h| h.r#type)
}

/// Whether a NATS subject pattern (`*` one token, `>` the rest) matches `subject`.
pub fn subject_matches(pattern: &str, subject: &str) -> bool {
    let mut want = pattern.split('.');
    let mut have = subject.split('.');
    loop {
        match (want.next(), have.next()) {
            (Some(">"), Some(_)) => return true,
            (Some("*"), Some(_)) => {}
            (Some(w), Some(h)) if w == h => {}
            (None, None) => return true,
            _ => return false,
        }
    }
}

/// The connection callback: logs, sets the gauge, and tells `/readyz` while away.
fn connection_events(
    sink: String,
    status: DeliveryHandle,
) -> impl Fn(async_nats::Event) -> futures::future::Ready<()> + Send + Sync + 'static {
    move |event| {
        match event {
            async_nats::Event::Connected => {
                tm::sink_connection(&sink, true);
                status.update(&sink, |s| s.last_error = None);
            }
            async_nats::Event::Disconnected => {
                tm::sink_connection(&sink, false);
                status.update(&sink, |s| {
                    s.last_error = Some("disconnected from the NATS server; reconnecting".into())
                });
            }
            other => tm::sink_connection_event(&sink, &other.to_string()),
        }
        futures::future::ready(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_match_like_nats() {
        assert!(subject_matches("wfm.>", "wfm.presence.changed"));
        assert!(subject_matches("wfm.*.changed", "wfm.presence.changed"));
        assert!(subject_matches("wfm.presence.changed", "wfm.presence.changed"));
        assert!(!subject_matches("wfm.*", "wfm.presence.changed"));
        assert!(!subject_matches("wfm.>", "wfm"));
        assert!(!subject_matches("other.>", "wfm.presence.changed"));
    }

    #[test]
    fn the_type_is_read_from_the_event() {
        let json = r#"{"specversion":"1.0","id":"x","type":"presence.changed","data":{"a":[1]}}"#;
        assert_eq!(event_type(json).as_deref(), Some("presence.changed"));
        assert_eq!(event_type("{}"), None);
    }
}
