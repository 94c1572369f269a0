//! Presence commits in decision order.
//!
//! The reactor decides presence changes one after the other against its cache, and the
//! outbox must show them in that order: a consumer applies events by `sequence`, and an
//! event whose `previous` is not the one before it leaves that consumer on a stale
//! presence. So the reactor queues each batch to the store writer itself, in order (the
//! writer's queue is FIFO), and only the wait for the answer runs on a spawned task:
//! however those tasks are scheduled, the order is already fixed. Answers come back as
//! [`Committed`] to the reactor, which alone decides what a failure means for its cache.

use crate::store::{Batch, Store, StoreError};
use std::collections::HashMap;
use tokio::task::{Id, JoinSet};

/// Commits awaiting their answer before the reactor waits (bounds queued batches).
const MAX_IN_FLIGHT: usize = 16;

/// A batch's place in the commit order (increasing from 1).
pub(super) type Ticket = u64;

/// The answer for one queued batch.
pub(super) struct Committed {
    pub ticket: Ticket,
    pub result: Result<(), StoreError>,
}

/// The queue of presence batches between the reactor and the store writer.
pub(super) struct Commits {
    store: Store,
    waits: JoinSet<Result<(), StoreError>>,
    /// The ticket each wait task answers for.
    tickets: HashMap<Id, Ticket>,
    last: Ticket,
}

impl Commits {
    pub(super) fn new(store: Store) -> Self {
        Self {
            store,
            waits: JoinSet::new(),
            tickets: HashMap::new(),
            last: 0,
        }
    }

    /// True when the reactor should take an answer before queueing more.
    pub(super) fn is_full(&self) -> bool {
        self.waits.len() >= MAX_IN_FLIGHT
    }

    /// True when no answer is awaited.
    pub(super) fn is_empty(&self) -> bool {
        self.waits.is_empty()
    }

    /// Queues `batch` behind every batch queued before it and returns its ticket; the
    /// answer arrives through [`Commits::next`]. Call from the reactor task only.
    pub(super) async fn queue(&mut self, batch: Batch) -> Ticket {
        self.last += 1;
        let ticket = self.last;
        let queued = self.store.queue(batch).await;
        let wait = self
            .waits
            .spawn(async move { queued?.committed().await.map(|_| ()) });
        self.tickets.insert(wait.id(), ticket);
        ticket
    }

    /// The next answer (`None` when none is awaited). A wait task that panicked counts
    /// as a failed commit: whether its batch is in is unknown, so the cache is reloaded.
    pub(super) async fn next(&mut self) -> Option<Committed> {
        let (id, result) = match self.waits.join_next_with_id().await? {
            Ok((id, result)) => (id, result),
            Err(err) => {
                tracing::error!(error = %err, "presence commit wait panicked");
                (err.id(), Err(StoreError::WriterGone))
            }
        };
        let ticket = self.tickets.remove(&id).unwrap_or_default();
        Some(Committed { ticket, result })
    }
}
