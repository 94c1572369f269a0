//! `GET /v1/state`: presence per user, the activity scheduled right now per user (from the
//! known schedules in the store), and the known schedule versions.

use crate::diff::CanonicalAgentSchedule;
use crate::reactor::{Context, ReactorHandle};
use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// Users listed in one answer (the rest are counted as truncated).
const MAX_USERS: usize = 5_000;

/// The activity of `schedule` that covers `now`, if any.
pub fn activity_at(schedule: &CanonicalAgentSchedule, now: DateTime<Utc>) -> Option<Value> {
    for shift in &schedule.shifts {
        for a in &shift.activities {
            let Ok(start) = DateTime::parse_from_rfc3339(&a.start_date) else {
                continue;
            };
            let start = start.with_timezone(&Utc);
            // lengthMinutes comes from upstream (and may be stored): checked arithmetic
            let end = Duration::try_minutes(a.length_minutes).and_then(|d| start.checked_add_signed(d));
            if start <= now && end.is_some_and(|end| now < end) {
                return Some(json!({
                    "startDate": a.start_date,
                    "lengthMinutes": a.length_minutes,
                    "activityCodeId": a.activity_code_id,
                    "activityCode": a.activity_code,
                    "shiftId": shift.id,
                }));
            }
        }
    }
    None
}

/// Builds the snapshot (presence as the reactor, its only owner, knows it).
pub async fn snapshot(ctx: &Context, reactor: &ReactorHandle) -> anyhow::Result<Value> {
    let now = Utc::now();
    let view = reactor
        .users(MAX_USERS)
        .await
        .ok_or_else(|| anyhow::anyhow!("the reactor has stopped"))?;
    let cache: BTreeMap<String, Value> = view
        .users
        .into_iter()
        .map(|(u, s)| {
            let p = s.presence.map(|p| {
                json!({"systemPresence": p.system_presence, "presenceDefinitionId": p.presence_definition_id, "modifiedDate": p.modified_date})
            });
            let r = s.routing.map(|r| json!({"status": r.status, "startTime": r.start_time}));
            (u, json!({"presence": p, "routingStatus": r}))
        })
        .collect();
    let mut out = serde_json::Map::new();
    for (user, mut entry) in cache {
        let mut scheduled = Value::Null;
        for row in ctx.store.agent_schedules_for_user(&user).await? {
            if let Ok(s) = serde_json::from_str::<CanonicalAgentSchedule>(&row.canonical_json)
                && let Some(a) = activity_at(&s, now)
            {
                scheduled =
                    json!({"scheduleId": row.schedule_id, "managementUnitId": row.mu_id, "activity": a});
                break;
            }
        }
        entry["scheduledActivityNow"] = scheduled;
        out.insert(user, entry);
    }
    let schedules: Vec<Value> = ctx
        .store
        .known_schedules()
        .await?
        .into_iter()
        .map(|s| {
            json!({"scheduleId": s.schedule_id, "businessUnitId": s.business_unit_id, "weekDate": s.week_date,
                   "weekCount": s.week_count, "published": s.published, "version": s.version})
        })
        .collect();
    Ok(json!({
        "observedAt": now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "users": out,
        "usersTruncated": view.truncated,
        "schedules": schedules,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::{CanonicalActivity, CanonicalShift};

    fn schedule(length_minutes: i64) -> CanonicalAgentSchedule {
        CanonicalAgentSchedule {
            shifts: vec![CanonicalShift {
                id: Some("s".into()),
                start_date: "2026-08-17T13:00:00.000Z".into(),
                length_minutes: 60,
                activities: vec![CanonicalActivity {
                    start_date: "2026-08-17T13:00:00.000Z".into(),
                    length_minutes,
                    activity_code_id: Some("0".into()),
                    activity_code: None,
                    description: None,
                    paid: None,
                }],
            }],
            full_day_time_off_markers: vec![],
        }
    }

    #[test]
    fn an_absurd_length_from_upstream_or_the_store_never_panics() {
        let now = DateTime::parse_from_rfc3339("2026-08-17T13:30:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert!(activity_at(&schedule(60), now).is_some());
        for absurd in [200_000_000_000_000, i64::MAX, i64::MIN, -1] {
            assert!(activity_at(&schedule(absurd), now).is_none(), "{absurd}");
        }
    }
}
