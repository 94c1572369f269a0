//! Opening the SQLite file: pragmas, schema creation and the version check.
//!
//! Why SQLite: one file next to the daemon, ACID transactions (state + outbox commit
//! together), WAL mode lets readers (sinks, admin) read while the writer commits, and it
//! is among the most tested storage engines there is. `synchronous = NORMAL` in WAL:
//! a committed transaction survives a process crash (the WAL is written before the
//! commit returns); a power loss or OS crash may lose the last few commits, which the
//! next start's reconcile re-derives from Genesys. With group commit, FULL would also
//! be fast enough on most disks; NORMAL keeps tail latency low on slow ones.

use super::StoreError;
use rusqlite::{Connection, OpenFlags};
use std::path::Path;

/// The schema version this build writes and understands (`PRAGMA user_version`).
pub const SCHEMA_VERSION: i64 = 1;

const SCHEMA_V1: &str = "
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE schedules (
  schedule_id TEXT PRIMARY KEY, business_unit_id TEXT NOT NULL, week_date TEXT NOT NULL,
  week_count INTEGER NOT NULL, published INTEGER NOT NULL, version INTEGER NOT NULL);
CREATE TABLE agent_schedules (
  schedule_id TEXT NOT NULL, mu_id TEXT NOT NULL, user_id TEXT NOT NULL,
  hash TEXT NOT NULL, canonical_json TEXT NOT NULL,
  PRIMARY KEY (schedule_id, mu_id, user_id)) WITHOUT ROWID;
CREATE INDEX agent_schedules_user ON agent_schedules (user_id);
CREATE TABLE presence (
  user_id TEXT PRIMARY KEY, system_presence TEXT NOT NULL,
  presence_definition_id TEXT NOT NULL, modified_date TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE routing_status (
  user_id TEXT PRIMARY KEY, status TEXT NOT NULL, start_time TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE dirty (
  business_unit_id TEXT NOT NULL, schedule_id TEXT NOT NULL,
  PRIMARY KEY (business_unit_id, schedule_id)) WITHOUT ROWID;
CREATE TABLE outbox (seq INTEGER PRIMARY KEY, event_id TEXT NOT NULL, json TEXT NOT NULL);
CREATE TABLE cursors (sink TEXT PRIMARY KEY, seq INTEGER NOT NULL);
CREATE TABLE dead_letters (
  id INTEGER PRIMARY KEY AUTOINCREMENT, sink TEXT NOT NULL, seq INTEGER NOT NULL,
  status INTEGER, error TEXT NOT NULL, dead_lettered_at TEXT NOT NULL, event TEXT NOT NULL,
  replay INTEGER NOT NULL DEFAULT 0);
";

/// Opens (creating on first start) the writer connection and checks the schema.
pub(crate) fn open_writer(path: &Path) -> Result<Connection, StoreError> {
    // Created 0600 before SQLite opens it: SQLite gives the -wal and -shm files the
    // database file's mode, so they are private too.
    crate::files::create_private_file(path).map_err(|e| StoreError::open(path, e))?;
    let conn = Connection::open(path).map_err(|e| StoreError::open(path, e))?;
    configure(&conn, path)?;
    // Checkpoints run on their own thread (see `checkpoint.rs`), never inside a commit.
    conn.execute_batch("PRAGMA wal_autocheckpoint = 0;")
        .map_err(|e| StoreError::open(path, e))?;
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(|e| StoreError::open(path, e))?;
    match version {
        0 => {
            let tables: i64 = conn
                .query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))
                .map_err(|e| StoreError::open(path, e))?;
            if tables > 0 {
                return Err(StoreError::Incompatible {
                    path: path.to_path_buf(),
                    reason: "an SQLite database that is not a wfm-reactor store (no schema version)".into(),
                });
            }
            let ddl = format!("BEGIN; {SCHEMA_V1} PRAGMA user_version = {SCHEMA_VERSION}; COMMIT;");
            conn.execute_batch(&ddl).map_err(|e| StoreError::open(path, e))?;
        }
        SCHEMA_VERSION => {}
        found => {
            return Err(StoreError::Incompatible {
                path: path.to_path_buf(),
                reason: format!(
                    "schema version {found} is newer than this build supports ({SCHEMA_VERSION}); \
                     upgrade wfm-reactor or point [state] path at another file"
                ),
            });
        }
    }
    conn.execute_batch(super::adherence::DDL)
        .map_err(|e| StoreError::open(path, e))?;
    Ok(conn)
}

/// Opens a read-only connection (after [`open_writer`] created the file).
pub(crate) fn open_reader(path: &Path) -> Result<Connection, StoreError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags).map_err(|e| StoreError::open(path, e))?;
    conn.busy_timeout(std::time::Duration::from_secs(5))
        .map_err(|e| StoreError::open(path, e))?;
    // The reader streams outbox rows once to the sinks (and serves small state queries):
    // a 512 KiB page cache instead of SQLite's default 2 MiB; the OS caches the file.
    conn.execute_batch("PRAGMA cache_size = -512;")
        .map_err(|e| StoreError::open(path, e))?;
    Ok(conn)
}

fn configure(conn: &Connection, path: &Path) -> Result<(), StoreError> {
    // The first statement that reads the header is where a garbage file shows itself.
    let mode: String = conn
        .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
        .map_err(|e| StoreError::open(path, e))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::Incompatible {
            path: path.to_path_buf(),
            reason: format!("cannot switch to WAL journal mode (got {mode})"),
        });
    }
    conn.execute_batch("PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = OFF;")
        .map_err(|e| StoreError::open(path, e))?;
    conn.busy_timeout(std::time::Duration::from_secs(5))
        .map_err(|e| StoreError::open(path, e))?;
    Ok(())
}
