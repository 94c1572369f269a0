//! The embedded store: last-known state, the outbox, sink cursors, dead letters.
//!
//! [`Store`] is a cheap `Clone` handle onto two actor threads (see `writer`): every
//! write goes through one group-committing writer, reads through a read-only WAL
//! connection. State changes and the events they produce commit in one transaction,
//! which is what makes delivery at-least-once: an event exists only once its state did.

mod adherence;
mod checkpoint;
mod deadletters;
mod outbox;
mod queries;
mod queue;
mod replay;
mod schema;
mod state;
mod writer;

pub use adherence::{StoredAdherence, StoredAgentSchedule};
pub use deadletters::{DeadLetter, NewDeadLetter};
pub use outbox::OutboxEvent;
pub use queue::Queued;
pub use schema::SCHEMA_VERSION;
pub use state::{
    AgentScheduleRow, DirtyKey, StateChange, StoredPresence, StoredRoutingStatus, StoredSchedule,
};

use crate::events::NewEvent;
use rusqlite::Connection;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::sync::{broadcast, mpsc, oneshot, watch};
use writer::{GroupState, Outputs, ReadOp, WriteOp};

/// Capacity of the live broadcast (events a slow SSE client may fall behind by).
/// Live-feed slots: bounded so a lagging SSE client can pin at most this many events.
const LIVE_CAPACITY: usize = 1024;
/// Queued requests per actor before callers wait (back-pressure on the reactor).
const QUEUE: usize = 8192;

/// Why a store operation failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// The file could not be opened or is not an SQLite database.
    #[error("state store {path}: {reason}")]
    Open {
        /// The `[state] path`.
        path: PathBuf,
        /// What SQLite or the OS said.
        reason: String,
    },
    /// An SQLite database, but not one this build can use (foreign or newer schema).
    #[error("state store {path}: incompatible: {reason}")]
    Incompatible {
        /// The `[state] path`.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// A statement failed. Shared (`Arc`) because one failed group commit answers every
    /// caller in the group with the same error.
    #[error("state store: {0}")]
    Sqlite(#[source] std::sync::Arc<rusqlite::Error>),
    /// The actor thread is gone (store dropped or a fatal error).
    #[error("state store writer stopped")]
    WriterGone,
}

impl StoreError {
    fn open(path: &Path, err: impl std::fmt::Display) -> Self {
        StoreError::Open {
            path: path.to_path_buf(),
            reason: err.to_string(),
        }
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::Sqlite(std::sync::Arc::new(e))
    }
}

/// State changes and the events they produce, committed atomically.
#[derive(Debug, Default)]
pub struct Batch {
    /// New last-known state.
    pub changes: Vec<StateChange>,
    /// Events to append to the outbox, in order.
    pub events: Vec<NewEvent>,
}

/// Handle on the store; clone freely. The threads stop when the last clone drops.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    writer: mpsc::Sender<WriteOp>,
    reader: mpsc::Sender<ReadOp>,
    committed: watch::Receiver<u64>,
    live: broadcast::Sender<Arc<str>>,
    /// Dropping it (with the last handle) tells the checkpoint thread to finish.
    _checkpoint_stop: std::sync::mpsc::Sender<()>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.inner.path).finish()
    }
}

impl Store {
    /// Opens or creates the store at `path` (and its parent directory). A garbage or
    /// incompatible file is an error naming the file, never silently reset.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let conn = schema::open_writer(path)?;
        let last = outbox::last_sequence(&conn)?;
        let reader_conn = schema::open_reader(path)?;
        let (committed_tx, committed) = watch::channel(last);
        let (live, _) = broadcast::channel(LIVE_CAPACITY);
        let (wtx, wrx) = mpsc::channel(QUEUE);
        let (rtx, rrx) = mpsc::channel(QUEUE);
        let out = Outputs {
            committed: committed_tx,
            live: live.clone(),
        };
        let spawn = |name: &str| std::thread::Builder::new().name(name.to_string());
        spawn("store-writer")
            .spawn(move || writer::run_writer(conn, wrx, last + 1, out))
            .map_err(|e| StoreError::open(path, e))?;
        spawn("store-reader")
            .spawn(move || writer::run_reader(reader_conn, rrx))
            .map_err(|e| StoreError::open(path, e))?;
        let checkpoint_conn = checkpoint::open(path)?;
        let (checkpoint_stop, stop_rx) = std::sync::mpsc::channel();
        spawn("store-checkpoint")
            .spawn(move || checkpoint::run(checkpoint_conn, stop_rx))
            .map_err(|e| StoreError::open(path, e))?;
        Ok(Store {
            inner: Arc::new(Inner {
                path: path.to_path_buf(),
                writer: wtx,
                reader: rtx,
                committed,
                live,
                _checkpoint_stop: checkpoint_stop,
            }),
        })
    }

    /// The file this store lives in.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Commits state changes and events in one transaction; returns the events'
    /// sequences. Answers only after the transaction is durable (see `schema`).
    pub async fn commit(&self, batch: Batch) -> Result<Vec<u64>, StoreError> {
        self.queue(batch).await?.committed().await
    }

    /// The last committed sequence, updated after every commit (wakes sink tasks).
    pub fn committed(&self) -> watch::Receiver<u64> {
        self.inner.committed.clone()
    }

    /// False once the writer or reader thread has stopped (it panicked): every commit
    /// would fail, so readiness reports it.
    pub(crate) fn is_healthy(&self) -> bool {
        !self.inner.writer.is_closed() && !self.inner.reader.is_closed()
    }

    /// The live feed's sender, for subscribers that join later (the admin SSE endpoint).
    pub(crate) fn live_sender(&self) -> broadcast::Sender<Arc<str>> {
        self.inner.live.clone()
    }

    /// Every committed event's JSON from now on; lossy (`Lagged`) for slow receivers.
    pub fn live(&self) -> broadcast::Receiver<Arc<str>> {
        self.inner.live.subscribe()
    }

    /// Runs `f` inside the next group transaction (its own savepoint).
    async fn write<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection, &mut GroupState) -> Result<T, StoreError> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        let op: WriteOp = Box::new(move |conn, st| {
            let result = f(conn, st);
            let ok = result.is_ok();
            let reply: writer::Reply = Box::new(move |commit| {
                let _ = tx.send(commit.and(result));
            });
            (ok, reply)
        });
        self.inner
            .writer
            .send(op)
            .await
            .map_err(|_| StoreError::WriterGone)?;
        rx.await.map_err(|_| StoreError::WriterGone)?
    }

    /// Runs `f` on the read-only connection (sees every commit already answered).
    async fn read<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        let op: ReadOp = Box::new(move |conn| {
            let _ = tx.send(f(conn));
        });
        self.inner
            .reader
            .send(op)
            .await
            .map_err(|_| StoreError::WriterGone)?;
        rx.await.map_err(|_| StoreError::WriterGone)?
    }
}
