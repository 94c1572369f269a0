//! The canonical form of one agent's schedule within (schedule, management unit), and
//! its stable hash.
//!
//! What is kept is what a downstream consumer acts on: per shift its start, length and
//! activities (start, length, activity code, description, paid), plus full-day time-off
//! markers (date, length, activity code, description, paid). Dropped as volatile or
//! bookkeeping: `manuallyEdited`, `schedule`, `workPlanId`, `workPlanShiftId`,
//! `payableMinutes` (derived from the code and length), `timeOffRequestId` /
//! `timeOffRequestSyncVersion` (change when a request is re-synced, not when the time
//! off changes), `externalActivity*` and `metadata`.
//!
//! The hash also ignores shift ids and resolved activity-code names: a republish that
//! re-creates identical shifts under new ids, or a renamed activity code, is not a
//! schedule change. Ids are still carried in the output for consumers that want them.
//! Instants are normalised to UTC with milliseconds, so `…:00Z` and `…:00.000Z` (inline
//! versus downloaded renderings) hash the same.

use crate::genesys::wfm::{BuAgentScheduleActivity, BuAgentScheduleQueryResponse, BuFullDayTimeOffMarker};
use serde::{Deserialize, Serialize};

/// An activity code as shown downstream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivityCodeInfo {
    /// Display name.
    pub name: Option<String>,
    /// Category (`OnQueueWork`, `Break`, ...).
    pub category: Option<String>,
}

/// One activity of a shift.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CanonicalActivity {
    /// Start instant, UTC, millisecond precision.
    pub start_date: String,
    /// Length.
    pub length_minutes: i64,
    /// Raw activity code id.
    pub activity_code_id: Option<String>,
    /// Resolved code (null until resolved, or when unknown).
    pub activity_code: Option<ActivityCodeInfo>,
    /// Free text.
    pub description: Option<String>,
    /// Paid time.
    pub paid: Option<bool>,
}

/// One shift.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CanonicalShift {
    /// Shift id (not part of the hash).
    pub id: Option<String>,
    /// Start instant.
    pub start_date: String,
    /// Length.
    pub length_minutes: i64,
    /// Activities sorted by start.
    pub activities: Vec<CanonicalActivity>,
}

/// One full-day time-off marker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CanonicalTimeOff {
    /// Date in the business unit's time zone.
    pub business_unit_date: String,
    /// Length.
    pub length_minutes: i64,
    /// Raw activity code id.
    pub activity_code_id: Option<String>,
    /// Resolved code.
    pub activity_code: Option<ActivityCodeInfo>,
    /// Free text.
    pub description: Option<String>,
    /// Paid.
    pub paid: Option<bool>,
}

/// One agent's schedule within (schedule, management unit), in canonical order.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CanonicalAgentSchedule {
    /// Shifts sorted by start, then id.
    pub shifts: Vec<CanonicalShift>,
    /// Markers sorted by date, then code.
    pub full_day_time_off_markers: Vec<CanonicalTimeOff>,
}

/// `…Z` with milliseconds when the instant parses, else the text as given.
pub fn normalise_instant(s: &str) -> String {
    if let Some(fast) = utc_seconds_or_millis(s) {
        return fast;
    }
    match chrono::DateTime::parse_from_rfc3339(s) {
        // The same text as `format("%Y-%m-%dT%H:%M:%S%.3fZ")` (a test checks), without
        // parsing a format string per instant: that was the largest cost of a diff.
        Ok(t) => t
            .with_timezone(&chrono::Utc)
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        Err(_) => s.to_string(),
    }
}

/// The two forms the API sends, `yyyy-MM-ddTHH:mm:ssZ` and `yyyy-MM-ddTHH:mm:ss.SSSZ`,
/// normalised by copying instead of parsing and formatting a date-time (a shift's
/// every activity has one: it was a tenth of an agent's canonicalisation). Anything
/// else, an invalid date or a leap second included, is `None` and goes through chrono;
/// a test compares both on every such shape.
fn utc_seconds_or_millis(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let millis = match b.len() {
        20 => false,
        24 if b[19] == b'.' && b[20..23].iter().all(u8::is_ascii_digit) => true,
        _ => return None,
    };
    let digits = |r: std::ops::Range<usize>| -> Option<u32> {
        b[r].iter().try_fold(0u32, |n, c| {
            c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
        })
    };
    if b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
        || b[b.len() - 1] != b'Z'
    {
        return None;
    }
    let (year, month, day) = (digits(0..4)?, digits(5..7)?, digits(8..10)?);
    let (hour, minute, second) = (digits(11..13)?, digits(14..16)?, digits(17..19)?);
    let date = chrono::NaiveDate::from_ymd_opt(i32::try_from(year).ok()?, month, day);
    if date.is_none() || hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    Some(if millis {
        s.to_string()
    } else {
        let mut out = String::with_capacity(24);
        out.push_str(&s[..19]);
        out.push_str(".000Z");
        out
    })
}

fn activity(a: &BuAgentScheduleActivity) -> CanonicalActivity {
    CanonicalActivity {
        start_date: normalise_instant(a.start_date.as_deref().unwrap_or_default()),
        length_minutes: a.length_minutes.unwrap_or_default(),
        activity_code_id: a.activity_code_id.clone(),
        activity_code: None,
        description: a.description.clone().filter(|d| !d.is_empty()),
        paid: a.paid,
    }
}

fn time_off(m: &BuFullDayTimeOffMarker) -> CanonicalTimeOff {
    CanonicalTimeOff {
        business_unit_date: m.business_unit_date.clone().unwrap_or_default(),
        length_minutes: m.length_minutes.unwrap_or_default(),
        activity_code_id: m.activity_code_id.clone(),
        activity_code: None,
        description: m.description.clone().filter(|d| !d.is_empty()),
        paid: m.paid,
    }
}

impl CanonicalAgentSchedule {
    /// The canonical form of an API agent schedule, with its user id (None when the
    /// answer names no user: such an entry cannot be attributed and is skipped).
    pub fn from_api(a: &BuAgentScheduleQueryResponse) -> Option<(String, Self)> {
        let user_id = a.user.as_ref()?.id.clone()?;
        let shifts = a
            .shifts
            .iter()
            .map(|s| {
                CanonicalShift::new(
                    s.id.clone(),
                    s.start_date.as_deref().unwrap_or_default(),
                    s.length_minutes.unwrap_or_default(),
                    s.activities.iter().map(activity).collect(),
                )
            })
            .collect();
        let markers = a.full_day_time_off_markers.iter().map(time_off).collect();
        Some((user_id, Self::new(shifts, markers)))
    }

    /// A schedule in canonical order: shifts by start then id, markers by date, code
    /// and length (each shift's activities are ordered by [`CanonicalShift::new`]).
    pub(crate) fn new(mut shifts: Vec<CanonicalShift>, mut markers: Vec<CanonicalTimeOff>) -> Self {
        shifts.sort_by(|x, y| (&x.start_date, &x.id).cmp(&(&y.start_date, &y.id)));
        markers.sort_by(|x, y| {
            (&x.business_unit_date, &x.activity_code_id, x.length_minutes).cmp(&(
                &y.business_unit_date,
                &y.activity_code_id,
                y.length_minutes,
            ))
        });
        Self {
            shifts,
            full_day_time_off_markers: markers,
        }
    }
}

impl CanonicalShift {
    /// A shift with its start normalised and its activities ordered by start, length
    /// and code.
    pub(crate) fn new(
        id: Option<String>,
        start_date: &str,
        length_minutes: i64,
        mut activities: Vec<CanonicalActivity>,
    ) -> Self {
        activities.sort_by(|x, y| {
            (&x.start_date, x.length_minutes, &x.activity_code_id).cmp(&(
                &y.start_date,
                y.length_minutes,
                &y.activity_code_id,
            ))
        });
        Self {
            id,
            start_date: normalise_instant(start_date),
            length_minutes,
            activities,
        }
    }
}
