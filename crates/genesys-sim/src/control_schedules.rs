//! Control routes that edit schedules in a simulator running in another process, so the
//! load bench's bursts scenario measures the daemon alone (the simulator's work of
//! editing 50 schedules and serving their queries is not in the measured process).
//!
//! - `GET /sim/schedules`: every published schedule with its business unit and first
//!   management unit: `[{"businessUnitId", "scheduleId", "managementUnitId"}]`.
//! - `POST /sim/schedule-bursts` `{"targets": [...as above], "events": N}`: for every
//!   target at once, `N` edits of one agent each (`"agentsPerEvent"`: more), 1 ms apart, each announced by a
//!   `Complete` event; answers when all are sent with, per `"{schedule}/{mu}"`, when its
//!   last event was sent (µs since the Unix epoch: the same clock in both processes).

use super::change::{AgentPick, Emit, ScheduleChange};
use super::errors::ApiError;
use super::handle::SimHandle;
use super::state::AppState;
use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Most edits one burst request may ask for per target.
const MAX_EVENTS: usize = 1_000;

/// One schedule to edit.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Target {
    business_unit_id: String,
    schedule_id: String,
    management_unit_id: String,
}

/// Body of `POST /sim/schedule-bursts`.
#[derive(Debug, Deserialize)]
pub(crate) struct BurstRequest {
    targets: Vec<Target>,
    events: usize,
    /// Agents each edit changes (default 1).
    #[serde(default = "one", rename = "agentsPerEvent")]
    agents_per_event: usize,
}

fn one() -> usize {
    1
}

/// Answer of `POST /sim/schedule-bursts`.
#[derive(Debug, Serialize)]
pub(crate) struct BurstResponse {
    /// `"{schedule}/{mu}"` → when its last event was sent (µs since the epoch).
    last: BTreeMap<String, u64>,
}

/// `GET /sim/schedules`.
pub(crate) async fn schedules(State(shared): State<AppState>) -> Json<Vec<Target>> {
    let org = SimHandle { shared }.org();
    let first_mu = |bu: &str| {
        org.business_units
            .iter()
            .find(|b| b.id == bu)
            .and_then(|b| b.management_units.first())
            .map(|m| m.id.clone())
    };
    Json(
        org.schedules
            .iter()
            .filter(|s| s.published)
            .filter_map(|s| {
                Some(Target {
                    business_unit_id: s.bu_id.clone(),
                    schedule_id: s.id.clone(),
                    management_unit_id: first_mu(&s.bu_id)?,
                })
            })
            .collect(),
    )
}

/// `POST /sim/schedule-bursts`.
pub(crate) async fn bursts(
    State(shared): State<AppState>,
    Json(req): Json<BurstRequest>,
) -> Result<Json<BurstResponse>, ApiError> {
    if req.events == 0 || req.events > MAX_EVENTS {
        metrics::counter!("wfm_reactor_sim_control_rejected_total", "route" => "schedule-bursts")
            .increment(1);
        return Err(ApiError::bad_request(
            "bad.request",
            format!("events must be between 1 and {MAX_EVENTS}"),
        ));
    }
    let handle = SimHandle { shared };
    let tasks: Vec<_> = req
        .targets
        .into_iter()
        .map(|t| tokio::spawn(burst(handle.clone(), t, req.events, req.agents_per_event)))
        .collect();
    let mut last = BTreeMap::new();
    for t in tasks {
        let (subject, at) = t
            .await
            .map_err(|e| ApiError::bad_request("bad.request", e.to_string()))??;
        last.insert(subject, at);
    }
    Ok(Json(BurstResponse { last }))
}

/// `events` edits of `target`, 1 ms apart; its subject and when the last was sent.
async fn burst(
    handle: SimHandle,
    target: Target,
    events: usize,
    agents: usize,
) -> Result<(String, u64), ApiError> {
    let mut at = 0;
    for _ in 0..events {
        handle
            .change_schedule(ScheduleChange {
                business_unit_id: target.business_unit_id.clone(),
                schedule_id: target.schedule_id.clone(),
                management_unit_id: Some(target.management_unit_id.clone()),
                agents: AgentPick::Count(agents),
                emit: Emit::Complete,
            })
            .map_err(|e| ApiError::bad_request("bad.request", e.to_string()))?;
        at = unix_micros();
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    Ok((
        format!("{}/{}", target.schedule_id, target.management_unit_id),
        at,
    ))
}

fn unix_micros() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
}
