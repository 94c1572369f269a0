//! Shifts derived on demand from (seed, schedule, agent, revision): nothing per agent is
//! stored except a revision number when a test or the activity mode edits that agent.

use super::ids::{Rng, hash, hash_str, uuid};
use chrono::{DateTime, Duration, NaiveDate, SecondsFormat, Utc};
use serde::Serialize;

/// One activity inside a shift: (offset from shift start, minutes, activity code id).
type Segment = (i64, i64, &'static str);

/// Renders a UTC instant the way the Genesys API does (`2026-08-17T13:00:00.000Z`).
pub(crate) fn iso(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Midnight UTC of a date as a datetime string (topic bodies type `weekDate` as datetime).
pub(crate) fn date_as_datetime(d: NaiveDate) -> String {
    iso(d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc())
}

/// What identifies one agent's week in one schedule.
pub(crate) struct WeekKey<'a> {
    pub seed: u64,
    pub schedule_id: &'a str,
    pub week_date: NaiveDate,
    pub agent_index: usize,
    pub agent_id: &'a str,
    pub revision: u32,
    pub offset_minutes: i32,
}

/// The activities of a standard 8 h shift: on-queue work, two breaks, a meal and
/// sometimes a one-hour meeting in the afternoon.
fn segments(meeting: bool) -> Vec<Segment> {
    let mut s = vec![(0, 120, "0"), (120, 15, "1"), (135, 105, "0"), (240, 30, "2")];
    if meeting {
        s.extend([(270, 60, "3"), (330, 30, "0")]);
    } else {
        s.push((270, 90, "0"));
    }
    s.extend([(360, 15, "1"), (375, 105, "0")]);
    s
}

/// `{"id": ...}`.
#[derive(Serialize)]
pub(crate) struct IdRef {
    id: String,
}

/// The user reference of an agent schedule.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct UserRef {
    id: String,
    self_uri: String,
}

/// The schedule reference each shift carries.
#[derive(Serialize, Clone)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ScheduleRef {
    id: String,
    week_date: String,
}

/// One `BuAgentScheduleActivity`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Activity {
    start_date: String,
    length_minutes: i64,
    description: &'static str,
    activity_code_id: &'static str,
    paid: bool,
    payable_minutes: i64,
}

/// One `BuAgentScheduleShift`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Shift {
    id: String,
    start_date: String,
    length_minutes: i64,
    activities: Vec<Activity>,
    manually_edited: bool,
    schedule: ScheduleRef,
    work_plan_id: String,
    work_plan_shift_id: String,
}

/// One `BuFullDayTimeOffMarker`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TimeOffMarker {
    business_unit_date: String,
    length_minutes: i64,
    description: &'static str,
    activity_code_id: &'static str,
    paid: bool,
    payable_minutes: i64,
    time_off_request_id: String,
    time_off_request_sync_version: u32,
}

/// `{"version": n}`.
#[derive(Serialize)]
pub(crate) struct Metadata {
    version: u32,
}

/// One rendered `BuAgentScheduleQueryResponse`: typed rather than a `serde_json::Value`,
/// so a 500-agent answer serialises without building (and dropping) a map per object.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AgentWeek {
    user: UserRef,
    shifts: Vec<Shift>,
    full_day_time_off_markers: Vec<TimeOffMarker>,
    work_plan: IdRef,
    metadata: Metadata,
}

impl AgentWeek {
    /// The activity code id scheduled at `t` (`None`: nothing scheduled then).
    pub(crate) fn code_at(&self, t: DateTime<Utc>) -> Option<&'static str> {
        self.shifts.iter().flat_map(|s| &s.activities).find_map(|a| {
            let start = DateTime::parse_from_rfc3339(&a.start_date)
                .ok()?
                .with_timezone(&Utc);
            let end = start + Duration::minutes(a.length_minutes);
            (start <= t && t < end).then_some(a.activity_code_id)
        })
    }
}

/// The rendered `BuAgentScheduleQueryResponse` of one agent for one schedule week.
pub(crate) fn agent_week(k: &WeekKey<'_>) -> AgentWeek {
    let base = hash(&[k.seed, hash_str(k.schedule_id), k.agent_index as u64]);
    let mut rng = Rng::new(base);
    // Works Monday to Friday mostly, Tuesday to Saturday sometimes.
    let first_day = if rng.below(5) == 0 { 1 } else { 0 };
    let time_off_day = (rng.below(10) == 0).then(|| first_day + rng.below(5) as i64);
    // The revision moves the start, so an edited agent always has different shifts.
    let start_slot = (rng.below(13) + u64::from(k.revision)) % 13; // 06:00 .. 12:00 by 30 min
    let start_local_min = 360 + 30 * start_slot as i64;
    let schedule_ref = ScheduleRef {
        id: k.schedule_id.to_string(),
        week_date: k.week_date.to_string(),
    };
    let mut shifts = Vec::with_capacity(5);
    let mut markers = Vec::new();
    for day in first_day..first_day + 5 {
        let date = k.week_date + Duration::days(day);
        if Some(day) == time_off_day {
            markers.push(TimeOffMarker {
                business_unit_date: date.to_string(),
                length_minutes: 480,
                description: "",
                activity_code_id: "5",
                paid: true,
                payable_minutes: 480,
                time_off_request_id: uuid(&[base, 7, day as u64]),
                time_off_request_sync_version: 1,
            });
            continue;
        }
        let midnight = date.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc();
        let start = midnight + Duration::minutes(start_local_min - i64::from(k.offset_minutes));
        let meeting = rng.below(3) == 0;
        let activities = segments(meeting)
            .into_iter()
            .map(|(off, len, code)| {
                let paid = code != "2";
                Activity {
                    start_date: iso(start + Duration::minutes(off)),
                    length_minutes: len,
                    description: "",
                    activity_code_id: code,
                    paid,
                    payable_minutes: if paid { len } else { 0 },
                }
            })
            .collect();
        shifts.push(Shift {
            id: uuid(&[base, 8, day as u64, u64::from(k.revision)]),
            start_date: iso(start),
            length_minutes: 480,
            activities,
            manually_edited: k.revision > 0,
            schedule: schedule_ref.clone(),
            work_plan_id: uuid(&[k.seed, 9, first_day as u64]),
            work_plan_shift_id: uuid(&[k.seed, 10, first_day as u64, day as u64]),
        });
    }
    AgentWeek {
        user: UserRef {
            id: k.agent_id.to_string(),
            self_uri: format!("/api/v2/users/{}", k.agent_id),
        },
        shifts,
        full_day_time_off_markers: markers,
        work_plan: IdRef {
            id: uuid(&[k.seed, 9, first_day as u64]),
        },
        metadata: Metadata {
            version: k.revision + 1,
        },
    }
}
