//! Adherence as last known, per agent: the table, its upsert, and the reads the reactor
//! needs to rebuild its adherence engine at start (states, routing statuses, schedules).
//!
//! In SQLite the table is created with `IF NOT EXISTS` on every open rather than by a
//! schema-version bump (PostgreSQL has it as migration 2): it is additive, so a store written by an older build opens unchanged and simply
//! starts with no adherence rows (the first evaluation then records a baseline).

use super::{SqliteStore, StoreError, StoredRoutingStatus};
use rusqlite::{Connection, params};

/// Created on every open (additive; see the module doc).
pub(super) const DDL: &str = "
CREATE TABLE IF NOT EXISTS adherence (
  user_id TEXT PRIMARY KEY, management_unit_id TEXT NOT NULL, business_unit_id TEXT NOT NULL,
  state TEXT NOT NULL, scheduled_category TEXT NOT NULL, scheduled_code_id TEXT,
  actual_category TEXT, change_time TEXT NOT NULL, computed_by TEXT NOT NULL) WITHOUT ROWID;
";

/// One agent's adherence as last committed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredAdherence {
    /// The agent.
    pub user_id: String,
    /// Its management unit.
    pub management_unit_id: String,
    /// Its business unit.
    pub business_unit_id: String,
    /// `adherenceState` wire name.
    pub state: String,
    /// `scheduledActivityCategory` wire name.
    pub scheduled_category: String,
    /// `scheduledActivityCodeId`.
    pub scheduled_code_id: Option<String>,
    /// `actualActivityCategory` wire name, when known.
    pub actual_category: Option<String>,
    /// Since when (`adherenceChangeTime`, RFC 3339).
    pub change_time: String,
    /// `"local"` or `"genesys"`.
    pub computed_by: String,
}

/// One stored agent schedule with its user, for rebuilding timelines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredAgentSchedule {
    /// The agent.
    pub user_id: String,
    /// Schedule id.
    pub schedule_id: String,
    /// Management unit id.
    pub mu_id: String,
    /// Canonical JSON of its shifts (activity codes resolved).
    pub canonical_json: String,
}

pub(super) fn upsert(conn: &Connection, a: &StoredAdherence) -> Result<(), StoreError> {
    conn.prepare_cached("INSERT OR REPLACE INTO adherence VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)")?
        .execute(params![
            a.user_id,
            a.management_unit_id,
            a.business_unit_id,
            a.state,
            a.scheduled_category,
            a.scheduled_code_id,
            a.actual_category,
            a.change_time,
            a.computed_by
        ])?;
    Ok(())
}

// === impl SqliteStore (adherence reads) ===

impl SqliteStore {
    /// Every stored adherence row.
    pub async fn all_adherence(&self) -> Result<Vec<StoredAdherence>, StoreError> {
        self.read(|c| {
            let mut st = c.prepare("SELECT * FROM adherence ORDER BY user_id")?;
            let rows = st.query_map([], |r| {
                Ok(StoredAdherence {
                    user_id: r.get(0)?,
                    management_unit_id: r.get(1)?,
                    business_unit_id: r.get(2)?,
                    state: r.get(3)?,
                    scheduled_category: r.get(4)?,
                    scheduled_code_id: r.get(5)?,
                    actual_category: r.get(6)?,
                    change_time: r.get(7)?,
                    computed_by: r.get(8)?,
                })
            })?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
    }

    /// Every stored routing status, by user.
    pub async fn all_routing_statuses(&self) -> Result<Vec<(String, StoredRoutingStatus)>, StoreError> {
        self.read(|c| {
            let mut st = c.prepare("SELECT user_id, status, start_time FROM routing_status")?;
            let rows = st.query_map([], |r| {
                let status = StoredRoutingStatus {
                    status: r.get(1)?,
                    start_time: r.get(2)?,
                };
                Ok((r.get(0)?, status))
            })?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
    }

    /// Every stored agent schedule (all schedules, all management units).
    pub async fn all_agent_schedules(&self) -> Result<Vec<StoredAgentSchedule>, StoreError> {
        self.read(|c| {
            let mut st =
                c.prepare("SELECT user_id, schedule_id, mu_id, canonical_json FROM agent_schedules")?;
            let rows = st.query_map([], |r| {
                Ok(StoredAgentSchedule {
                    user_id: r.get(0)?,
                    schedule_id: r.get(1)?,
                    mu_id: r.get(2)?,
                    canonical_json: r.get(3)?,
                })
            })?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Batch, StateChange, Store};

    fn row(state: &str) -> StoredAdherence {
        StoredAdherence {
            user_id: "u1".into(),
            management_unit_id: "mu".into(),
            business_unit_id: "bu".into(),
            state: state.into(),
            scheduled_category: "Break".into(),
            scheduled_code_id: Some("c".into()),
            actual_category: None,
            change_time: "2026-12-01T09:00:00.000Z".into(),
            computed_by: "local".into(),
        }
    }

    #[tokio::test]
    async fn adherence_rows_upsert_and_survive_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        let store = Store::open(&path).unwrap();
        for state in ["InAdherence", "OutOfAdherence"] {
            let batch = Batch {
                changes: vec![StateChange::Adherence(row(state))],
                events: vec![],
            };
            store.commit(batch).await.unwrap();
        }
        drop(store);
        let store = Store::open(&path).unwrap();
        assert_eq!(store.all_adherence().await.unwrap(), vec![row("OutOfAdherence")]);
    }
}
