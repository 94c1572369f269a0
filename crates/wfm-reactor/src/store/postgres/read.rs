//! Reads of the PostgreSQL store: the outbox, cursors, last-known state, dead letters.
//! Each answers what `Store`'s method of the same name answers on SQLite.

use super::super::outbox::MAX_BATCH_BYTES;
use super::super::state::{AgentScheduleRow, DirtyKey, StoredPresence, StoredRoutingStatus, StoredSchedule};
use super::super::{DeadLetter, OutboxEvent, StoreError};
use super::{PgStore, pg_err};
use std::collections::HashMap;
use std::sync::Arc;
use tokio_postgres::Row;

type Param<'a> = &'a (dyn tokio_postgres::types::ToSql + Sync);

const SCHEDULE_COLUMNS: &str =
    "SELECT schedule_id, business_unit_id, week_date, week_count, published, version FROM schedules";
const DEAD_LETTER_COLUMNS: &str =
    "SELECT id, sink, seq, status, error, dead_lettered_at, event, replay FROM dead_letters";

fn schedule(r: &Row) -> StoredSchedule {
    StoredSchedule {
        schedule_id: r.get(0),
        business_unit_id: r.get(1),
        week_date: r.get(2),
        week_count: r.get::<_, i32>(3) as u32,
        published: r.get(4),
        version: r.get(5),
    }
}

fn presence(r: &Row, at: usize) -> StoredPresence {
    StoredPresence {
        system_presence: r.get(at),
        presence_definition_id: r.get(at + 1),
        modified_date: r.get(at + 2),
    }
}

fn dead_letter(r: &Row) -> DeadLetter {
    let event: String = r.get(6);
    DeadLetter {
        id: r.get(0),
        sink: r.get(1),
        sequence: r.get::<_, i64>(2) as u64,
        status: r.get::<_, Option<i32>>(3).map(|s| s as u16),
        error: r.get(4),
        dead_lettered_at: r.get(5),
        event: serde_json::from_str(&event).unwrap_or(serde_json::Value::String(event)),
        replay_pending: r.get(7),
    }
}

// === impl PgStore (reads) ===

impl PgStore {
    pub(super) async fn rows(&self, sql: &str, params: &[Param<'_>]) -> Result<Vec<Row>, StoreError> {
        let conn = self.conn().await?;
        let st = conn.prepare_cached(sql).await.map_err(pg_err)?;
        conn.query(&st, params).await.map_err(pg_err)
    }

    async fn row(&self, sql: &str, params: &[Param<'_>]) -> Result<Option<Row>, StoreError> {
        Ok(self.rows(sql, params).await?.into_iter().next())
    }

    /// See `Store::read_outbox` (same byte cap per batch).
    pub async fn read_outbox(&self, after: u64, limit: usize) -> Result<Vec<OutboxEvent>, StoreError> {
        let rows = self
            .rows(
                "SELECT seq, event_id, json FROM outbox WHERE seq > $1 ORDER BY seq LIMIT $2",
                &[&(after as i64), &(limit as i64)],
            )
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        let mut bytes = 0;
        for r in rows {
            let json: Arc<str> = Arc::from(r.get::<_, &str>(2));
            bytes += json.len();
            out.push(OutboxEvent {
                seq: r.get::<_, i64>(0) as u64,
                id: r.get(1),
                json,
            });
            if bytes >= MAX_BATCH_BYTES {
                break;
            }
        }
        Ok(out)
    }

    /// See `Store::outbox_depth`.
    pub async fn outbox_depth(&self) -> Result<u64, StoreError> {
        let r = self.row("SELECT min(seq), max(seq) FROM outbox", &[]).await?;
        Ok(
            match r.map(|r| (r.get::<_, Option<i64>>(0), r.get::<_, Option<i64>>(1))) {
                Some((Some(lo), Some(hi))) => (hi - lo + 1) as u64,
                _ => 0,
            },
        )
    }

    /// See `Store::cursor`.
    pub async fn cursor(&self, sink: &str) -> Result<Option<u64>, StoreError> {
        let r = self
            .row("SELECT seq FROM cursors WHERE sink = $1", &[&sink])
            .await?;
        Ok(r.map(|r| r.get::<_, i64>(0) as u64))
    }

    /// See `Store::schedule_version`.
    pub async fn schedule_version(&self, schedule_id: &str) -> Result<Option<i64>, StoreError> {
        let r = self
            .row(
                "SELECT version FROM schedules WHERE schedule_id = $1",
                &[&schedule_id],
            )
            .await?;
        Ok(r.map(|r| r.get(0)))
    }

    /// See `Store::known_schedule`.
    pub async fn known_schedule(&self, schedule_id: &str) -> Result<Option<StoredSchedule>, StoreError> {
        let sql = format!("{SCHEDULE_COLUMNS} WHERE schedule_id = $1");
        Ok(self.row(&sql, &[&schedule_id]).await?.as_ref().map(schedule))
    }

    /// See `Store::known_schedules`.
    pub async fn known_schedules(&self) -> Result<Vec<StoredSchedule>, StoreError> {
        let sql = format!("{SCHEDULE_COLUMNS} ORDER BY schedule_id");
        Ok(self.rows(&sql, &[]).await?.iter().map(schedule).collect())
    }

    /// See `Store::agent_hashes`.
    pub async fn agent_hashes(
        &self,
        schedule_id: &str,
        mu_id: &str,
    ) -> Result<HashMap<String, String>, StoreError> {
        let rows = self
            .rows(
                "SELECT user_id, hash FROM agent_schedules WHERE schedule_id = $1 AND mu_id = $2",
                &[&schedule_id, &mu_id],
            )
            .await?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    /// See `Store::agent_schedules_for_user`.
    pub async fn agent_schedules_for_user(&self, user_id: &str) -> Result<Vec<AgentScheduleRow>, StoreError> {
        let rows = self
            .rows(
                "SELECT a.schedule_id, a.mu_id, s.week_date, a.canonical_json FROM agent_schedules a \
                 LEFT JOIN schedules s ON s.schedule_id = a.schedule_id WHERE a.user_id = $1 \
                 ORDER BY s.week_date NULLS FIRST",
                &[&user_id],
            )
            .await?;
        Ok(rows
            .iter()
            .map(|r| AgentScheduleRow {
                schedule_id: r.get(0),
                mu_id: r.get(1),
                week_date: r.get(2),
                canonical_json: r.get(3),
            })
            .collect())
    }

    /// See `Store::presence`.
    pub async fn presence(&self, user_id: &str) -> Result<Option<StoredPresence>, StoreError> {
        let r = self
            .row(
                "SELECT system_presence, presence_definition_id, modified_date FROM presence WHERE user_id = $1",
                &[&user_id],
            )
            .await?;
        Ok(r.map(|r| presence(&r, 0)))
    }

    /// See `Store::presences` (one round trip for the whole list).
    pub async fn presences(
        &self,
        user_ids: &[String],
    ) -> Result<HashMap<String, StoredPresence>, StoreError> {
        let rows = self
            .rows(
                "SELECT user_id, system_presence, presence_definition_id, modified_date FROM presence \
                 WHERE user_id = ANY($1)",
                &[&user_ids],
            )
            .await?;
        Ok(rows.iter().map(|r| (r.get(0), presence(r, 1))).collect())
    }

    /// See `Store::all_presences`.
    pub async fn all_presences(&self) -> Result<HashMap<String, StoredPresence>, StoreError> {
        let rows = self
            .rows(
                "SELECT user_id, system_presence, presence_definition_id, modified_date FROM presence",
                &[],
            )
            .await?;
        Ok(rows.iter().map(|r| (r.get(0), presence(r, 1))).collect())
    }

    /// See `Store::routing_status`.
    pub async fn routing_status(&self, user_id: &str) -> Result<Option<StoredRoutingStatus>, StoreError> {
        let r = self
            .row(
                "SELECT status, start_time FROM routing_status WHERE user_id = $1",
                &[&user_id],
            )
            .await?;
        Ok(r.map(|r| StoredRoutingStatus {
            status: r.get(0),
            start_time: r.get(1),
        }))
    }

    /// See `Store::dirty_keys`.
    pub async fn dirty_keys(&self) -> Result<Vec<DirtyKey>, StoreError> {
        let rows = self
            .rows(
                "SELECT business_unit_id, schedule_id FROM dirty ORDER BY 1, 2",
                &[],
            )
            .await?;
        Ok(rows
            .iter()
            .map(|r| DirtyKey {
                business_unit_id: r.get(0),
                schedule_id: r.get(1),
            })
            .collect())
    }

    /// See `Store::meta`.
    pub async fn meta(&self, key: &str) -> Result<Option<String>, StoreError> {
        let r = self.row("SELECT value FROM meta WHERE key = $1", &[&key]).await?;
        Ok(r.map(|r| r.get(0)))
    }

    /// See `Store::dead_letters`.
    pub async fn dead_letters(&self) -> Result<Vec<DeadLetter>, StoreError> {
        let sql = format!("{DEAD_LETTER_COLUMNS} ORDER BY id");
        Ok(self.rows(&sql, &[]).await?.iter().map(dead_letter).collect())
    }

    /// See `Store::pending_replays`.
    pub async fn pending_replays(&self, sink: &str, limit: usize) -> Result<Vec<DeadLetter>, StoreError> {
        let sql = format!("{DEAD_LETTER_COLUMNS} WHERE sink = $1 AND replay ORDER BY id LIMIT $2");
        let rows = self.rows(&sql, &[&sink, &(limit as i64)]).await?;
        Ok(rows.iter().map(dead_letter).collect())
    }

    /// See `Store::dead_letter_count`.
    pub async fn dead_letter_count(&self) -> Result<u64, StoreError> {
        let r = self.row("SELECT count(*) FROM dead_letters", &[]).await?;
        Ok(r.map_or(0, |r| r.get::<_, i64>(0) as u64))
    }
}
