//! The PostgreSQL schema, as numbered migrations kept in the code.
//!
//! Each replica runs [`migrate`] at start inside one transaction holding a transaction
//! advisory lock, so two replicas starting together never apply a step twice, and a
//! database already migrated by a newer build is refused rather than written to.

use super::super::StoreError;
use super::pg_err;
use tokio_postgres::Client;

/// Migration steps: (version, SQL). Append only; never edit a released step.
const MIGRATIONS: &[(i32, &str)] = &[
    (
        1,
        "
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE schedules (
  schedule_id TEXT PRIMARY KEY, business_unit_id TEXT NOT NULL, week_date TEXT NOT NULL,
  week_count INTEGER NOT NULL, published BOOLEAN NOT NULL, version BIGINT NOT NULL);
CREATE TABLE agent_schedules (
  schedule_id TEXT NOT NULL, mu_id TEXT NOT NULL, user_id TEXT NOT NULL,
  hash TEXT NOT NULL, canonical_json TEXT NOT NULL,
  PRIMARY KEY (schedule_id, mu_id, user_id));
CREATE INDEX agent_schedules_user ON agent_schedules (user_id);
CREATE TABLE presence (
  user_id TEXT PRIMARY KEY, system_presence TEXT NOT NULL,
  presence_definition_id TEXT NOT NULL, modified_date TEXT NOT NULL);
CREATE TABLE routing_status (
  user_id TEXT PRIMARY KEY, status TEXT NOT NULL, start_time TEXT NOT NULL);
CREATE TABLE dirty (
  business_unit_id TEXT NOT NULL, schedule_id TEXT NOT NULL,
  PRIMARY KEY (business_unit_id, schedule_id));
CREATE TABLE outbox (
  seq BIGINT PRIMARY KEY, event_id TEXT NOT NULL, json TEXT NOT NULL,
  epoch BIGINT NOT NULL DEFAULT 0);
CREATE TABLE cursors (sink TEXT PRIMARY KEY, seq BIGINT NOT NULL);
CREATE TABLE dead_letters (
  id BIGSERIAL PRIMARY KEY, sink TEXT NOT NULL, seq BIGINT NOT NULL,
  status INTEGER, error TEXT NOT NULL, dead_lettered_at TEXT NOT NULL, event TEXT NOT NULL,
  replay BOOLEAN NOT NULL DEFAULT false);
CREATE TABLE lease (
  id INTEGER PRIMARY KEY CHECK (id = 1), epoch BIGINT NOT NULL,
  holder TEXT NOT NULL, acquired_at TIMESTAMPTZ NOT NULL);
INSERT INTO lease VALUES (1, 0, '', now());
",
    ),
    (
        2,
        "
CREATE TABLE adherence (
  user_id TEXT PRIMARY KEY, management_unit_id TEXT NOT NULL, business_unit_id TEXT NOT NULL,
  state TEXT NOT NULL, scheduled_category TEXT NOT NULL, scheduled_code_id TEXT,
  actual_category TEXT, change_time TEXT NOT NULL, computed_by TEXT NOT NULL);
",
    ),
];

/// The newest schema version this build knows.
pub fn latest() -> i32 {
    MIGRATIONS.last().map_or(0, |m| m.0)
}

/// Applies every step the database lacks; refuses a database newer than this build.
pub async fn migrate(client: &mut Client) -> Result<i32, StoreError> {
    let tx = client.transaction().await.map_err(pg_err)?;
    // One key per schema: replicas of another deployment in another schema of the same
    // database migrate independently.
    tx.execute(
        "SELECT pg_advisory_xact_lock(hashtext('wfm-reactor-migrate:' || current_schema()))",
        &[],
    )
    .await
    .map_err(pg_err)?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS wfm_reactor_migrations (
           version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
    )
    .await
    .map_err(pg_err)?;
    let row = tx
        .query_one(
            "SELECT coalesce(max(version), 0) FROM wfm_reactor_migrations",
            &[],
        )
        .await
        .map_err(pg_err)?;
    let current: i32 = row.get(0);
    if current > latest() {
        // Ended here, not on drop: a dropped transaction rolls back only once its
        // connection task runs again, holding its locks until then.
        tx.rollback().await.map_err(pg_err)?;
        return Err(StoreError::Incompatible {
            path: "[state] url".into(),
            reason: format!(
                "schema version {current} is newer than this build supports ({}); upgrade wfm-reactor",
                latest()
            ),
        });
    }
    for (version, sql) in MIGRATIONS.iter().filter(|m| m.0 > current) {
        tx.batch_execute(sql).await.map_err(pg_err)?;
        tx.execute(
            "INSERT INTO wfm_reactor_migrations (version) VALUES ($1)",
            &[version],
        )
        .await
        .map_err(pg_err)?;
        tracing::info!(version, "state store migrated");
    }
    tx.commit().await.map_err(pg_err)?;
    Ok(latest())
}
