//! Client-side models of the WFM REST answers the daemon reads (business units,
//! management units, schedules, agent schedules, activity codes).
//!
//! Field names are exactly those of `genesys-models.json`; every field is optional or
//! defaulted and unknown fields are ignored, so an API that grows never breaks parsing.
//! Dates stay strings: `weekDate` is `yyyy-MM-dd` in REST but a date-time in topics
//! (spec §6.15), and the diff must hash what the API said, not a reformatting of it.

use serde::{Deserialize, Serialize};

/// `{id}` reference (UserReference, ManagementUnitReference, BusinessUnitReference, ...).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct IdRef {
    /// The referenced entity's id.
    pub id: Option<String>,
}

/// `WfmVersionedEntityMetadata`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct VersionedMetadata {
    /// Increments with every change: reconcile skips schedules whose version is unchanged.
    pub version: Option<i64>,
    /// Last modification instant.
    pub date_modified: Option<String>,
    /// Who modified it last.
    pub modified_by: Option<IdRef>,
}

/// `BusinessUnitListItem`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct BusinessUnitListItem {
    /// Business unit id.
    pub id: Option<String>,
    /// Display name.
    pub name: Option<String>,
    /// Whether the caller may act on it.
    pub authorized: Option<bool>,
}

/// `BusinessUnitListing`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct BusinessUnitListing {
    /// The business units.
    pub entities: Vec<BusinessUnitListItem>,
}

/// `BusinessUnitSettingsResponse` (only what the daemon uses).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct BusinessUnitSettings {
    /// First day of the schedule week (`Monday`, ...).
    pub start_day_of_week: Option<String>,
    /// IANA time zone of the business unit.
    pub time_zone: Option<String>,
}

/// `BusinessUnitResponse` (from `GET /businessunits/{id}?expand=settings`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct BusinessUnitResponse {
    /// Business unit id.
    pub id: Option<String>,
    /// Display name.
    pub name: Option<String>,
    /// Settings, present with `expand=settings`.
    pub settings: Option<BusinessUnitSettings>,
}

/// `ManagementUnit` (only what the daemon uses).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ManagementUnit {
    /// Management unit id.
    pub id: Option<String>,
    /// Display name.
    pub name: Option<String>,
    /// Owning business unit.
    pub business_unit: Option<IdRef>,
    pub time_zone: Option<String>,
}

/// `ManagementUnitListing`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ManagementUnitListing {
    /// The management units.
    pub entities: Vec<ManagementUnit>,
}

/// `WfmUserEntityListing` (users of a management unit).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct WfmUserEntityListing {
    /// The users.
    pub entities: Vec<MuUser>,
}

/// One user of a management unit: the SDK types it `UserReference` (`id`), the API also
/// sends the user's `name`, which the board shows.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MuUser {
    /// User id.
    pub id: Option<String>,
    /// Display name, when given.
    pub name: Option<String>,
}

/// `BusinessUnitActivityCode` (only what the daemon uses).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct BusinessUnitActivityCode {
    /// Activity code id (default codes have short ids such as `"0"`).
    pub id: Option<String>,
    /// Display name.
    pub name: Option<String>,
    /// `OnQueueWork|Break|Meal|Meeting|OffQueueWork|TimeOff|Training|Unavailable`.
    pub category: Option<String>,
    /// Whether it can still be scheduled.
    pub active: Option<bool>,
}

/// `BusinessUnitActivityCodeListing`: inline `entities` or a `downloadUrl`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct BusinessUnitActivityCodeListing {
    /// The codes (empty when `downloadUrl` is set).
    pub entities: Vec<BusinessUnitActivityCode>,
    /// Where to GET the listing when it was too large to inline.
    pub download_url: Option<String>,
}

/// `BuManagementUnitScheduleSummary`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct BuManagementUnitScheduleSummary {
    /// The management unit.
    pub management_unit: Option<IdRef>,
    /// Agents in it.
    pub agent_count: Option<i64>,
    /// Start of the changed range (notifications only).
    pub start_date: Option<String>,
    /// End of the changed range (notifications only).
    pub end_date: Option<String>,
    /// Agents (with `expand=managementUnits.agents`, or the changed ones in notifications).
    pub agents: Vec<IdRef>,
}

/// `BuScheduleListItem` and `BuScheduleMetadata` (the latter adds `managementUnits`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct BuScheduleMetadata {
    /// Schedule id.
    pub id: Option<String>,
    /// First day of the schedule (`yyyy-MM-dd`; a date-time in topics).
    pub week_date: Option<String>,
    /// Number of weeks covered.
    pub week_count: Option<i64>,
    pub description: Option<String>,
    /// Published (false = draft).
    pub published: Option<bool>,
    /// Version metadata.
    pub metadata: Option<VersionedMetadata>,
    /// Per management unit summaries (metadata route only).
    pub management_units: Vec<BuManagementUnitScheduleSummary>,
}

/// `BuScheduleListing`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct BuScheduleListing {
    /// The schedules.
    pub entities: Vec<BuScheduleMetadata>,
}

/// `BuQueryAgentSchedulesRequest`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BuQueryAgentSchedulesRequest {
    /// The management unit to read.
    pub management_unit_id: String,
    /// Only these users (all agents of the unit when absent).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_ids: Option<Vec<String>>,
}

/// `BuAgentScheduleActivity`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct BuAgentScheduleActivity {
    /// Start instant (UTC).
    pub start_date: Option<String>,
    pub length_minutes: Option<i64>,
    /// Free text.
    pub description: Option<String>,
    /// Joins the business unit's activity codes.
    pub activity_code_id: Option<String>,
    /// Paid time.
    pub paid: Option<bool>,
    pub payable_minutes: Option<i64>,
    /// Time-off request that produced it.
    pub time_off_request_id: Option<String>,
    /// Version of that time-off request.
    pub time_off_request_sync_version: Option<i64>,
    /// External activity id.
    pub external_activity_id: Option<String>,
    /// `ActivityPlan|Coaching|Learning|Opportunity`.
    pub external_activity_type: Option<String>,
}

/// `BuAgentScheduleShift`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct BuAgentScheduleShift {
    /// Shift id.
    pub id: Option<String>,
    /// Start instant (UTC).
    pub start_date: Option<String>,
    pub length_minutes: Option<i64>,
    pub activities: Vec<BuAgentScheduleActivity>,
    /// Edited by hand in the UI.
    pub manually_edited: Option<bool>,
    /// Owning schedule.
    pub schedule: Option<serde_json::Value>,
    /// Work plan id.
    pub work_plan_id: Option<String>,
    /// Work plan shift id.
    pub work_plan_shift_id: Option<String>,
}

/// `BuFullDayTimeOffMarker`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct BuFullDayTimeOffMarker {
    /// Date in the business unit's time zone (`yyyy-MM-dd`).
    pub business_unit_date: Option<String>,
    pub length_minutes: Option<i64>,
    /// Free text.
    pub description: Option<String>,
    /// Activity code id.
    pub activity_code_id: Option<String>,
    pub paid: Option<bool>,
    pub payable_minutes: Option<i64>,
    /// Time-off request id.
    pub time_off_request_id: Option<String>,
    /// Version of that request.
    pub time_off_request_sync_version: Option<i64>,
}

/// `BuAgentScheduleQueryResponse`: one agent's schedule within the queried unit.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct BuAgentScheduleQueryResponse {
    /// The agent.
    pub user: Option<IdRef>,
    pub shifts: Vec<BuAgentScheduleShift>,
    /// Full-day time off.
    pub full_day_time_off_markers: Vec<BuFullDayTimeOffMarker>,
    /// Version metadata.
    pub metadata: Option<VersionedMetadata>,
}

/// `BuAgentSchedulesQueryResponse`: the `result` (or the downloaded body).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct BuAgentSchedulesQueryResponse {
    pub agent_schedules: Vec<BuAgentScheduleQueryResponse>,
    /// Business unit time zone.
    pub business_unit_time_zone: Option<String>,
}

/// `BuAsyncAgentSchedulesQueryResponse`: inline result, download URL, or still processing.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(
    default,
    rename_all = "camelCase",
    bound(deserialize = "R: Deserialize<'de> + Default")
)]
pub struct BuAsyncAgentSchedulesQueryResponse<R = BuAgentSchedulesQueryResponse> {
    /// `Processing|Complete|Canceled|Error`.
    pub status: Option<String>,
    /// Operation id (async completion comes on a topic).
    pub operation_id: Option<String>,
    /// Inline result (null unless Complete and small).
    /// (`R`: the answer's form; the reactor reads it straight into canonical form.)
    pub result: Option<R>,
    /// Progress percent.
    pub progress: Option<i64>,
    /// Where to GET the result when too large to inline.
    pub download_url: Option<String>,
}
