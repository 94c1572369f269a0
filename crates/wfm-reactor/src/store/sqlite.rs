//! The SQLite store (the default, `[state] path`): a cheap `Clone` handle onto two actor
//! threads (see `writer`): every write goes through one group-committing writer, reads
//! through a read-only WAL connection, and a third thread checkpoints the WAL.

use super::tail::CommittedTail;
use super::writer::{self, GroupState, Outputs, ReadOp, WriteOp};
use super::{StoreError, checkpoint, outbox, schema};
use rusqlite::Connection;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::sync::{broadcast, mpsc, oneshot, watch};

/// Queued requests per actor before callers wait (back-pressure on the reactor).
const QUEUE: usize = 8192;

/// Handle on the store; clone freely. The threads stop when the last clone drops.
#[derive(Clone)]
pub struct SqliteStore {
    pub(super) inner: Arc<Inner>,
}

pub(super) struct Inner {
    path: PathBuf,
    pub(super) writer: mpsc::Sender<WriteOp>,
    reader: mpsc::Sender<ReadOp>,
    committed: watch::Receiver<u64>,
    live: broadcast::Sender<Arc<str>>,
    /// Dropping it (with the last handle) tells the checkpoint thread to finish.
    _checkpoint_stop: std::sync::mpsc::Sender<()>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.inner.path)
            .finish()
    }
}

impl SqliteStore {
    /// Opens or creates the store at `path` (and its parent directory). A garbage or
    /// incompatible file is an error naming the file, never silently reset.
    pub fn open(
        path: &Path,
        live: broadcast::Sender<Arc<str>>,
        tail: Arc<CommittedTail>,
    ) -> Result<SqliteStore, StoreError> {
        let conn = schema::open_writer(path)?;
        let last = outbox::last_sequence(&conn)?;
        let reader_conn = schema::open_reader(path)?;
        let (committed_tx, committed) = watch::channel(last);
        let (wtx, wrx) = mpsc::channel(QUEUE);
        let (rtx, rrx) = mpsc::channel(QUEUE);
        let out = Outputs {
            committed: committed_tx,
            live: live.clone(),
            tail,
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
        Ok(SqliteStore {
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

    /// The last committed sequence, updated after every commit (wakes sink tasks).
    pub fn committed(&self) -> watch::Receiver<u64> {
        self.inner.committed.clone()
    }

    /// False once the writer or reader thread has stopped (it panicked): every commit
    /// would fail, so readiness reports it.
    pub fn is_healthy(&self) -> bool {
        !self.inner.writer.is_closed() && !self.inner.reader.is_closed()
    }

    /// The live feed's sender, for subscribers that join later (the admin SSE endpoint).
    pub fn live_sender(&self) -> broadcast::Sender<Arc<str>> {
        self.inner.live.clone()
    }

    /// Runs `f` inside the next group transaction (its own savepoint).
    pub(super) async fn write<T, F>(&self, f: F) -> Result<T, StoreError>
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
    pub(super) async fn read<T, F>(&self, f: F) -> Result<T, StoreError>
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
