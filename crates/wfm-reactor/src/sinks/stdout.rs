//! NDJSON to any `AsyncWrite` (standard output in the daemon, a buffer in tests).

use super::{BatchResult, Control};
use crate::store::OutboxEvent;
use tokio::io::{AsyncWrite, AsyncWriteExt};

/// Writes one event per line. Lines are assembled per batch and flushed at the end of
/// each batch: every line reaches the output whole, and nothing waits behind a buffer.
pub struct WriterSink<W> {
    out: W,
}

impl<W: AsyncWrite + Unpin + Send> WriterSink<W> {
    /// Wraps a writer.
    pub fn new(out: W) -> Self {
        Self { out }
    }

    /// Writes the batch, retrying I/O errors with backoff until done or stopped.
    pub async fn deliver(&mut self, batch: &[OutboxEvent], ctl: &Control) -> BatchResult {
        let buf = ndjson(batch);
        let mut backoff = ctl.backoff.start();
        loop {
            let attempt = async {
                self.out.write_all(&buf).await?;
                self.out.flush().await
            };
            let err = tokio::select! {
                _ = ctl.hard_stop() => return BatchResult::stopped(None),
                r = attempt => match r {
                    Ok(()) => return BatchResult::all(batch),
                    Err(e) => e,
                },
            };
            if !ctl.wait_retry(&mut backoff, batch, &err.to_string(), None).await {
                return BatchResult::stopped(None);
            }
        }
    }
}

/// The batch as NDJSON bytes.
pub(super) fn ndjson(batch: &[OutboxEvent]) -> Vec<u8> {
    let mut buf = Vec::with_capacity(batch.iter().map(|e| e.json.len() + 1).sum());
    for e in batch {
        buf.extend_from_slice(e.json.as_bytes());
        buf.push(b'\n');
    }
    buf
}
