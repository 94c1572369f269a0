//! Presence and routing-status REST routes plus the per-agent status model (generated
//! default, overridden once a test or the activity mode changes it).

use super::errors::{ApiError, ApiResult};
use super::ids::{hash, mix};
use super::query::Query;
use super::schedules::iso;
use super::state::{AppState, Inner, Shared, StatusState};
use super::wfm_routes::require;
use axum::Json;
use axum::extract::{Path, RawQuery, State};
use serde_json::{Value, json};

/// Most ids one bulk presence call accepts.
const BULK_MAX: usize = 50;

/// System presence display names with their definition ids (the first three are the
/// well-known ids seen in public code; the rest are stable made-up ids).
const PRESENCES: &[(&str, &str)] = &[
    ("Available", "6a3af858-942f-489d-9700-5f9bcdcdae9b"),
    ("On Queue", "e08eaf1b-ee47-4fa9-a231-1200e284798f"),
    ("Meal", "3fd96123-badb-4f69-bc03-1b1ccc6d8014"),
    ("Away", "5e5c5c66-ea97-4e7f-ac41-6424784829f2"),
    ("Busy", "31fe3bac-dea6-44b7-bed7-47f91660a1a0"),
    ("Break", "a9a2d1ce-1a1e-4e5e-8b43-2b6f2d1e0f11"),
    ("Meeting", "3b894b9d-1b73-4a46-a6c8-5a0b7d3b9e21"),
    ("Training", "7b6b3b1e-6c42-4c4f-9d0c-0e8d0f6c2a31"),
    ("Offline", "ccf3c10a-aa2c-4845-8e8d-f59fa48c58e5"),
    ("Idle", "9f3d3b6f-2c6c-4f2d-bd7e-2b5b3a2d9c41"),
];

/// The definition id of a system presence (unknown names get the Available id).
pub(crate) fn presence_id(system: &str) -> &'static str {
    PRESENCES
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(system))
        .map_or(PRESENCES[0].1, |(_, id)| id)
}

/// The current presence of an agent.
pub(crate) fn presence_of(shared: &Shared, a: usize) -> StatusState {
    presence_in(shared, &shared.lock(), a)
}

/// The current presence of an agent, with the state already locked (the adherence answer
/// reads it under the same lock, so it agrees with the presence routes).
pub(crate) fn presence_in(shared: &Shared, inner: &Inner, a: usize) -> StatusState {
    if let Some(p) = inner.presence.get(&a) {
        return p.clone();
    }
    let pick = mix(hash(&[shared.config.seed, 20, a as u64])) % 10;
    let value = [
        "On Queue",
        "On Queue",
        "On Queue",
        "On Queue",
        "Available",
        "Busy",
        "Away",
        "Break",
        "Meal",
        "Offline",
    ][pick as usize];
    StatusState {
        value: value.into(),
        since: shared.started,
    }
}

/// The current routing status of an agent.
pub(crate) fn routing_of(shared: &Shared, a: usize) -> StatusState {
    routing_in(shared, &shared.lock(), a)
}

/// The current routing status of an agent, with the state already locked.
pub(crate) fn routing_in(shared: &Shared, inner: &Inner, a: usize) -> StatusState {
    if let Some(r) = inner.routing.get(&a) {
        return r.clone();
    }
    let on_queue = presence_in(shared, inner, a).value == "On Queue";
    let value = if !on_queue {
        "OFF_QUEUE"
    } else if a.is_multiple_of(2) {
        "IDLE"
    } else {
        "INTERACTING"
    };
    StatusState {
        value: value.into(),
        since: shared.started,
    }
}

/// The `presenceDefinition` object.
pub(crate) fn definition(system: &str) -> Value {
    let id = presence_id(system);
    json!({"id": id, "systemPresence": system, "selfUri": format!("/api/v2/presencedefinitions/{id}")})
}

fn agent_or_404(shared: &Shared, id: &str) -> ApiResult<usize> {
    shared
        .org
        .agent_index
        .get(id)
        .copied()
        .ok_or_else(|| ApiError::not_found("user"))
}

/// `GET /api/v2/users/{id}/presences/purecloud` → UserPresence
pub(crate) async fn get_presence(
    State(shared): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    require(&shared, &["presence:userPresence:view"])?;
    let a = agent_or_404(&shared, &id)?;
    let p = presence_of(&shared, a);
    Ok(Json(json!({
        "id": "purecloud", "name": "PURECLOUD", "source": "PURECLOUD", "primary": true,
        "presenceDefinition": definition(&p.value), "message": "", "modifiedDate": iso(p.since),
        "selfUri": format!("/api/v2/users/{id}/presences/purecloud"),
    })))
}

/// `GET /api/v2/users/presences/purecloud/bulk?id=...` → list of UcUserPresence
pub(crate) async fn bulk_presence(
    State(shared): State<AppState>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<Value>> {
    require(&shared, &["presence:userPresence:view"])?;
    let ids = Query::parse(raw.as_deref()).all("id");
    if ids.len() > BULK_MAX {
        return Err(ApiError::bad_request(
            "bad.request",
            format!("at most {BULK_MAX} ids per request, got {}", ids.len()),
        ));
    }
    let out: Vec<Value> = ids
        .iter()
        .filter_map(|id| shared.org.agent_index.get(id).map(|&a| (id, a)))
        .map(|(id, a)| {
            let p = presence_of(&shared, a);
            json!({"id": "purecloud", "userId": id, "source": "PURECLOUD", "presenceDefinition": definition(&p.value),
                   "message": "", "modifiedDate": iso(p.since)})
        })
        .collect();
    Ok(Json(Value::Array(out)))
}

/// `GET /api/v2/users/{id}/routingstatus` → RoutingStatus
pub(crate) async fn get_routing(
    State(shared): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let a = agent_or_404(&shared, &id)?;
    let r = routing_of(&shared, a);
    Ok(Json(
        json!({"userId": id, "status": r.value, "startTime": iso(r.since)}),
    ))
}
