//! The stable hash of a canonical agent schedule: SHA-256 of its hashed view's JSON.
//!
//! Why a hand-ordered view: the stored hashes were defined as SHA-256 over the canonical
//! JSON with sorted keys, without shift ids and resolved activity codes. Building a
//! `serde_json::Value`, stripping it and re-serialising cost most of a 500-agent diff;
//! these borrowed views declare the same fields in the same (alphabetical) order, so
//! `serde_json` writes byte-identical JSON directly, with no allocation per field. A
//! test keeps the two definitions equal, so stored hashes stay valid.

use super::canonical::{CanonicalActivity, CanonicalAgentSchedule, CanonicalShift, CanonicalTimeOff};
use serde::Serialize;
use sha2::{Digest, Sha256};

/// An activity as hashed: every field but the resolved code, keys in sorted order.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ActivityView<'a> {
    activity_code_id: &'a Option<String>,
    description: &'a Option<String>,
    length_minutes: i64,
    paid: Option<bool>,
    start_date: &'a str,
}

/// A shift as hashed: no id.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ShiftView<'a> {
    #[serde(serialize_with = "activities")]
    activities: &'a [CanonicalActivity],
    length_minutes: i64,
    start_date: &'a str,
}

/// A full-day time-off marker as hashed: no resolved code.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TimeOffView<'a> {
    activity_code_id: &'a Option<String>,
    business_unit_date: &'a str,
    description: &'a Option<String>,
    length_minutes: i64,
    paid: Option<bool>,
}

/// The whole schedule as hashed.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ScheduleView<'a> {
    #[serde(serialize_with = "time_offs")]
    full_day_time_off_markers: &'a [CanonicalTimeOff],
    #[serde(serialize_with = "shifts")]
    shifts: &'a [CanonicalShift],
}

fn activities<S: serde::Serializer>(v: &&[CanonicalActivity], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(v.iter().map(|a| ActivityView {
        activity_code_id: &a.activity_code_id,
        description: &a.description,
        length_minutes: a.length_minutes,
        paid: a.paid,
        start_date: &a.start_date,
    }))
}

fn shifts<S: serde::Serializer>(v: &&[CanonicalShift], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(v.iter().map(|sh| ShiftView {
        activities: &sh.activities,
        length_minutes: sh.length_minutes,
        start_date: &sh.start_date,
    }))
}

fn time_offs<S: serde::Serializer>(v: &&[CanonicalTimeOff], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(v.iter().map(|m| TimeOffView {
        activity_code_id: &m.activity_code_id,
        business_unit_date: &m.business_unit_date,
        description: &m.description,
        length_minutes: m.length_minutes,
        paid: m.paid,
    }))
}

// The hash lives here, not in `canonical.rs`, so that this module depends on the
// canonical types and not the other way round.
impl CanonicalAgentSchedule {
    /// Stable lower-case hex sha256 over the canonical JSON, without shift ids and
    /// resolved codes (see the module doc).
    pub fn hash(&self) -> String {
        schedule_hash(self)
    }
}

/// Lower-case hex SHA-256 of the schedule's hashed view.
fn schedule_hash(schedule: &CanonicalAgentSchedule) -> String {
    let view = ScheduleView {
        full_day_time_off_markers: &schedule.full_day_time_off_markers,
        shifts: &schedule.shifts,
    };
    // Written whole, then hashed in one call: serde_json writes a schedule in about a
    // thousand pieces (quotes, keys, values), and a hasher update per piece cost more
    // than the serialisation itself.
    let mut json = Vec::with_capacity(4096);
    serde_json::to_writer(&mut json, &view).expect("writing into a vector cannot fail");
    let digest = Sha256::digest(&json);
    let mut hex = String::with_capacity(64);
    for b in digest {
        hex.push(char::from_digit(u32::from(b >> 4), 16).expect("nibble"));
        hex.push(char::from_digit(u32::from(b & 0xf), 16).expect("nibble"));
    }
    hex
}

#[cfg(test)]
pub(super) mod tests;
