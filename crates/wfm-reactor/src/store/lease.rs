//! The leader lease (`[ha] enabled`): a session-level PostgreSQL advisory lock on a
//! connection of its own, plus an epoch row incremented on every takeover.
//!
//! Why this shape: PostgreSQL already decides who holds a lock, and releases it when the
//! holder's session ends (process killed: at once; host or network gone: after the TCP
//! keepalives set on that session give up). The epoch turns "I once held the lock" into
//! something every write can check in its own transaction ([`super::postgres::Fence`]):
//! a leader that was partitioned away and comes back commits nothing.
//!
//! The leader also watches its own session: it runs a short query every `takeover / 4`
//! and steps down (lost) when the session ends, the epoch moved, or no check has
//! succeeded for half of `takeover`, which is before the server gives up on the session
//! and a standby can take over.

use super::StoreError;
use super::postgres::client_config;
use crate::telemetry::lease as tm;
use std::time::Duration;
use tokio::sync::watch;
use tokio_postgres::{Client, NoTls};
use tokio_util::sync::CancellationToken;

/// The advisory lock key: one per schema, so deployments sharing a database in
/// different schemas (and parallel tests) have leases of their own.
const LOCK_KEY: &str = "hashtext('wfm-reactor-lease:' || current_schema())";

/// A held lease. Dropping it closes the session, which releases the lock.
pub struct Lease {
    epoch: i64,
    pid: i32,
    lost: watch::Receiver<Option<String>>,
    stop: CancellationToken,
}

impl Lease {
    /// The epoch this replica took over with (what its writes are fenced by).
    pub fn epoch(&self) -> i64 {
        self.epoch
    }

    /// The backend pid of the lock session (what `pg_terminate_backend` would cut).
    pub fn session_pid(&self) -> i32 {
        self.pid
    }

    /// The fence this replica's store writes must pass (epoch and lock session).
    pub fn fence(&self) -> super::postgres::Fence {
        super::postgres::Fence::lease(self.epoch, self.pid)
    }

    /// Resolves (with why) once the lease is lost.
    pub async fn lost(&mut self) -> String {
        match self.lost.wait_for(Option::is_some).await {
            Ok(why) => why.clone().unwrap_or_default(),
            Err(_) => "lease watcher stopped".into(),
        }
    }

    /// Whether the lease is still held, as far as this replica knows.
    pub fn is_held(&self) -> bool {
        self.lost.borrow().is_none()
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// Opens the lease session: keepalives on both ends, so a vanished peer is noticed in
/// seconds and the server releases the lock of a leader whose host died.
async fn connect(url: &str) -> Result<(Client, tokio::task::JoinHandle<String>), StoreError> {
    let (client, conn) = client_config(url)?
        .connect(NoTls)
        .await
        .map_err(super::postgres::pg_err)?;
    let conn = tokio::spawn(async move {
        match conn.await {
            Ok(()) => "lease session closed".to_string(),
            Err(e) => format!("lease session lost: {e}"),
        }
    });
    client
        .batch_execute(
            "SET tcp_keepalives_idle = 5; SET tcp_keepalives_interval = 2; SET tcp_keepalives_count = 3;",
        )
        .await
        .map_err(super::postgres::pg_err)?;
    Ok((client, conn))
}

/// Waits (polling every `takeover / 3`) until this replica holds the lease, then takes
/// over: increments the epoch. `None` when cancelled first. Connection failures are
/// logged and retried; the store's schema is migrated first (the epoch row lives there).
pub async fn acquire(
    url: &str,
    holder: &str,
    takeover: Duration,
    cancel: &CancellationToken,
) -> Option<Lease> {
    let poll = (takeover / 3).max(Duration::from_millis(100));
    let mut logged_waiting = false;
    loop {
        match try_acquire(url, holder, takeover).await {
            Ok(Some(lease)) => return Some(lease),
            Ok(None) if !logged_waiting => {
                tm::standby(holder);
                logged_waiting = true;
            }
            Ok(None) => {}
            Err(e) => tm::acquire_failed(&e.to_string()),
        }
        tokio::select! {
            _ = cancel.cancelled() => return None,
            _ = tokio::time::sleep(poll) => {}
        }
    }
}

/// One attempt: the lock (without waiting), then the epoch increment.
async fn try_acquire(url: &str, holder: &str, takeover: Duration) -> Result<Option<Lease>, StoreError> {
    let (mut client, conn) = connect(url).await?;
    super::postgres::migrate(&mut client).await?;
    let got: bool = client
        .query_one(&format!("SELECT pg_try_advisory_lock({LOCK_KEY})"), &[])
        .await
        .map_err(super::postgres::pg_err)?
        .get(0);
    if !got {
        conn.abort();
        return Ok(None);
    }
    let row = client
        .query_one(
            "UPDATE lease SET epoch = epoch + 1, holder = $1, acquired_at = now() WHERE id = 1 \
             RETURNING epoch, pg_backend_pid()",
            &[&holder],
        )
        .await
        .map_err(super::postgres::pg_err)?;
    let (epoch, pid): (i64, i32) = (row.get(0), row.get(1));
    tm::acquired(holder, epoch);
    let (lost_tx, lost) = watch::channel(None);
    let stop = CancellationToken::new();
    tokio::spawn(watch_session(
        client,
        conn,
        epoch,
        takeover,
        lost_tx,
        stop.clone(),
    ));
    Ok(Some(Lease {
        epoch,
        pid,
        lost,
        stop,
    }))
}

/// The leader's watch over its own session (see the module doc).
async fn watch_session(
    client: Client,
    mut conn: tokio::task::JoinHandle<String>,
    epoch: i64,
    takeover: Duration,
    lost: watch::Sender<Option<String>>,
    stop: CancellationToken,
) {
    let every = (takeover / 4).max(Duration::from_millis(50));
    let patience = (takeover / 2).max(every);
    let why = loop {
        tokio::select! {
            _ = stop.cancelled() => {
                conn.abort();
                return;
            }
            ended = &mut conn => break ended.unwrap_or_else(|e| format!("lease session task: {e}")),
            _ = tokio::time::sleep(every) => {}
        }
        let check = client.query_one("SELECT epoch FROM lease WHERE id = 1", &[]);
        match tokio::time::timeout(patience, check).await {
            Ok(Ok(row)) if row.get::<_, i64>(0) == epoch => {}
            Ok(Ok(row)) => break format!("epoch moved to {}", row.get::<_, i64>(0)),
            Ok(Err(e)) => break format!("lease check failed: {e}"),
            Err(_) => break format!("lease check got no answer within {patience:?}"),
        }
    };
    tm::lost(epoch, &why);
    let _ = lost.send(Some(why));
    conn.abort();
}
