//! The `agents` member of a `wfm.schedule.changed`, serialised straight from the diff's
//! canonical schedules.
//!
//! The event's agent entries ([`crate::events::AgentChange`]) hold the same shifts and
//! activities as the canonical schedules the diff compared, under other names. Building
//! them first copied every string of a management unit (a snapshot unit is ~1.3 MB of
//! event) into a second tree that lived only until it was serialised. This borrowed view
//! writes the very same JSON (tested against `AgentChange`) without that copy.

use crate::diff::{ActivityCodeInfo, AgentDiff, CanonicalActivity, CanonicalShift, CanonicalTimeOff, Change};
use crate::events::ChangeKind;
use serde::Serialize;
use serde::ser::{SerializeStruct, Serializer};

/// Every agent of one management unit's diff, in the diff's order.
pub(super) struct AgentsJson<'a>(pub &'a [AgentDiff]);

impl Serialize for AgentsJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().map(AgentJson))
    }
}

/// One `AgentChange`: the complete new shift list (empty when removed).
struct AgentJson<'a>(&'a AgentDiff);

impl Serialize for AgentJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let d = self.0;
        let (change, removed) = match d.change {
            Change::Added => (ChangeKind::Added, false),
            Change::Updated => (ChangeKind::Updated, false),
            Change::Removed => (ChangeKind::Removed, true),
        };
        let (shifts, markers): (&[CanonicalShift], &[CanonicalTimeOff]) = if removed {
            (&[], &[])
        } else {
            (&d.schedule.shifts, &d.schedule.full_day_time_off_markers)
        };
        let mut st = s.serialize_struct("AgentChange", 4)?;
        st.serialize_field("userId", &d.user_id)?;
        st.serialize_field("change", &change)?;
        st.serialize_field("shifts", &Seq(shifts, shift_json))?;
        st.serialize_field("fullDayTimeOffMarkers", &Markers(markers))?;
        st.end()
    }
}

/// A slice serialised through a borrowed view of each element.
struct Seq<'a, T, V>(&'a [T], fn(&'a T) -> V);

impl<'a, T, V: Serialize> Serialize for Seq<'a, T, V> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().map(self.1))
    }
}

/// `Shift`: a missing id is the empty string.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ShiftJson<'a> {
    id: &'a str,
    start_date: &'a str,
    length_minutes: i64,
    activities: Seq<'a, CanonicalActivity, ActivityJson<'a>>,
}

fn shift_json(s: &CanonicalShift) -> ShiftJson<'_> {
    ShiftJson {
        id: s.id.as_deref().unwrap_or_default(),
        start_date: &s.start_date,
        length_minutes: s.length_minutes,
        activities: Seq(&s.activities, activity_json),
    }
}

/// `Activity`: a missing code id is the empty string, a missing `paid` is false.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ActivityJson<'a> {
    start_date: &'a str,
    length_minutes: i64,
    activity_code_id: &'a str,
    activity_code: Option<CodeJson<'a>>,
    description: Option<&'a str>,
    paid: bool,
}

fn activity_json(a: &CanonicalActivity) -> ActivityJson<'_> {
    ActivityJson {
        start_date: &a.start_date,
        length_minutes: a.length_minutes,
        activity_code_id: a.activity_code_id.as_deref().unwrap_or_default(),
        activity_code: a.activity_code.as_ref().map(CodeJson::from),
        description: a.description.as_deref(),
        paid: a.paid.unwrap_or(false),
    }
}

/// `ActivityCodeRef` borrowed: a missing name or category is the empty string.
#[derive(Serialize)]
struct CodeJson<'a> {
    name: &'a str,
    category: &'a str,
}

impl<'a> From<&'a ActivityCodeInfo> for CodeJson<'a> {
    fn from(c: &'a ActivityCodeInfo) -> Self {
        Self {
            name: c.name.as_deref().unwrap_or_default(),
            category: c.category.as_deref().unwrap_or_default(),
        }
    }
}

/// Full-day time-off markers pass through as JSON values, as `AgentChange` carries them
/// (a value's members come out in sorted order, so they are converted the same way: rare,
/// and a few per agent at most).
struct Markers<'a>(&'a [CanonicalTimeOff]);

impl Serialize for Markers<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().filter_map(|m| serde_json::to_value(m).ok()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::CanonicalAgentSchedule;
    use crate::events::{Activity, ActivityCodeRef, AgentChange, Shift};

    /// The owned form, built as the reactor built it before this view.
    fn owned(d: &AgentDiff) -> AgentChange {
        let removed = d.change == Change::Removed;
        let activity = |a: &CanonicalActivity| Activity {
            start_date: a.start_date.clone(),
            length_minutes: a.length_minutes,
            activity_code_id: a.activity_code_id.clone().unwrap_or_default(),
            activity_code: a.activity_code.as_ref().map(|c| ActivityCodeRef {
                name: c.name.clone().unwrap_or_default(),
                category: c.category.clone().unwrap_or_default(),
            }),
            description: a.description.clone(),
            paid: a.paid.unwrap_or(false),
        };
        AgentChange {
            user_id: d.user_id.clone(),
            change: match d.change {
                Change::Added => ChangeKind::Added,
                Change::Updated => ChangeKind::Updated,
                Change::Removed => ChangeKind::Removed,
            },
            shifts: if removed {
                vec![]
            } else {
                d.schedule
                    .shifts
                    .iter()
                    .map(|s| Shift {
                        id: s.id.clone().unwrap_or_default(),
                        start_date: s.start_date.clone(),
                        length_minutes: s.length_minutes,
                        activities: s.activities.iter().map(activity).collect(),
                    })
                    .collect()
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

    fn activity(
        start: &str,
        code: Option<(&str, Option<&str>, Option<&str>)>,
        description: Option<&str>,
        paid: Option<bool>,
    ) -> CanonicalActivity {
        CanonicalActivity {
            start_date: start.into(),
            length_minutes: 30,
            activity_code_id: code.map(|c| c.0.to_string()),
            activity_code: code.map(|c| ActivityCodeInfo {
                name: c.1.map(str::to_string),
                category: c.2.map(str::to_string),
            }),
            description: description.map(str::to_string),
            paid,
        }
    }

    fn schedule() -> CanonicalAgentSchedule {
        CanonicalAgentSchedule {
            shifts: vec![
                CanonicalShift {
                    id: Some("s\"1".into()),
                    start_date: "2026-01-05T08:00:00.000Z".into(),
                    length_minutes: 480,
                    activities: vec![
                        activity(
                            "2026-01-05T08:00:00.000Z",
                            Some(("0", Some("On Queue"), Some("OnQueueWork"))),
                            None,
                            Some(true),
                        ),
                        activity(
                            "2026-01-05T10:00:00.000Z",
                            Some(("9", None, None)),
                            Some("é ✓ \n\"q\""),
                            None,
                        ),
                        activity("2026-01-05T11:00:00.000Z", None, Some(""), Some(false)),
                    ],
                },
                CanonicalShift {
                    id: None,
                    start_date: "2026-01-06T08:00:00.000Z".into(),
                    length_minutes: 60,
                    activities: vec![],
                },
            ],
            full_day_time_off_markers: vec![CanonicalTimeOff {
                business_unit_date: "2026-01-09".into(),
                length_minutes: 480,
                activity_code_id: Some("5".into()),
                activity_code: Some(ActivityCodeInfo {
                    name: Some("Time Off".into()),
                    category: Some("TimeOff".into()),
                }),
                description: None,
                paid: Some(true),
            }],
        }
    }

    #[test]
    fn the_view_writes_exactly_the_json_of_the_owned_agent_changes() {
        let diffs = vec![
            AgentDiff {
                user_id: "a1".into(),
                change: Change::Added,
                schedule: schedule(),
                hash: Some("h".into()),
            },
            AgentDiff {
                user_id: "a2".into(),
                change: Change::Updated,
                schedule: CanonicalAgentSchedule::default(),
                hash: Some("h".into()),
            },
            AgentDiff {
                user_id: "a3".into(),
                change: Change::Removed,
                // a removed agent lists nothing, whatever its schedule holds
                schedule: schedule(),
                hash: None,
            },
        ];
        let view = serde_json::to_string(&AgentsJson(&diffs)).unwrap();
        let owned: Vec<AgentChange> = diffs.iter().map(owned).collect();
        assert_eq!(view, serde_json::to_string(&owned).unwrap());
        assert_eq!(serde_json::to_string(&AgentsJson(&[])).unwrap(), "[]");
    }
}
