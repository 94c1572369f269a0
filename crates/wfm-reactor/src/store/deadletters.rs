//! Dead letters: events a sink refused permanently (e.g. a webhook's 400), kept with the
//! status and an excerpt of the answer, and re-queued on request (`wfm-reactor dlq replay`).
//!
//! Replay is done by the running daemon: the command only flags rows, and each sink task
//! picks up its flagged rows on its next pass, so a replay never races the daemon's own
//! writes to the same file or endpoint.

use super::{SqliteStore, StoreError};
use rusqlite::{Connection, params};
use serde::Serialize;

/// A dead letter to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDeadLetter {
    /// The event's sequence.
    pub seq: u64,
    /// HTTP status, when there was one.
    pub status: Option<u16>,
    /// What went wrong (with an excerpt of the response body).
    pub error: String,
    /// The complete event JSON.
    pub event: String,
}

/// A stored dead letter, as `wfm-reactor dlq list` prints it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeadLetter {
    /// Row id (what `dlq replay --id` takes).
    pub id: i64,
    /// Sink name.
    pub sink: String,
    /// The event's sequence.
    pub sequence: u64,
    /// HTTP status, when there was one.
    pub status: Option<u16>,
    /// What went wrong.
    pub error: String,
    /// When (RFC 3339).
    pub dead_lettered_at: String,
    /// The event itself.
    pub event: serde_json::Value,
    /// Flagged for replay, not yet redelivered.
    pub replay_pending: bool,
}

pub(super) fn insert(c: &Connection, sink: &str, d: &NewDeadLetter) -> Result<(), StoreError> {
    c.prepare_cached(
        "INSERT INTO dead_letters (sink, seq, status, error, dead_lettered_at, event) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![sink, d.seq as i64, d.status, d.error, chrono::Utc::now().to_rfc3339(), d.event])?;
    Ok(())
}

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<DeadLetter> {
    let event: String = r.get(6)?;
    Ok(DeadLetter {
        id: r.get(0)?,
        sink: r.get(1)?,
        sequence: r.get::<_, i64>(2)? as u64,
        status: r.get(3)?,
        error: r.get(4)?,
        dead_lettered_at: r.get(5)?,
        event: serde_json::from_str(&event).unwrap_or(serde_json::Value::String(event)),
        replay_pending: r.get(7)?,
    })
}

const COLUMNS: &str = "id, sink, seq, status, error, dead_lettered_at, event, replay";

// === impl SqliteStore (dead letters) ===

impl SqliteStore {
    /// Every dead letter, oldest first.
    pub async fn dead_letters(&self) -> Result<Vec<DeadLetter>, StoreError> {
        self.read(|c| {
            let mut st = c.prepare(&format!("SELECT {COLUMNS} FROM dead_letters ORDER BY id"))?;
            Ok(st.query_map([], row)?.collect::<Result<_, _>>()?)
        })
        .await
    }

    /// Flags dead letters for redelivery by their sink (all when `ids` is empty);
    /// returns how many were flagged.
    pub async fn request_replay(&self, ids: Vec<i64>) -> Result<usize, StoreError> {
        self.write(move |c, _| {
            if ids.is_empty() {
                return Ok(c.execute("UPDATE dead_letters SET replay = 1", [])?);
            }
            let mut n = 0;
            for id in ids {
                n += c.execute("UPDATE dead_letters SET replay = 1 WHERE id = ?1", [id])?;
            }
            Ok(n)
        })
        .await
    }

    /// Dead letters of `sink` flagged for replay, oldest first.
    pub async fn pending_replays(&self, sink: &str, limit: usize) -> Result<Vec<DeadLetter>, StoreError> {
        let s = sink.to_string();
        self.read(move |c| {
            let mut st = c.prepare_cached(&format!(
                "SELECT {COLUMNS} FROM dead_letters WHERE sink = ?1 AND replay = 1 ORDER BY id LIMIT ?2"
            ))?;
            Ok(st
                .query_map(params![s, limit as i64], row)?
                .collect::<Result<_, _>>()?)
        })
        .await
    }

    /// Records a replay's outcome: delivered (`None`: the row is deleted) or refused
    /// again (the row keeps the new status and error, unflagged).
    pub async fn finish_replay(
        &self,
        id: i64,
        refused: Option<(Option<u16>, String)>,
    ) -> Result<(), StoreError> {
        self.write(move |c, _| {
            match refused {
                None => c.execute("DELETE FROM dead_letters WHERE id = ?1", [id])?,
                Some((status, error)) => c.execute(
                    "UPDATE dead_letters SET replay = 0, status = ?2, error = ?3, dead_lettered_at = ?4 WHERE id = ?1",
                    params![id, status, error, chrono::Utc::now().to_rfc3339()],
                )?,
            };
            Ok(())
        })
        .await
    }

    /// How many dead letters are stored.
    pub async fn dead_letter_count(&self) -> Result<u64, StoreError> {
        self.read(|c| {
            Ok(c.query_row("SELECT count(*) FROM dead_letters", [], |r| r.get::<_, i64>(0))? as u64)
        })
        .await
    }
}
