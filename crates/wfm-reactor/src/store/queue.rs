//! Queueing a batch in decision order: each backend's writer queue is FIFO and groups run
//! one after the other, so batches commit (and their events take outbox sequences) in the
//! order they were queued. The reactor queues presence batches on its own task and waits
//! for the answers elsewhere, so no scheduler can reorder its commits.

use super::writer::{Reply, WriteOp};
use super::{Batch, SqliteStore, StoreError};
use futures::future::BoxFuture;
use tokio::sync::oneshot;

/// A batch holding its place in the writer's queue; [`Queued::committed`] waits for the
/// answer (it can be awaited on any task without changing the commit order).
pub struct Queued {
    /// Resolves with the sequences once the backend's transaction committed.
    answer: BoxFuture<'static, Result<Vec<u64>, StoreError>>,
    /// Event types and arrival instants, for the emitted-events telemetry after commit.
    timing: Vec<(&'static str, Option<tokio::time::Instant>)>,
}

impl Queued {
    /// Wraps a backend's answer for `batch` (its timing taken before it was handed over).
    pub(super) fn new(
        timing: Vec<(&'static str, Option<tokio::time::Instant>)>,
        answer: BoxFuture<'static, Result<Vec<u64>, StoreError>>,
    ) -> Self {
        Self { answer, timing }
    }

    /// The events' sequences once the transaction holding the batch committed.
    pub async fn committed(self) -> Result<Vec<u64>, StoreError> {
        let seqs = self.answer.await?;
        crate::telemetry::delivery::events_emitted(&self.timing);
        Ok(seqs)
    }
}

/// Event types and arrival instants of a batch's events.
pub(super) fn timing(batch: &Batch) -> Vec<(&'static str, Option<tokio::time::Instant>)> {
    batch
        .events
        .iter()
        .map(|e| (e.event_type, e.received_at))
        .collect()
}

impl SqliteStore {
    /// Puts `batch` in the writer's queue and returns once it holds its place (waiting
    /// only while the queue is full); the future answers after the commit.
    pub(super) async fn queue(
        &self,
        batch: Batch,
    ) -> Result<BoxFuture<'static, Result<Vec<u64>, StoreError>>, StoreError> {
        let (tx, reply) = oneshot::channel();
        let op: WriteOp = Box::new(move |conn, st| {
            let result = super::state::apply(conn, &batch.changes)
                .and_then(|()| super::outbox::append(conn, st, &batch.events));
            let ok = result.is_ok();
            let reply: Reply = Box::new(move |commit| {
                let _ = tx.send(commit.and(result));
            });
            (ok, reply)
        });
        self.inner
            .writer
            .send(op)
            .await
            .map_err(|_| StoreError::WriterGone)?;
        Ok(Box::pin(async move {
            reply.await.map_err(|_| StoreError::WriterGone)?
        }))
    }
}
