//! Canonical agent schedules (what the diff compares) → the downstream event's agent entries.

use crate::diff::{ActivityCodeInfo, AgentDiff, CanonicalActivity, CanonicalShift, Change};
use crate::events::{Activity, ActivityCodeRef, AgentChange, ChangeKind, Shift};

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
pub fn agent_change(d: &AgentDiff) -> AgentChange {
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
