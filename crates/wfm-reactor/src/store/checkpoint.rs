//! WAL checkpoints on their own thread and connection, so the writer never stalls on one.
//!
//! SQLite's default auto-checkpoint runs inside the committing connection every ~4 MB of
//! WAL and fsyncs the database file there: under a steady stream of commits that put
//! tens of milliseconds into the tail of the commit latency. The writer connection turns
//! auto-checkpointing off and this thread runs a PASSIVE checkpoint (never blocks writers
//! or readers) every interval; when the store is dropped it does a final TRUNCATE.

use super::StoreError;
use rusqlite::Connection;
use std::path::Path;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::Duration;

/// How often the WAL is checkpointed.
pub const CHECKPOINT_EVERY: Duration = Duration::from_millis(500);

/// Opens the checkpointer's connection (read-write, same file).
pub fn open(path: &Path) -> Result<Connection, StoreError> {
    let conn = Connection::open(path).map_err(|e| StoreError::Open {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    conn.busy_timeout(Duration::from_secs(5))
        .map_err(|e| StoreError::Open {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
    // A checkpoint copies WAL frames to the database file without going through this
    // connection's page cache: keep it minimal (SQLite's default is 2 MiB per connection).
    conn.execute_batch("PRAGMA cache_size = -64;")
        .map_err(|e| StoreError::Open {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
    Ok(conn)
}

/// Runs until `stop` is dropped (the last `Store` handle went away).
pub fn run(conn: Connection, stop: Receiver<()>) {
    loop {
        match stop.recv_timeout(CHECKPOINT_EVERY) {
            Err(RecvTimeoutError::Timeout) => checkpoint(&conn, "PASSIVE"),
            Ok(()) | Err(RecvTimeoutError::Disconnected) => {
                checkpoint(&conn, "TRUNCATE");
                return;
            }
        }
    }
}

fn checkpoint(conn: &Connection, mode: &str) {
    let sql = format!("PRAGMA wal_checkpoint({mode})");
    match conn.query_row(&sql, [], |r| {
        Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?, r.get::<_, i64>(2)?))
    }) {
        Ok((_busy, log, done)) => {
            crate::telemetry::delivery::wal_checkpointed(log);
            if log > 0 && done < log {
                tracing::trace!(log, done, mode, "WAL checkpoint partial");
            }
        }
        Err(err) => {
            crate::telemetry::delivery::wal_checkpoint_failed(&err, mode);
        }
    }
}
