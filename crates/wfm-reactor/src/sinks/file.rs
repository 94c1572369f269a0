//! NDJSON appended to a file, fsync'd per batch before the cursor moves.
//!
//! The batch is written and synced in ONE blocking-pool call on a `std::fs::File`:
//! `tokio::fs::File` copies every write into its own buffer (kept at up to 2 MiB after a
//! large batch) and hops to the blocking pool once per `write`, `flush` and `sync_data`,
//! which showed up in both the ingest CPU profile and the steady-state heap census
//! (docs/performance.md).

use super::{BatchResult, Control, stdout::ndjson};
use crate::store::OutboxEvent;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Appends one event per line; a batch is acknowledged only after `fsync`.
pub struct FileSink {
    path: PathBuf,
    file: Arc<std::fs::File>,
}

impl FileSink {
    /// Opens the file for appending, creating it (0600) and its parent directories
    /// (0700) when missing.
    pub async fn open(path: &Path) -> std::io::Result<Self> {
        let owned = path.to_path_buf();
        tokio::task::spawn_blocking(move || crate::files::create_private_file(&owned))
            .await
            .map_err(std::io::Error::other)??;
        let file = tokio::fs::OpenOptions::new()
            .append(true)
            .open(path)
            .await?
            .into_std()
            .await;
        Ok(Self {
            path: path.to_path_buf(),
            file: Arc::new(file),
        })
    }

    /// The file written to.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends and syncs the batch, retrying I/O errors with backoff until done or stopped.
    pub async fn deliver(&mut self, batch: &[OutboxEvent], ctl: &Control) -> BatchResult {
        let buf = Arc::new(ndjson(batch));
        let mut backoff = ctl.backoff.start();
        loop {
            let (file, buf) = (self.file.clone(), buf.clone());
            let attempt = tokio::task::spawn_blocking(move || {
                (&*file).write_all(&buf)?;
                file.sync_data()
            });
            let err = tokio::select! {
                _ = ctl.hard_stop() => return BatchResult::stopped(None),
                r = attempt => match r {
                    Ok(Ok(())) => return BatchResult::all(batch),
                    Ok(Err(e)) => e,
                    Err(join) => std::io::Error::other(format!("file write task failed: {join}")),
                },
            };
            if !ctl.wait_retry(&mut backoff, batch, &err.to_string(), None).await {
                return BatchResult::stopped(None);
            }
        }
    }
}
