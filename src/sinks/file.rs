//! NDJSON appended to a file, fsync'd per batch before the cursor moves.

use super::{BatchResult, Control, stdout::ndjson};
use crate::store::OutboxEvent;
use std::path::{Path, PathBuf};
use tokio::io::AsyncWriteExt;

/// Appends one event per line; a batch is acknowledged only after `fsync`.
pub struct FileSink {
    path: PathBuf,
    file: tokio::fs::File,
}

impl FileSink {
    /// Opens (creating it and its parent directory) the file for appending.
    pub async fn open(path: &Path) -> std::io::Result<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            tokio::fs::create_dir_all(dir).await?;
        }
        let file = tokio::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .await?;
        Ok(Self {
            path: path.to_path_buf(),
            file,
        })
    }

    /// The file written to.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends and syncs the batch, retrying I/O errors with backoff until done or stopped.
    pub async fn deliver(&mut self, batch: &[OutboxEvent], ctl: &Control) -> BatchResult {
        let buf = ndjson(batch);
        let mut backoff = ctl.backoff.start();
        loop {
            let attempt = async {
                self.file.write_all(&buf).await?;
                self.file.flush().await?;
                self.file.sync_data().await
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
