//! The PostgreSQL store (`[state] url`): the same tables and guarantees as the SQLite
//! file, shared by every replica pointing at the database.
//!
//! One writer task group-commits (one transaction, a savepoint per request, callers
//! answered after COMMIT); reads use a small connection pool. When the store belongs to
//! a lease holder, every transaction first checks the lease epoch under a row lock
//! (see [`Fence`]): a leader that lost the lease commits nothing more.

mod adherence;
mod read;
mod schema;
mod write;

pub use schema::latest as schema_version;
pub(super) use schema::migrate;

use super::tail::CommittedTail;
use super::{Batch, NewDeadLetter, StoreError};
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use futures::future::BoxFuture;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{broadcast, mpsc, oneshot, watch};
use write::{Done, Request, Write};

/// Queued write requests before callers wait.
const QUEUE: usize = 8192;
/// Pooled connections (the writer uses one at a time; the rest serve reads).
const POOL_SIZE: usize = 6;

/// A PostgreSQL error as a store error (the source kept).
pub(super) fn pg_err(e: tokio_postgres::Error) -> StoreError {
    StoreError::Postgres(Arc::new(e))
}

/// A store error from a message (pool, configuration, internal).
pub(super) fn pg_msg(message: String) -> StoreError {
    StoreError::Postgres(Arc::from(Box::<dyn std::error::Error + Send + Sync>::from(
        message,
    )))
}

/// What a leader's writes must still hold (`None`: no lease, no check): the epoch it
/// took over with, and the lock session (its backend pid) that holds the advisory lock.
#[derive(Debug, Clone, Copy, Default)]
pub struct Fence {
    lease: Option<(i64, i32)>,
}

impl Fence {
    /// Writes are checked against `epoch` and against the lock still being held by the
    /// session `lock_pid`, so no write that starts once that session is gone commits,
    /// even before a standby has taken over. One whose check passed just before the cut
    /// may still commit, but before any takeover: the epoch increment waits for it.
    pub fn lease(epoch: i64, lock_pid: i32) -> Self {
        Self {
            lease: Some((epoch, lock_pid)),
        }
    }

    /// The lease epoch writes carry (0 without a lease): kept on every outbox row, so
    /// which leader committed an event can be told afterwards.
    pub fn epoch_or_zero(&self) -> i64 {
        self.lease.map_or(0, |(e, _)| e)
    }

    /// First statement of every write transaction. `FOR SHARE` makes a takeover's epoch
    /// increment wait for this transaction, and this transaction see a finished one.
    async fn check(&self, tx: &deadpool_postgres::Transaction<'_>) -> Result<(), StoreError> {
        let Some((ours, pid)) = self.lease else {
            return Ok(());
        };
        let row = tx
            .query_one(
                "SELECT epoch, EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND pid = $1 AND granted) \
                 FROM lease WHERE id = 1 FOR SHARE",
                &[&pid],
            )
            .await
            .map_err(pg_err)?;
        let (current, held): (i64, bool) = (row.get(0), row.get(1));
        if current == ours && held {
            Ok(())
        } else {
            crate::telemetry::lease::fenced(ours, current);
            Err(StoreError::Fenced { ours, current })
        }
    }
}

/// Handle on the PostgreSQL store; clone freely.
#[derive(Clone)]
pub struct PgStore {
    pool: Pool,
    writer: mpsc::Sender<Request>,
    committed: watch::Receiver<u64>,
    live: broadcast::Sender<Arc<str>>,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore").finish_non_exhaustive()
    }
}

/// Parses `url` into a client config with TCP keepalives, so a dead peer is noticed in
/// seconds rather than after the kernel's two hours.
pub fn client_config(url: &str) -> Result<tokio_postgres::Config, StoreError> {
    let mut config: tokio_postgres::Config = url.parse().map_err(|e| pg_msg(format!("[state] url: {e}")))?;
    config
        .keepalives(true)
        .keepalives_idle(Duration::from_secs(5))
        .keepalives_interval(Duration::from_secs(2))
        .keepalives_retries(3)
        .connect_timeout(Duration::from_secs(10))
        .application_name("wfm-reactor");
    Ok(config)
}

impl PgStore {
    /// Connects, migrates, and starts the writer. `fence` is [`Fence::default`] without
    /// a lease, else the lease's epoch.
    pub async fn open(
        url: &str,
        fence: Fence,
        live: broadcast::Sender<Arc<str>>,
        tail: Arc<CommittedTail>,
    ) -> Result<PgStore, StoreError> {
        let config = client_config(url)?;
        let manager = Manager::from_config(
            config,
            tokio_postgres::NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .build()
            .map_err(|e| pg_msg(e.to_string()))?;
        let last = {
            let mut conn = pool.get().await.map_err(pool_err)?;
            schema::migrate(&mut conn).await?;
            write::last_sequence(&conn).await?
        };
        let (committed_tx, committed) = watch::channel(last);
        let (tx, rx) = mpsc::channel(QUEUE);
        let out = write::Outputs {
            committed: committed_tx,
            live: live.clone(),
            tail,
        };
        tokio::spawn(write::run(pool.clone(), rx, last + 1, fence, out));
        Ok(PgStore {
            pool,
            writer: tx,
            committed,
            live,
        })
    }

    /// The last committed sequence (wakes sink tasks).
    pub fn committed(&self) -> watch::Receiver<u64> {
        self.committed.clone()
    }

    /// False once the writer task has stopped.
    pub fn is_healthy(&self) -> bool {
        !self.writer.is_closed()
    }

    /// The live feed's sender.
    pub fn live_sender(&self) -> broadcast::Sender<Arc<str>> {
        self.live.clone()
    }

    async fn write(&self, write: Write) -> Result<Done, StoreError> {
        let (reply, rx) = oneshot::channel();
        self.writer
            .send(Request { write, reply })
            .await
            .map_err(|_| StoreError::WriterGone)?;
        rx.await.map_err(|_| StoreError::WriterGone)?
    }

    /// Queues state changes and events for one transaction (FIFO, like the SQLite
    /// writer); the future answers the events' sequences after COMMIT.
    pub(in crate::store) async fn queue(
        &self,
        batch: Batch,
    ) -> Result<BoxFuture<'static, Result<Vec<u64>, StoreError>>, StoreError> {
        let (reply, rx) = oneshot::channel();
        self.writer
            .send(Request {
                write: Write::Commit(batch),
                reply,
            })
            .await
            .map_err(|_| StoreError::WriterGone)?;
        Ok(Box::pin(async move {
            match rx.await.map_err(|_| StoreError::WriterGone)?? {
                Done::Seqs(s) => Ok(s),
                other => Err(unexpected(other)),
            }
        }))
    }

    /// See `Store::sync_cursors`.
    pub async fn sync_cursors(&self, sinks: Vec<String>) -> Result<Vec<(String, u64)>, StoreError> {
        match self.write(Write::SyncCursors(sinks)).await? {
            Done::Cursors(c) => Ok(c),
            other => Err(unexpected(other)),
        }
    }

    /// See `Store::ack`.
    pub async fn ack(&self, sink: &str, upto: u64, dead: Vec<NewDeadLetter>) -> Result<(), StoreError> {
        self.write(Write::Ack(sink.to_string(), upto, dead))
            .await
            .map(|_| ())
    }

    /// See `Store::prune`.
    pub async fn prune(&self) -> Result<usize, StoreError> {
        self.count(Write::Prune).await
    }

    /// See `Store::request_replay`.
    pub async fn request_replay(&self, ids: Vec<i64>) -> Result<usize, StoreError> {
        self.count(Write::RequestReplay(ids)).await
    }

    /// See `Store::finish_replay`.
    pub async fn finish_replay(
        &self,
        id: i64,
        refused: Option<(Option<u16>, String)>,
    ) -> Result<(), StoreError> {
        self.count(Write::FinishReplay(id, refused)).await.map(|_| ())
    }

    async fn count(&self, write: Write) -> Result<usize, StoreError> {
        match self.write(write).await? {
            Done::Count(n) => Ok(n),
            other => Err(unexpected(other)),
        }
    }

    /// A pooled connection for one read.
    async fn conn(&self) -> Result<deadpool_postgres::Object, StoreError> {
        self.pool.get().await.map_err(pool_err)
    }
}

fn pool_err(e: deadpool_postgres::PoolError) -> StoreError {
    StoreError::Postgres(Arc::new(e))
}

fn unexpected(done: Done) -> StoreError {
    pg_msg(format!("internal: unexpected writer answer {done:?}"))
}
