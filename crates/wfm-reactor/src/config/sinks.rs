//! `[[sinks]]`: where events go (a closed set, so a tagged enum).

use super::Secret;
use super::defaults::{default_webhook_concurrency, default_webhook_timeout};
use super::nats::NatsSinkConfig;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::time::Duration;

/// One `[[sinks]]` entry.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
pub enum SinkConfig {
    /// NDJSON on standard output, flushed per line.
    Stdout {
        /// Cursor name; defaults to the type (with `-2`, `-3`… for repeats).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
    },
    /// NDJSON appended to a file, fsync per batch.
    File {
        /// Cursor name; see `stdout`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        /// The file to append to (created with its parent directory).
        path: PathBuf,
    },
    /// HTTP POST per event, Standard Webhooks signed when a secret is set.
    Webhook {
        /// Cursor name; see `stdout`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        /// Target URL (http or https); shown with query and user-info redacted.
        #[serde(serialize_with = "crate::redact::serialize")]
        url: String,
        /// Standard Webhooks secret (`whsec_` + base64); unsigned when empty.
        #[serde(default)]
        secret: Secret,
        /// Per-request timeout.
        #[serde(default = "default_webhook_timeout", with = "humantime_serde")]
        timeout: Duration,
        /// POSTs in flight at once. 1 (the default) delivers strictly one after another;
        /// more lifts throughput past one event per round trip, at the price of order
        /// between the events in flight (the cursor still only moves over a contiguous
        /// acknowledged prefix, so nothing is skipped across a crash).
        #[serde(default = "default_webhook_concurrency")]
        concurrency: usize,
    },
    /// Publish to NATS JetStream (`Nats-Msg-Id` = CloudEvent id, cursor on the PubAck).
    Nats(NatsSinkConfig),
}

impl SinkConfig {
    /// The sink's type as written in the file.
    pub fn kind(&self) -> &'static str {
        match self {
            SinkConfig::Stdout { .. } => "stdout",
            SinkConfig::File { .. } => "file",
            SinkConfig::Webhook { .. } => "webhook",
            SinkConfig::Nats(_) => "nats",
        }
    }

    pub(super) fn explicit_name(&self) -> Option<&str> {
        match self {
            SinkConfig::Stdout { name }
            | SinkConfig::File { name, .. }
            | SinkConfig::Webhook { name, .. } => name.as_deref(),
            SinkConfig::Nats(n) => n.name.as_deref(),
        }
    }
}
