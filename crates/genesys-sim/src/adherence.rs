//! Real-time adherence as the simulated org computes it, for its own agents: from their
//! presence, routing status and the published schedule's activity now. Published on the
//! unit topic `v2.workforcemanagement.managementunits.{muId}.adherence` whenever an agent's
//! presence or routing status is set, and listed by
//! `GET /api/v2/workforcemanagement/managementunits/{muId}/adherence`; both need
//! `wfm:realtimeAdherence:view` (deny it with `SimHandle::deny_permission` to see a
//! rejected topic).
//!
//! The rules follow Genesys's help pages (presence → category; On Queue adherent only when
//! Idle, Interacting or Communicating; unscheduled Unavailable/TimeOff is in adherence).
//! The simulator keeps no adherence history: `adherenceChangeTime` is the latest of the
//! presence and routing changes.

use super::errors::ApiResult;
use super::schedules::{WeekKey, agent_week, iso};
use super::state::{AppState, Inner, Shared};
use axum::Json;
use axum::extract::{Path, State};
use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};

/// The permission of the topic and the route.
pub(crate) const PERMISSION: &str = "wfm:realtimeAdherence:view";

/// The unit topic of management unit `mu`.
pub(crate) fn topic(mu: &str) -> String {
    format!("v2.workforcemanagement.managementunits.{mu}.adherence")
}

fn actual_category(presence: &str) -> Option<&'static str> {
    Some(match presence.to_ascii_lowercase().replace('_', " ").as_str() {
        "available" | "busy" => "OffQueueWork",
        "away" | "idle" | "offline" => "Unavailable",
        "break" => "Break",
        "meal" => "Meal",
        "meeting" => "Meeting",
        "training" => "Training",
        "on queue" => "OnQueueWork",
        "out of office" => "TimeOff",
        _ => return None,
    })
}

fn state(scheduled: &str, actual: Option<&str>, routing: Option<&str>) -> &'static str {
    let on_queue_ok = routing.is_none_or(|r| ["IDLE", "INTERACTING", "COMMUNICATING"].contains(&r));
    match (scheduled, actual) {
        (_, None) => "Unknown",
        ("Unscheduled", Some("Unavailable" | "TimeOff")) => "InAdherence",
        ("Unscheduled", Some("OnQueueWork")) => "OutOfAdherence",
        ("Unscheduled", Some(_)) => "Unscheduled",
        ("OnQueueWork", Some("OnQueueWork")) if on_queue_ok => "InAdherence",
        (s, Some(a)) if s == a && s != "OnQueueWork" => "InAdherence",
        _ => "OutOfAdherence",
    }
}

/// The activity code id scheduled for agent `a` at `t` in a published schedule.
fn scheduled_code(shared: &Shared, inner: &Inner, a: usize, t: DateTime<Utc>) -> Option<&'static str> {
    let mu = &shared.org.mus[shared.org.agents[a].mu];
    let bu = &shared.org.bus[mu.bu];
    inner.schedules.iter().enumerate().find_map(|(idx, s)| {
        let start = s.week_date.and_hms_opt(0, 0, 0)?.and_utc() - Duration::days(1);
        let covers = start <= t && t < start + Duration::days(9);
        if s.bu != mu.bu || !s.published || s.deleted || !covers {
            return None;
        }
        let week = agent_week(&WeekKey {
            seed: shared.config.seed,
            schedule_id: &s.id,
            week_date: s.week_date,
            agent_index: a,
            agent_id: &shared.org.agents[a].id,
            revision: inner.revisions.get(&(idx, a)).copied().unwrap_or(0),
            offset_minutes: bu.offset_minutes,
        });
        week.code_at(t)
    })
}

/// Agent `a`'s adherence now; `rest` names the change time as the REST model does
/// (`timeOfAdherenceChange`), the topic as `adherenceChangeTime`.
pub(crate) fn body(shared: &Shared, inner: &Inner, a: usize, now: DateTime<Utc>, rest: bool) -> Value {
    let agent = &shared.org.agents[a];
    let mu = &shared.org.mus[agent.mu];
    // the same presence and routing status the presence routes answer (defaults included)
    let presence = super::presence_routes::presence_in(shared, inner, a);
    let routing = super::presence_routes::routing_in(shared, inner, a);
    let code = scheduled_code(shared, inner, a, now);
    let scheduled = code
        .and_then(|c| shared.org.activity_codes.iter().find(|ac| ac.id == c))
        .map_or("Unscheduled", |ac| ac.category.as_str());
    let actual = actual_category(&presence.value);
    let changed = presence.since.max(routing.since);
    let st = state(scheduled, actual, Some(routing.value.as_str()));
    let time_key = if rest {
        "timeOfAdherenceChange"
    } else {
        "adherenceChangeTime"
    };
    json!({
        "user": {"id": agent.id}, "managementUnitId": mu.id,
        "businessUnitId": shared.org.bus[mu.bu].id,
        "scheduledActivityCategory": scheduled,
        "scheduledActivityCode": code.map(|c| json!({"id": c})),
        "systemPresence": presence.value.to_uppercase().replace(' ', "_"),
        "organizationSecondaryPresenceId": super::presence_routes::presence_id(&presence.value),
        "routingStatus": routing.value,
        "actualActivityCategory": actual, "isOutOfOffice": actual == Some("TimeOff"),
        "adherenceState": st, "impact": if st == "OutOfAdherence" { "Negative" } else { "Neutral" },
        time_key: iso(changed), "presenceUpdateTime": iso(presence.since),
        "removedFromManagementUnit": false,
    })
}

/// Publishes agent `a`'s adherence on its unit topic (after a presence or routing change).
pub(crate) fn publish(shared: &Shared, inner: &Inner, a: usize, now: DateTime<Utc>) {
    let mu = &shared.org.mus[shared.org.agents[a].mu];
    let body = body(shared, inner, a, now, false);
    super::notify::publish_locked(inner, &topic(&mu.id), &body);
}

/// `GET /api/v2/workforcemanagement/managementunits/{muId}/adherence`: every agent's
/// adherence inline (`downloadUrl` null).
pub(crate) async fn list(State(shared): State<AppState>, Path(mu): Path<String>) -> ApiResult<Json<Value>> {
    super::wfm_routes::require(&shared, &[PERMISSION])?;
    let m = shared
        .org
        .mus
        .iter()
        .position(|m| m.id == mu)
        .ok_or_else(|| super::errors::ApiError::not_found("management unit"))?;
    let now = Utc::now();
    let inner = shared.lock();
    let entities: Vec<Value> = shared.org.mus[m]
        .agents
        .iter()
        .map(|&a| body(&shared, &inner, a, now, true))
        .collect();
    Ok(Json(json!({"entities": entities, "downloadUrl": null})))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rules_match_the_help_pages() {
        assert_eq!(
            state("OnQueueWork", Some("OnQueueWork"), Some("IDLE")),
            "InAdherence"
        );
        assert_eq!(
            state("OnQueueWork", Some("OnQueueWork"), Some("NOT_RESPONDING")),
            "OutOfAdherence"
        );
        assert_eq!(
            state("Break", Some("OnQueueWork"), Some("IDLE")),
            "OutOfAdherence"
        );
        assert_eq!(state("Break", Some("Break"), None), "InAdherence");
        assert_eq!(state("Unscheduled", Some("Unavailable"), None), "InAdherence");
        assert_eq!(state("Unscheduled", Some("OnQueueWork"), None), "OutOfAdherence");
        assert_eq!(actual_category("On Queue"), Some("OnQueueWork"));
        assert_eq!(actual_category("OUT_OF_OFFICE"), Some("TimeOff"));
    }
}
