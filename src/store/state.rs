//! Last-known state: schedules, agent schedules, presence, routing status, dirty keys, meta.

use super::{Store, StoreError};
use rusqlite::{Connection, OptionalExtension, params};
use std::collections::HashMap;

/// One change to the last-known state, applied in the same transaction as its events.
#[derive(Debug, Clone, PartialEq)]
pub enum StateChange {
    /// Upsert a schedule's header.
    Schedule(StoredSchedule),
    /// Upsert one agent's schedule in (schedule, management unit).
    AgentSchedule {
        /// Schedule id.
        schedule_id: String,
        /// Management unit id.
        mu_id: String,
        /// Agent user id.
        user_id: String,
        /// Canonical content hash (what the diff compares).
        hash: String,
        /// Canonical JSON of the agent's shifts (for `/v1/state`).
        canonical_json: String,
    },
    /// Forget one agent of (schedule, management unit).
    AgentRemoved {
        /// Schedule id.
        schedule_id: String,
        /// Management unit id.
        mu_id: String,
        /// Agent user id.
        user_id: String,
    },
    /// Forget a schedule and all its agent rows.
    ScheduleDeleted {
        /// Schedule id.
        schedule_id: String,
    },
    /// Upsert a user's presence.
    Presence {
        /// User id.
        user_id: String,
        /// The presence.
        presence: StoredPresence,
    },
    /// Upsert a user's routing status.
    RoutingStatus {
        /// User id.
        user_id: String,
        /// The status.
        status: StoredRoutingStatus,
    },
    /// Remember that a schedule must be re-fetched (survives restarts).
    MarkDirty(DirtyKey),
    /// The schedule was fetched; forget the dirty mark.
    ClearDirty(DirtyKey),
    /// Set (`Some`) or delete (`None`) a meta key.
    Meta {
        /// Key, e.g. `initial_snapshot_done`.
        key: String,
        /// Value.
        value: Option<String>,
    },
}

/// A schedule's header as last known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSchedule {
    /// Schedule id.
    pub schedule_id: String,
    /// Owning business unit.
    pub business_unit_id: String,
    /// `yyyy-MM-dd`.
    pub week_date: String,
    /// Weeks spanned.
    pub week_count: u32,
    /// Published or draft.
    pub published: bool,
    /// `metadata.version`.
    pub version: i64,
}

/// A user's presence as last known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredPresence {
    /// Display form ("Available", ...).
    pub system_presence: String,
    /// Presence definition id.
    pub presence_definition_id: String,
    /// Upstream `modifiedDate` (RFC 3339).
    pub modified_date: String,
}

/// A user's routing status as last known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRoutingStatus {
    /// `IDLE`, `INTERACTING`, ...
    pub status: String,
    /// When it began (RFC 3339).
    pub start_time: String,
}

/// A (business unit, schedule) key that must be re-fetched.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DirtyKey {
    /// Business unit id.
    pub business_unit_id: String,
    /// Schedule id.
    pub schedule_id: String,
}

/// One agent's stored schedule, for `/v1/state`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentScheduleRow {
    /// Schedule id.
    pub schedule_id: String,
    /// Management unit id.
    pub mu_id: String,
    /// The schedule's first day (`yyyy-MM-dd`), when its header is known.
    pub week_date: Option<String>,
    /// Canonical JSON of the agent's shifts.
    pub canonical_json: String,
}

/// Applies changes in order on the (savepoint) connection.
pub(super) fn apply(conn: &Connection, changes: &[StateChange]) -> Result<(), StoreError> {
    for c in changes {
        match c {
            StateChange::Schedule(s) => {
                let mut st =
                    conn.prepare_cached("INSERT OR REPLACE INTO schedules VALUES (?1, ?2, ?3, ?4, ?5, ?6)")?;
                st.execute(params![
                    s.schedule_id,
                    s.business_unit_id,
                    s.week_date,
                    s.week_count,
                    s.published,
                    s.version
                ])?;
            }
            StateChange::AgentSchedule {
                schedule_id,
                mu_id,
                user_id,
                hash,
                canonical_json,
            } => {
                let mut st = conn
                    .prepare_cached("INSERT OR REPLACE INTO agent_schedules VALUES (?1, ?2, ?3, ?4, ?5)")?;
                st.execute(params![schedule_id, mu_id, user_id, hash, canonical_json])?;
            }
            StateChange::AgentRemoved {
                schedule_id,
                mu_id,
                user_id,
            } => {
                conn.prepare_cached(
                    "DELETE FROM agent_schedules WHERE schedule_id = ?1 AND mu_id = ?2 AND user_id = ?3",
                )?
                .execute(params![schedule_id, mu_id, user_id])?;
            }
            StateChange::ScheduleDeleted { schedule_id } => {
                conn.execute(
                    "DELETE FROM agent_schedules WHERE schedule_id = ?1",
                    [schedule_id],
                )?;
                conn.execute("DELETE FROM schedules WHERE schedule_id = ?1", [schedule_id])?;
            }
            StateChange::Presence { user_id, presence: p } => {
                conn.prepare_cached("INSERT OR REPLACE INTO presence VALUES (?1, ?2, ?3, ?4)")?
                    .execute(params![
                        user_id,
                        p.system_presence,
                        p.presence_definition_id,
                        p.modified_date
                    ])?;
            }
            StateChange::RoutingStatus { user_id, status } => {
                conn.prepare_cached("INSERT OR REPLACE INTO routing_status VALUES (?1, ?2, ?3)")?
                    .execute(params![user_id, status.status, status.start_time])?;
            }
            StateChange::MarkDirty(k) => {
                conn.prepare_cached("INSERT OR IGNORE INTO dirty VALUES (?1, ?2)")?
                    .execute(params![k.business_unit_id, k.schedule_id])?;
            }
            StateChange::ClearDirty(k) => {
                conn.prepare_cached("DELETE FROM dirty WHERE business_unit_id = ?1 AND schedule_id = ?2")?
                    .execute(params![k.business_unit_id, k.schedule_id])?;
            }
            StateChange::Meta { key, value: Some(v) } => {
                conn.execute("INSERT OR REPLACE INTO meta VALUES (?1, ?2)", params![key, v])?;
            }
            StateChange::Meta { key, value: None } => {
                conn.execute("DELETE FROM meta WHERE key = ?1", [key])?;
            }
        }
    }
    Ok(())
}

fn presence_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<StoredPresence> {
    Ok(StoredPresence {
        system_presence: r.get(0)?,
        presence_definition_id: r.get(1)?,
        modified_date: r.get(2)?,
    })
}

// === impl Store (state reads) ===

impl Store {
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

    /// Every known schedule header.
    pub async fn known_schedules(&self) -> Result<Vec<StoredSchedule>, StoreError> {
        self.read(|c| {
            let mut st = c.prepare("SELECT schedule_id, business_unit_id, week_date, week_count, published, version FROM schedules ORDER BY schedule_id")?;
            let rows = st.query_map([], |r| {
                Ok(StoredSchedule {
                    schedule_id: r.get(0)?,
                    business_unit_id: r.get(1)?,
                    week_date: r.get(2)?,
                    week_count: r.get(3)?,
                    published: r.get(4)?,
                    version: r.get(5)?,
                })
            })?;
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
