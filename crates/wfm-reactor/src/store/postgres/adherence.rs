//! The adherence reads on PostgreSQL (the SQLite twins are in `store/adherence.rs` and
//! `store/replay.rs`).

use super::super::state::StoredRoutingStatus;
use super::super::{StoreError, StoredAdherence, StoredAgentSchedule};
use super::PgStore;

impl PgStore {
    /// See `Store::all_adherence`.
    pub async fn all_adherence(&self) -> Result<Vec<StoredAdherence>, StoreError> {
        let rows = self.rows("SELECT * FROM adherence ORDER BY user_id", &[]).await?;
        Ok(rows
            .iter()
            .map(|r| StoredAdherence {
                user_id: r.get(0),
                management_unit_id: r.get(1),
                business_unit_id: r.get(2),
                state: r.get(3),
                scheduled_category: r.get(4),
                scheduled_code_id: r.get(5),
                actual_category: r.get(6),
                change_time: r.get(7),
                computed_by: r.get(8),
            })
            .collect())
    }

    /// See `Store::all_routing_statuses`.
    pub async fn all_routing_statuses(&self) -> Result<Vec<(String, StoredRoutingStatus)>, StoreError> {
        let rows = self
            .rows("SELECT user_id, status, start_time FROM routing_status", &[])
            .await?;
        Ok(rows
            .iter()
            .map(|r| {
                let status = StoredRoutingStatus {
                    status: r.get(1),
                    start_time: r.get(2),
                };
                (r.get(0), status)
            })
            .collect())
    }

    /// See `Store::all_agent_schedules`.
    pub async fn all_agent_schedules(&self) -> Result<Vec<StoredAgentSchedule>, StoreError> {
        let rows = self
            .rows(
                "SELECT user_id, schedule_id, mu_id, canonical_json FROM agent_schedules",
                &[],
            )
            .await?;
        Ok(rows
            .iter()
            .map(|r| StoredAgentSchedule {
                user_id: r.get(0),
                schedule_id: r.get(1),
                mu_id: r.get(2),
                canonical_json: r.get(3),
            })
            .collect())
    }

    /// See `Store::oldest_sequence`.
    pub async fn oldest_sequence(&self) -> Result<Option<u64>, StoreError> {
        let rows = self.rows("SELECT min(seq) FROM outbox", &[]).await?;
        Ok(rows
            .first()
            .and_then(|r| r.get::<_, Option<i64>>(0))
            .map(|s| s as u64))
    }
}
