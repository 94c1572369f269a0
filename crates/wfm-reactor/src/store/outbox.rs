//! The outbox (committed events by sequence) and one durable cursor per sink.
//!
//! Sequences are assigned by the writer and never reused: the highest one ever
//! assigned is kept in `meta` before pruning, so an empty outbox never restarts at 1.

use super::deadletters::{self, NewDeadLetter};
use super::writer::GroupState;
use super::{SqliteStore, StoreError};
use crate::events::NewEvent;
use rusqlite::{Connection, OptionalExtension, params};
use std::sync::Arc;

const LAST_SEQ_KEY: &str = "outbox_last_seq";

/// One committed event as read back from the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxEvent {
    /// Its `sequence`.
    pub seq: u64,
    /// Its CloudEvent `id`.
    pub id: String,
    /// The complete CloudEvent JSON (what every sink sends).
    pub json: Arc<str>,
}

/// The highest sequence ever assigned (0 on a fresh store).
pub(super) fn last_sequence(conn: &Connection) -> Result<u64, StoreError> {
    let in_outbox: Option<i64> = conn.query_row("SELECT max(seq) FROM outbox", [], |r| r.get(0))?;
    let kept: Option<String> = conn
        .query_row("SELECT value FROM meta WHERE key = ?1", [LAST_SEQ_KEY], |r| {
            r.get(0)
        })
        .optional()?;
    let kept = kept.and_then(|v| v.parse::<i64>().ok());
    Ok(in_outbox.unwrap_or(0).max(kept.unwrap_or(0)).max(0) as u64)
}

/// Renders and appends events, assigning consecutive sequences.
pub(super) fn append(
    conn: &Connection,
    st: &mut GroupState,
    events: &[NewEvent],
) -> Result<Vec<u64>, StoreError> {
    let mut insert = conn.prepare_cached("INSERT INTO outbox (seq, event_id, json) VALUES (?1, ?2, ?3)")?;
    let mut seqs = Vec::with_capacity(events.len());
    for ev in events {
        let seq = st.next_seq;
        let json = ev.render(seq);
        insert.execute(params![seq as i64, ev.id, json])?;
        st.next_seq += 1;
        st.events.keep(seq, &ev.id, &json);
        seqs.push(seq);
    }
    Ok(seqs)
}

/// Soft cap on the JSON bytes of one outbox read (one sink batch): 1 MiB. A batch and its
/// sink's copy (NDJSON, a request body) are in memory at once, so at 4 MiB a snapshot's
/// megabyte events made the file sink ~11 MB of the 19,000-agent snapshot's heap peak;
/// presence batches are bound by their count first (1,024 events of well under 1 KiB).
pub const MAX_BATCH_BYTES: usize = 1 << 20;

// === impl SqliteStore (outbox and cursors) ===

impl SqliteStore {
    /// Up to `limit` committed events with a sequence above `after`, in order, and at most
    /// about [`MAX_BATCH_BYTES`] of JSON (always at least one event): a snapshot's schedule
    /// events can be a megabyte each, and a count-only limit let one batch (plus its NDJSON
    /// copy) hold hundreds of megabytes.
    pub async fn read_outbox(&self, after: u64, limit: usize) -> Result<Vec<OutboxEvent>, StoreError> {
        self.read(move |c| {
            let mut st = c.prepare_cached(
                "SELECT seq, event_id, json FROM outbox WHERE seq > ?1 ORDER BY seq LIMIT ?2",
            )?;
            let mut rows = st.query(params![after as i64, limit as i64])?;
            let mut out = Vec::new();
            let mut bytes = 0usize;
            while let Some(r) = rows.next()? {
                // Straight from SQLite's buffer into the shared `Arc<str>`: no
                // intermediate `String` (one copy of a possibly megabyte-sized event).
                let text = r.get_ref(2)?.as_str();
                let json: Arc<str> = Arc::from(text.map_err(|e| StoreError::from(rusqlite::Error::from(e)))?);
                bytes += json.len();
                out.push(OutboxEvent {
                    seq: r.get::<_, i64>(0)? as u64,
                    id: r.get(1)?,
                    json,
                });
                if bytes >= MAX_BATCH_BYTES {
                    break;
                }
            }
            Ok(out)
        })
        .await
    }

    /// Events currently kept in the outbox (not yet pruned).
    pub async fn outbox_depth(&self) -> Result<u64, StoreError> {
        self.read(|c| {
            let (lo, hi): (Option<i64>, Option<i64>) =
                c.query_row("SELECT min(seq), max(seq) FROM outbox", [], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })?;
            Ok(match (lo, hi) {
                (Some(lo), Some(hi)) => (hi - lo + 1) as u64,
                _ => 0,
            })
        })
        .await
    }

    /// Makes the cursor set equal `sinks`: a new sink starts at the current end of the
    /// outbox (it does not replay history), a sink no longer configured loses its cursor.
    /// Returns each sink's cursor, in the order given.
    pub async fn sync_cursors(&self, sinks: Vec<String>) -> Result<Vec<(String, u64)>, StoreError> {
        self.write(move |c, st| {
            let end = st.next_seq - 1;
            let existing: Vec<String> = c
                .prepare("SELECT sink FROM cursors")?
                .query_map([], |r| r.get(0))?
                .collect::<Result<_, _>>()?;
            for gone in existing.iter().filter(|s| !sinks.contains(s)) {
                c.execute("DELETE FROM cursors WHERE sink = ?1", [gone])?;
            }
            let mut out = Vec::with_capacity(sinks.len());
            for s in sinks {
                c.execute(
                    "INSERT OR IGNORE INTO cursors VALUES (?1, ?2)",
                    params![s, end as i64],
                )?;
                let at: i64 = c.query_row("SELECT seq FROM cursors WHERE sink = ?1", [&s], |r| r.get(0))?;
                out.push((s, at as u64));
            }
            Ok(out)
        })
        .await
    }

    /// A sink's cursor (last acknowledged sequence), if it has one.
    pub async fn cursor(&self, sink: &str) -> Result<Option<u64>, StoreError> {
        let s = sink.to_string();
        self.read(move |c| {
            Ok(c.query_row("SELECT seq FROM cursors WHERE sink = ?1", [s], |r| {
                r.get::<_, i64>(0)
            })
            .optional()?
            .map(|v| v as u64))
        })
        .await
    }

    /// Acknowledges everything up to `upto` for `sink`, recording dead letters in the
    /// same transaction (so a dead-lettered event is never skipped without a trace).
    pub async fn ack(&self, sink: &str, upto: u64, dead: Vec<NewDeadLetter>) -> Result<(), StoreError> {
        let s = sink.to_string();
        self.write(move |c, _| {
            for d in &dead {
                deadletters::insert(c, &s, d)?;
            }
            c.prepare_cached("UPDATE cursors SET seq = max(seq, ?2) WHERE sink = ?1")?
                .execute(params![s, upto as i64])?;
            Ok(())
        })
        .await
    }

    /// Deletes outbox entries every sink has acknowledged; returns how many.
    pub async fn prune(&self) -> Result<usize, StoreError> {
        self.write(|c, st| {
            let min: Option<i64> = c.query_row("SELECT min(seq) FROM cursors", [], |r| r.get(0))?;
            let Some(min) = min else { return Ok(0) };
            let last = (st.next_seq - 1).to_string();
            c.execute(
                "INSERT OR REPLACE INTO meta VALUES (?1, ?2)",
                params![LAST_SEQ_KEY, last],
            )?;
            Ok(c.execute("DELETE FROM outbox WHERE seq <= ?1", [min])?)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use crate::events::NewEvent;
    use crate::store::{Batch, Store};

    fn big_event(n: usize, bytes: usize) -> NewEvent {
        NewEvent {
            id: format!("e{n}"),
            source: "s".into(),
            event_type: "t",
            subject: "x".into(),
            time: "2026-12-08T00:00:00.000Z".into(),
            data_json: format!("\"{}\"", "x".repeat(bytes)),
            received_at: None,
        }
    }

    #[tokio::test]
    async fn one_read_stops_once_it_holds_a_mebibyte_of_events() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("s.db")).unwrap();
        for n in 0..6 {
            let batch = Batch {
                changes: vec![],
                events: vec![big_event(n, 400_000)],
            };
            store.commit(batch).await.unwrap();
        }
        let first = store.read_outbox(0, 100).await.unwrap();
        assert_eq!(first.len(), 3, "400 KB events: the third passes 1 MiB");
        let rest = store.read_outbox(first[2].seq, 100).await.unwrap();
        assert_eq!(rest.len(), 3, "and the next read goes on from there");
        let one = store.read_outbox(0, 1).await.unwrap();
        assert_eq!(one.len(), 1, "the count limit still holds");
    }
}
