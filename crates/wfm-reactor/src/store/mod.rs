//! The store: last-known state, the outbox, sink cursors, dead letters, and the lease.
//!
//! [`Store`] is one handle over two backends: SQLite (`sqlite`, the default, one file
//! beside the daemon) and PostgreSQL (`postgres`, shared by replicas, with the leader
//! lease in `lease`). Both keep the same guarantees: state changes and the events they
//! produce commit in one transaction (an event exists only once its state did), writes
//! are group-committed, cursors move only after acknowledgement.

mod adherence;
mod checkpoint;
mod deadletters;
mod handle;
pub mod lease;
mod outbox;
pub mod postgres;
mod queries;
mod queue;
mod replay;
mod schema;
mod sqlite;
mod state;
mod tail;
mod writer;

pub use adherence::{StoredAdherence, StoredAgentSchedule};
pub use deadletters::{DeadLetter, NewDeadLetter};
pub use handle::Store;
pub use outbox::OutboxEvent;
pub use queue::Queued;
pub use schema::SCHEMA_VERSION;
pub use sqlite::SqliteStore;
pub use state::{
    AgentScheduleRow, DirtyKey, StateChange, StoredPresence, StoredRoutingStatus, StoredSchedule,
};

use crate::events::NewEvent;
use std::path::{Path, PathBuf};

/// Live-feed slots: bounded so a lagging SSE client can pin at most this many events.
const LIVE_CAPACITY: usize = 1024;

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
    /// A PostgreSQL statement, connection or pool failed (shared for the same reason).
    #[error("state store (postgres): {0}")]
    Postgres(#[source] std::sync::Arc<dyn std::error::Error + Send + Sync>),
    /// This replica's lease epoch is no longer the current one: another replica took
    /// over, and nothing this one writes is committed any more (fencing).
    #[error("state store: fenced: this replica's lease epoch {ours} was superseded by epoch {current}")]
    Fenced {
        /// The epoch this replica took over with.
        ours: i64,
        /// The epoch in the database.
        current: i64,
    },
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
