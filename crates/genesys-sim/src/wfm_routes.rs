//! WFM REST routes for the org structure: business units, management units, MU users,
//! agent → MU lookup and activity codes.

use super::errors::{ApiError, ApiResult};
use super::schedules::iso;
use super::state::{AppState, Shared};
use axum::Json;
use axum::extract::{Path, State};
use serde_json::{Value, json};

/// Permissions that allow reading activity codes (any one).
const ACTIVITY_CODE_PERMS: &[&str] = &[
    "wfm:activityCode:view",
    "wfm:schedule:view",
    "wfm:publishedSchedule:view",
];

/// 403 unless the client holds one of `any`.
pub(crate) fn require(shared: &Shared, any: &[&str]) -> ApiResult<()> {
    match shared.missing_any(any) {
        None => Ok(()),
        Some(missing) => {
            tracing::warn!(missing = ?missing, "sim: request refused for missing permissions");
            Err(ApiError::missing_permissions(&missing))
        }
    }
}

/// The business unit index for a path id, or 404.
pub(crate) fn bu_or_404(shared: &Shared, id: &str) -> ApiResult<usize> {
    shared
        .org
        .bu_index(id)
        .ok_or_else(|| ApiError::not_found("business unit"))
}

fn division() -> Value {
    json!({"id": "00000000-0000-4000-8000-000000000001", "name": "Home", "selfUri": "/api/v2/authorization/divisions/00000000-0000-4000-8000-000000000001"})
}

/// `GET /api/v2/workforcemanagement/businessunits`
pub(crate) async fn list_bus(State(shared): State<AppState>) -> Json<Value> {
    let entities: Vec<Value> = shared
        .org
        .bus
        .iter()
        .map(|b| {
            json!({"id": b.id, "name": b.name, "authorized": true, "division": division(),
                         "selfUri": format!("/api/v2/workforcemanagement/businessunits/{}", b.id)})
        })
        .collect();
    Json(json!({"entities": entities}))
}

/// `GET /api/v2/workforcemanagement/businessunits/{buId}` (settings always included).
pub(crate) async fn get_bu(State(shared): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let b = &shared.org.bus[bu_or_404(&shared, &id)?];
    let meta = json!({"version": 1, "dateModified": iso(shared.started)});
    Ok(Json(json!({
        "id": b.id, "name": b.name, "division": division(),
        "settings": {"startDayOfWeek": "Monday", "timeZone": b.time_zone, "metadata": meta},
        "selfUri": format!("/api/v2/workforcemanagement/businessunits/{}", b.id),
    })))
}

/// Renders a `ManagementUnit`.
fn mu_json(shared: &Shared, m: usize) -> Value {
    let mu = &shared.org.mus[m];
    let bu = &shared.org.bus[mu.bu];
    json!({
        "id": mu.id, "name": mu.name, "businessUnit": {"id": bu.id, "selfUri": format!("/api/v2/workforcemanagement/businessunits/{}", bu.id)},
        "startDayOfWeek": "Monday", "timeZone": bu.time_zone, "division": division(), "version": 1,
        "dateModified": iso(shared.started),
        "metadata": {"version": 1, "dateModified": iso(shared.started)},
        "selfUri": format!("/api/v2/workforcemanagement/managementunits/{}", mu.id),
    })
}

/// `GET /api/v2/workforcemanagement/businessunits/{buId}/managementunits`
pub(crate) async fn list_mus(
    State(shared): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let b = bu_or_404(&shared, &id)?;
    let entities: Vec<Value> = shared.org.bus[b]
        .mus
        .iter()
        .map(|&m| mu_json(&shared, m))
        .collect();
    Ok(Json(json!({"entities": entities})))
}

/// `GET /api/v2/workforcemanagement/managementunits/{muId}/users` → WfmUserEntityListing
pub(crate) async fn mu_users(
    State(shared): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    require(&shared, &["wfm:agent:view"])?;
    let m = shared
        .org
        .mu_index(&id)
        .ok_or_else(|| ApiError::not_found("management unit"))?;
    let entities: Vec<Value> = shared.org.mus[m]
        .agents
        .iter()
        .map(|&a| {
            let ag = &shared.org.agents[a];
            json!({"id": ag.id, "name": ag.name, "selfUri": format!("/api/v2/users/{}", ag.id)})
        })
        .collect();
    Ok(Json(json!({"entities": entities})))
}

/// `GET /api/v2/workforcemanagement/agents/{agentId}/managementunit`
pub(crate) async fn agent_mu(
    State(shared): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let a = *shared
        .org
        .agent_index
        .get(&id)
        .ok_or_else(|| ApiError::not_found("agent"))?;
    let mu = &shared.org.mus[shared.org.agents[a].mu];
    let bu = &shared.org.bus[mu.bu];
    Ok(Json(
        json!({"user": {"id": id}, "managementUnit": {"id": mu.id}, "businessUnit": {"id": bu.id}}),
    ))
}

/// `GET /api/v2/workforcemanagement/businessunits/{buId}/activitycodes`
pub(crate) async fn activity_codes(
    State(shared): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    bu_or_404(&shared, &id)?;
    require(&shared, ACTIVITY_CODE_PERMS)?;
    let entities: Vec<Value> = shared
        .org
        .activity_codes
        .iter()
        .map(|c| {
            let work = matches!(c.category.as_str(), "OnQueueWork" | "OffQueueWork" | "Meeting" | "Training");
            json!({
                "id": c.id, "name": c.name, "active": true, "defaultCode": true, "category": c.category,
                "lengthInMinutes": if c.category == "Break" { 15 } else if c.category == "Meal" { 30 } else { 60 },
                "countsAsPaidTime": c.paid, "countsAsWorkTime": work,
                "agentTimeOffSelectable": c.category == "TimeOff", "countsTowardShrinkage": !work || c.category != "OnQueueWork",
                "plannedShrinkage": c.category != "OnQueueWork", "interruptible": false,
                "secondaryPresences": [], "planningGroups": [],
                "metadata": {"version": 1, "dateModified": iso(shared.started)},
                "selfUri": format!("/api/v2/workforcemanagement/businessunits/{id}/activitycodes/{}", c.id),
            })
        })
        .collect();
    Ok(Json(json!({"entities": entities})))
}
