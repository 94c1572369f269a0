//! Last-known state: schedules, agent schedules, presence, routing status, adherence,
//! dirty keys, meta.

use super::StoreError;
use rusqlite::{Connection, params};

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
    /// Forget a user's presence and routing status (no longer watched).
    UserForgotten {
        /// User id.
        user_id: String,
    },
    /// Upsert an agent's adherence.
    Adherence(super::StoredAdherence),
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
            StateChange::UserForgotten { user_id } => forget_user(conn, user_id)?,
            StateChange::Adherence(a) => super::adherence::upsert(conn, a)?,
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

/// Drops a user's stored presence and routing status (no longer watched).
fn forget_user(conn: &Connection, user_id: &str) -> rusqlite::Result<()> {
    conn.prepare_cached("DELETE FROM presence WHERE user_id = ?1")?
        .execute([user_id])?;
    conn.prepare_cached("DELETE FROM routing_status WHERE user_id = ?1")?
        .execute([user_id])?;
    Ok(())
}
