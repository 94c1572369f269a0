//! Sinks and the delivery path: one task per sink reads the outbox from its own cursor.
//!
//! The outbox is the backlog, so a slow sink never blocks another sink or the store
//! writer. A sink's cursor advances only after the sink acknowledged the batch
//! (stdout flushed, file fsync'd, webhook 2xx or dead-lettered), and is written to the
//! store at most once per `cursor_persist_interval`, which makes delivery at-least-once
//! across crashes (a crash repeats at most that interval's events); repeats carry the
//! same CloudEvent `id`.

mod delivery;
mod file;
mod nats;
pub mod signing;
mod stdout;
mod webhook;

pub use delivery::{DeliveryHandle, DeliveryOptions, SinkStatus, spawn_delivery, spawn_sinks};
pub use file::FileSink;
pub use nats::{NatsSink, Published, subject_matches};
pub use stdout::WriterSink;
pub use webhook::{Attempt, WebhookSink, parse_retry_after};

use crate::backoff::{Backoff, BackoffPolicy};
use crate::config::SinkConfig;
use crate::store::{NewDeadLetter, OutboxEvent};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// A runnable sink (a closed set, so an enum).
pub enum Sink {
    /// NDJSON to standard output or any writer.
    Writer(WriterSink<Box<dyn tokio::io::AsyncWrite + Send + Sync + Unpin>>),
    /// NDJSON appended to a file.
    File(FileSink),
    /// HTTP POST per event.
    Webhook(WebhookSink),
    /// Publish per event to NATS JetStream (boxed: the JetStream context is large).
    Nats(Box<NatsSink>),
}

/// Most events one webhook batch holds. A webhook posts per event but its cursor moves
/// per batch, so the batch bounds how many delivered events a crash posts again; longer
/// batches buy nothing there (each event is its own request anyway).
pub const WEBHOOK_BATCH: usize = 64;

impl Sink {
    /// Events to read per batch, given the configured size (see [`WEBHOOK_BATCH`]).
    pub(crate) fn batch_limit(&self, configured: usize) -> usize {
        match self {
            Sink::Webhook(_) => configured.min(WEBHOOK_BATCH),
            Sink::Writer(_) | Sink::File(_) | Sink::Nats(_) => configured,
        }
    }

    /// Builds the sink a config entry describes (opens files, builds HTTP clients,
    /// starts connecting to NATS). `name` and `status` are where a sink with a
    /// connection of its own reports it.
    pub async fn from_config(
        config: &SinkConfig,
        name: &str,
        status: &DeliveryHandle,
    ) -> anyhow::Result<Sink> {
        Ok(match config {
            SinkConfig::Stdout { .. } => Sink::Writer(WriterSink::new(Box::new(tokio::io::stdout()))),
            SinkConfig::File { path, .. } => {
                let f = FileSink::open(path)
                    .await
                    .map_err(|e| anyhow::anyhow!("file sink {}: {e}", path.display()))?;
                Sink::File(f)
            }
            SinkConfig::Webhook {
                url,
                secret,
                timeout,
                concurrency,
                ..
            } => Sink::Webhook(
                WebhookSink::new(url, secret.expose(), *timeout, *concurrency)
                    .map_err(|e| anyhow::anyhow!("webhook sink {}: {e}", crate::redact::url(url)))?,
            ),
            SinkConfig::Nats(nats) => {
                Sink::Nats(Box::new(NatsSink::connect(nats, name, status.clone()).await?))
            }
        })
    }

    /// Delivers a batch (in order) and says how far it got.
    pub async fn deliver(&mut self, batch: &[OutboxEvent], ctl: &Control) -> BatchResult {
        match self {
            Sink::Writer(s) => s.deliver(batch, ctl).await,
            Sink::File(s) => s.deliver(batch, ctl).await,
            Sink::Webhook(s) => s.deliver(batch, ctl).await,
            Sink::Nats(s) => s.deliver(batch, ctl).await,
        }
    }
}

/// How far a batch got.
#[derive(Debug, Default)]
pub struct BatchResult {
    /// Highest sequence acknowledged (every earlier event of the batch too).
    pub acked: Option<u64>,
    /// Events refused for good, to record with the acknowledgement.
    pub dead: Vec<NewDeadLetter>,
    /// Delivery was stopped (shutdown) before the batch completed.
    pub stopped: bool,
}

impl BatchResult {
    /// Everything acknowledged.
    pub fn all(batch: &[OutboxEvent]) -> Self {
        Self {
            acked: batch.last().map(|e| e.seq),
            dead: Vec::new(),
            stopped: false,
        }
    }

    /// Stopped, having acknowledged up to `acked`.
    pub(crate) fn stopped(acked: Option<u64>) -> Self {
        Self {
            acked,
            dead: Vec::new(),
            stopped: true,
        }
    }
}

/// What a sink needs to know while delivering: its name, retry policy, shutdown.
#[derive(Debug, Clone)]
pub struct Control {
    /// Sink name (logs, metrics).
    pub sink: String,
    /// Retry policy for retryable failures.
    pub backoff: BackoffPolicy,
    /// Shutdown: stop waiting for retries at once.
    pub cancel: CancellationToken,
    /// After shutdown, how long a request in flight may still take.
    pub grace: Duration,
    /// Where retries are reported (`last_error`, for readiness and `/v1/state`).
    pub status: DeliveryHandle,
}

impl Control {
    /// Resolves `grace` after shutdown began: in-flight I/O is abandoned then.
    pub async fn hard_stop(&self) {
        self.cancel.cancelled().await;
        tokio::time::sleep(self.grace).await;
    }

    /// Logs the failure and waits the next backoff delay; false when shut down meanwhile.
    pub async fn wait_retry(
        &self,
        backoff: &mut Backoff,
        batch: &[OutboxEvent],
        error: &str,
        retry_after: Option<Duration>,
    ) -> bool {
        let delay = backoff.next_delay_at_least(retry_after);
        let seq = batch.first().map_or(0, |e| e.seq);
        // Shown in logs and the unauthenticated `/readyz`: no URL secret may pass.
        let error = crate::redact::text(error);
        crate::telemetry::delivery::sink_retry(&self.sink, seq, &error, delay);
        self.status.update(&self.sink, |s| s.last_error = Some(error));
        tokio::select! {
            _ = self.cancel.cancelled() => false,
            _ = tokio::time::sleep(delay) => true,
        }
    }
}
