//! Stopping the reactor: what was due is fetched within the grace period, and everything
//! still pending is persisted as dirty keys, so a restart re-fetches instead of losing it.

use super::{Reactor, schedule};
use crate::store::{Batch, StateChange};
use tokio::time::Instant;

impl Reactor {
    /// Finishes due fetches within the grace period, then persists every key still
    /// pending (waiting, retrying or abandoned in flight) as dirty for the next start.
    pub(super) async fn shutdown(mut self) {
        tracing::info!(
            pending = self.coalescer.len(),
            in_flight = self.tasks.len(),
            "reactor stopping: finishing due fetches"
        );
        let deadline = Instant::now() + self.grace;
        // Fire everything that is already due, then wait for in-flight work within the grace.
        self.fire_due();
        while !self.tasks.is_empty() {
            match tokio::time::timeout_at(deadline, self.tasks.join_next()).await {
                Ok(Some(done)) => self.on_done(done),
                Ok(None) => break,
                Err(_) => {
                    tracing::warn!(
                        in_flight = self.tasks.len(),
                        "grace period over; abandoning in-flight fetches"
                    );
                    break;
                }
            }
        }
        self.drain_commits().await;
        self.first.finish_marking().await;
        let mut keys = self.coalescer.pending_keys();
        keys.extend(self.hints.keys().cloned());
        keys.sort();
        keys.dedup();
        if !keys.is_empty() {
            tracing::info!(
                keys = keys.len(),
                "persisting pending schedule keys as dirty for the next start"
            );
            let changes = keys
                .iter()
                .map(|k| StateChange::MarkDirty(schedule::dirty(k)))
                .collect();
            if let Err(err) = self
                .ctx
                .store
                .commit(Batch {
                    changes,
                    events: vec![],
                })
                .await
            {
                tracing::error!(error = %err, "could not persist pending keys; they will be found by the next start's reconcile");
            }
        }
        tracing::info!("reactor stopped");
    }
}
