//! Reads of the last-known state (on the read-only connection).

use super::state::{AgentScheduleRow, DirtyKey, StoredPresence, StoredRoutingStatus, StoredSchedule};
use super::{SqliteStore, StoreError};
use rusqlite::OptionalExtension;
use std::collections::HashMap;

fn presence_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<StoredPresence> {
    Ok(StoredPresence {
        system_presence: r.get(0)?,
        presence_definition_id: r.get(1)?,
        modified_date: r.get(2)?,
    })
}

const SCHEDULE_COLUMNS: &str =
    "SELECT schedule_id, business_unit_id, week_date, week_count, published, version FROM schedules";

fn schedule_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<StoredSchedule> {
    Ok(StoredSchedule {
        schedule_id: r.get(0)?,
        business_unit_id: r.get(1)?,
        week_date: r.get(2)?,
        week_count: r.get(3)?,
        published: r.get(4)?,
        version: r.get(5)?,
    })
}

// === impl SqliteStore (state reads) ===

impl SqliteStore {
    /// The stored `metadata.version` of a schedule.
    pub async fn schedule_version(&self, schedule_id: &str) -> Result<Option<i64>, StoreError> {
        let id = schedule_id.to_string();
        self.read(move |c| {
            Ok(c.query_row(
                "SELECT version FROM schedules WHERE schedule_id = ?1",
                [id],
                |r| r.get(0),
            )
            .optional()?)
        })
        .await
    }

    /// One known schedule header.
    pub async fn known_schedule(&self, schedule_id: &str) -> Result<Option<StoredSchedule>, StoreError> {
        let id = schedule_id.to_string();
        self.read(move |c| {
            let mut st = c.prepare_cached(&format!("{SCHEDULE_COLUMNS} WHERE schedule_id = ?1"))?;
            Ok(st.query_row([id], schedule_row).optional()?)
        })
        .await
    }

    /// Every known schedule header.
    pub async fn known_schedules(&self) -> Result<Vec<StoredSchedule>, StoreError> {
        self.read(|c| {
            let mut st = c.prepare(&format!("{SCHEDULE_COLUMNS} ORDER BY schedule_id"))?;
            let rows = st.query_map([], schedule_row)?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
    }

    /// user id → canonical hash for one (schedule, management unit).
    pub async fn agent_hashes(
        &self,
        schedule_id: &str,
        mu_id: &str,
    ) -> Result<HashMap<String, String>, StoreError> {
        let (s, m) = (schedule_id.to_string(), mu_id.to_string());
        self.read(move |c| {
            let mut st = c.prepare_cached(
                "SELECT user_id, hash FROM agent_schedules WHERE schedule_id = ?1 AND mu_id = ?2",
            )?;
            let rows = st.query_map([s, m], |r| Ok((r.get(0)?, r.get(1)?)))?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
    }

    /// Every stored agent schedule of one user (for "scheduled activity now").
    pub async fn agent_schedules_for_user(&self, user_id: &str) -> Result<Vec<AgentScheduleRow>, StoreError> {
        let u = user_id.to_string();
        self.read(move |c| {
            let mut st = c.prepare_cached(
                "SELECT a.schedule_id, a.mu_id, s.week_date, a.canonical_json FROM agent_schedules a \
                 LEFT JOIN schedules s ON s.schedule_id = a.schedule_id WHERE a.user_id = ?1 ORDER BY s.week_date",
            )?;
            let rows = st.query_map([u], |r| {
                Ok(AgentScheduleRow { schedule_id: r.get(0)?, mu_id: r.get(1)?, week_date: r.get(2)?, canonical_json: r.get(3)? })
            })?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
    }

    /// A user's stored presence.
    pub async fn presence(&self, user_id: &str) -> Result<Option<StoredPresence>, StoreError> {
        let u = user_id.to_string();
        self.read(move |c| {
            Ok(c.prepare_cached("SELECT system_presence, presence_definition_id, modified_date FROM presence WHERE user_id = ?1")?
                .query_row([u], presence_row)
                .optional()?)
        })
        .await
    }

    /// Stored presences of many users (unknown users are absent from the map).
    pub async fn presences(
        &self,
        user_ids: &[String],
    ) -> Result<HashMap<String, StoredPresence>, StoreError> {
        let ids = user_ids.to_vec();
        self.read(move |c| {
            let mut st = c.prepare_cached("SELECT system_presence, presence_definition_id, modified_date FROM presence WHERE user_id = ?1")?;
            let mut out = HashMap::new();
            for id in ids {
                if let Some(p) = st.query_row([&id], presence_row).optional()? {
                    out.insert(id, p);
                }
            }
            Ok(out)
        })
        .await
    }

    /// Every stored presence (for `/v1/state`).
    pub async fn all_presences(&self) -> Result<HashMap<String, StoredPresence>, StoreError> {
        self.read(|c| {
            let mut st = c.prepare(
                "SELECT user_id, system_presence, presence_definition_id, modified_date FROM presence",
            )?;
            let rows = st.query_map([], |r| {
                Ok((
                    r.get(0)?,
                    StoredPresence {
                        system_presence: r.get(1)?,
                        presence_definition_id: r.get(2)?,
                        modified_date: r.get(3)?,
                    },
                ))
            })?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
    }

    /// A user's stored routing status.
    pub async fn routing_status(&self, user_id: &str) -> Result<Option<StoredRoutingStatus>, StoreError> {
        let u = user_id.to_string();
        self.read(move |c| {
            Ok(c.query_row(
                "SELECT status, start_time FROM routing_status WHERE user_id = ?1",
                [u],
                |r| {
                    Ok(StoredRoutingStatus {
                        status: r.get(0)?,
                        start_time: r.get(1)?,
                    })
                },
            )
            .optional()?)
        })
        .await
    }

    /// Keys marked dirty and not yet cleared (re-fetch them after a restart).
    pub async fn dirty_keys(&self) -> Result<Vec<DirtyKey>, StoreError> {
        self.read(|c| {
            let mut st = c.prepare("SELECT business_unit_id, schedule_id FROM dirty ORDER BY 1, 2")?;
            let rows = st.query_map([], |r| {
                Ok(DirtyKey {
                    business_unit_id: r.get(0)?,
                    schedule_id: r.get(1)?,
                })
            })?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
    }

    /// A meta value (set through [`StateChange::Meta`]).
    pub async fn meta(&self, key: &str) -> Result<Option<String>, StoreError> {
        let k = key.to_string();
        self.read(move |c| {
            Ok(
                c.query_row("SELECT value FROM meta WHERE key = ?1", [k], |r| r.get(0))
                    .optional()?,
            )
        })
        .await
    }
}
