//! A management unit's diff → what is committed for it: the agents' new state and the
//! `wfm.schedule.changed` event, whose agent entries come from the canonical schedules
//! the diff compared.

use super::Context;
use super::hint::{Hint, HintCause};
use crate::coalesce::ScheduleKey;
use crate::diff::{ActivityCodeInfo, AgentDiff, CanonicalActivity, CanonicalShift, Change};
use crate::events::{Activity, ActivityCodeRef, AgentChange, ChangeKind, NewEvent, ScheduleChanged, Shift};
use crate::store::{Batch, StateChange};

fn code(info: &Option<ActivityCodeInfo>) -> Option<ActivityCodeRef> {
    let info = info.as_ref()?;
    Some(ActivityCodeRef {
        name: info.name.clone().unwrap_or_default(),
        category: info.category.clone().unwrap_or_default(),
    })
}

fn activity(a: &CanonicalActivity) -> Activity {
    Activity {
        start_date: a.start_date.clone(),
        length_minutes: a.length_minutes,
        activity_code_id: a.activity_code_id.clone().unwrap_or_default(),
        activity_code: code(&a.activity_code),
        description: a.description.clone(),
        paid: a.paid.unwrap_or(false),
    }
}

fn shift(s: &CanonicalShift) -> Shift {
    Shift {
        id: s.id.clone().unwrap_or_default(),
        start_date: s.start_date.clone(),
        length_minutes: s.length_minutes,
        activities: s.activities.iter().map(activity).collect(),
    }
}

/// One agent's entry in `wfm.schedule.changed`: the complete new shift list (empty when removed).
fn agent_change(d: &AgentDiff) -> AgentChange {
    let change = match d.change {
        Change::Added => ChangeKind::Added,
        Change::Updated => ChangeKind::Updated,
        Change::Removed => ChangeKind::Removed,
    };
    let removed = d.change == Change::Removed;
    AgentChange {
        user_id: d.user_id.clone(),
        change,
        shifts: if removed {
            vec![]
        } else {
            d.schedule.shifts.iter().map(shift).collect()
        },
        full_day_time_off_markers: if removed {
            vec![]
        } else {
            d.schedule
                .full_day_time_off_markers
                .iter()
                .filter_map(|m| serde_json::to_value(m).ok())
                .collect()
        },
    }
}

/// One management unit's changed agents, as the diff found them.
pub(super) struct MuDiff<'a> {
    pub mu: &'a str,
    pub week_date: &'a str,
    pub diffs: &'a [AgentDiff],
    /// The version its event is labelled with.
    pub label: Option<i64>,
    pub time_zone: &'a str,
}

/// The state changes and (unless a silent snapshot) the `wfm.schedule.changed` event of
/// one management unit's diff.
pub(super) fn diff_to_batch(
    ctx: &Context,
    key: &ScheduleKey,
    hint: &Hint,
    d: &MuDiff<'_>,
) -> anyhow::Result<Batch> {
    let mut batch = Batch::default();
    for a in d.diffs {
        batch.changes.push(match (a.change, &a.hash) {
            (Change::Removed, _) | (_, None) => StateChange::AgentRemoved {
                schedule_id: key.schedule_id.clone(),
                mu_id: d.mu.to_string(),
                user_id: a.user_id.clone(),
            },
            (_, Some(hash)) => StateChange::AgentSchedule {
                schedule_id: key.schedule_id.clone(),
                mu_id: d.mu.to_string(),
                user_id: a.user_id.clone(),
                hash: hash.clone(),
                canonical_json: serde_json::to_string(&a.schedule)?,
            },
        });
    }
    if hint.cause != HintCause::Snapshot || ctx.config.reconcile.initial_snapshot {
        let data = ScheduleChanged {
            business_unit_id: key.business_unit_id.clone(),
            management_unit_id: d.mu.to_string(),
            schedule_id: key.schedule_id.clone(),
            week_date: d.week_date.to_string(),
            week_count: hint.week_count.unwrap_or(1),
            published: hint.published.unwrap_or(true),
            version: d.label.unwrap_or_default(),
            operation_id: (hint.cause == HintCause::Notification)
                .then(|| hint.operation_id.clone())
                .flatten(),
            cause: hint.cause.event_cause(),
            business_unit_time_zone: d.time_zone.to_string(),
            agents: d.diffs.iter().map(agent_change).collect(),
        };
        let time = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        batch
            .events
            .push(NewEvent::schedule_changed(&ctx.api_host, &time, &data));
    }
    Ok(batch)
}
