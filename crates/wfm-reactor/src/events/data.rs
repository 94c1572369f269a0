//! The typed `data` payloads of the four CloudEvent types (camelCase, like the Genesys API).

use serde::{Deserialize, Serialize};

/// Why an event was emitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Cause {
    /// A live notification from the websocket.
    Notification,
    /// A periodic or post-gap re-read found the difference.
    Reconcile,
    /// The first start with an empty store (initial snapshot).
    Snapshot,
}

/// `data` of `wfm.schedule.changed`: one schedule + management unit whose agents really changed.
///
/// `A` is how `agents` is held: owned entries, or (when the reactor renders an event) a
/// borrowed view writing the same JSON from the diff's canonical schedules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScheduleChanged<A = Vec<AgentChange>> {
    /// Business unit owning the schedule.
    pub business_unit_id: String,
    /// Management unit whose agents are listed.
    pub management_unit_id: String,
    /// The schedule.
    pub schedule_id: String,
    /// First day of the schedule, `yyyy-MM-dd`.
    pub week_date: String,
    /// Number of weeks the schedule spans.
    pub week_count: u32,
    /// Whether the schedule is published.
    pub published: bool,
    /// The schedule's `metadata.version`.
    pub version: i64,
    /// The upstream operation id; `None` when found by reconcile.
    pub operation_id: Option<String>,
    /// Why it was emitted.
    pub cause: Cause,
    /// IANA time zone of the business unit.
    pub business_unit_time_zone: String,
    /// Only the agents whose schedule changed, each with the complete new shift list.
    pub agents: A,
}

/// How one agent's schedule changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeKind {
    /// Absent before, present now.
    Added,
    /// Present before and now, with different content.
    Updated,
    /// Present before, absent now (shifts empty).
    Removed,
}

/// One agent in a [`ScheduleChanged`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentChange {
    /// The agent's user id.
    pub user_id: String,
    /// What happened.
    pub change: ChangeKind,
    /// The complete new shift list (empty for `removed`).
    pub shifts: Vec<Shift>,
    /// Full-day time-off markers, passed through as Genesys returns them.
    pub full_day_time_off_markers: Vec<serde_json::Value>,
}

/// One shift of an agent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Shift {
    /// Shift id.
    pub id: String,
    /// Start, RFC 3339 UTC.
    pub start_date: String,
    /// Length in minutes.
    pub length_minutes: i64,
    /// The activities of the shift, in order.
    pub activities: Vec<Activity>,
}

/// One activity inside a shift.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Activity {
    /// Start, RFC 3339 UTC.
    pub start_date: String,
    /// Length in minutes.
    pub length_minutes: i64,
    /// The activity code id.
    pub activity_code_id: String,
    /// The resolved activity code, `null` when it could not be resolved.
    pub activity_code: Option<ActivityCodeRef>,
    /// Free text.
    pub description: Option<String>,
    /// Paid time.
    pub paid: bool,
}

/// The resolved name and category of an activity code.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ActivityCodeRef {
    /// Display name.
    pub name: String,
    /// Genesys category (`OnQueueWork`, `Break`, ...).
    pub category: String,
}

/// `data` of `wfm.schedule.deleted`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScheduleDeleted {
    /// Business unit that owned the schedule.
    pub business_unit_id: String,
    /// The deleted schedule.
    pub schedule_id: String,
    /// First day of the schedule, `yyyy-MM-dd`.
    pub week_date: String,
    /// The upstream operation id, when known.
    pub operation_id: Option<String>,
    /// Why it was emitted.
    pub cause: Cause,
}

/// A presence as stored and as reported in `previous`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PresenceRef {
    /// Display form ("Available", "On Queue", ...).
    pub system_presence: String,
    /// The org's presence definition id.
    pub presence_definition_id: String,
}

/// `data` of `presence.changed`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PresenceChanged {
    /// The user.
    pub user_id: String,
    /// New presence, display form.
    pub system_presence: String,
    /// New presence definition id.
    pub presence_definition_id: String,
    /// Last presence known in the store; `None` when the user was never known.
    pub previous: Option<PresenceRef>,
    /// Upstream `modifiedDate` (RFC 3339); also the CloudEvent `time`.
    pub modified_date: String,
    /// Upstream `source` of the presence (e.g. "PURECLOUD").
    pub source: Option<String>,
    /// Why it was emitted.
    pub cause: Cause,
}

/// `data` of `routing.status.changed`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoutingStatusChanged {
    /// The user.
    pub user_id: String,
    /// New routing status (`IDLE`, `INTERACTING`, ...).
    pub status: String,
    /// Last known status, `None` when never known.
    pub previous_status: Option<String>,
    /// When the status began (RFC 3339).
    pub start_time: String,
    /// Why it was emitted.
    pub cause: Cause,
}
