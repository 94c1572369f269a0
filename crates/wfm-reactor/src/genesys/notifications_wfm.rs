//! BU schedule topic models (`v2.workforcemanagement.businessunits.{id}.schedules`).

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Deserializer, Serialize};

/// Accepts an ISO instant or a bare `yyyy-MM-dd` (the topic types `weekDate` as date-time,
/// REST as a date), and anything else as absent rather than failing the whole event.
pub(crate) fn lenient_datetime<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
    let v = Option::<serde_json::Value>::deserialize(d)?;
    Ok(v.and_then(|v| v.as_str().and_then(parse_lenient_datetime)))
}

/// Parses an RFC 3339 instant or a `yyyy-MM-dd` date (as midnight UTC).
pub(crate) fn parse_lenient_datetime(s: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
}

/// `{ "id": ... }` reference.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct IdRef {
    pub id: Option<String>,
}

/// `WfmBuScheduleTopicBuShortTermForecastReference`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct WfmBuScheduleTopicBuShortTermForecastReference {
    /// Forecast id.
    pub id: Option<String>,
    /// Week date (string as sent).
    pub week_date: Option<String>,
    pub description: Option<String>,
}

/// `WfmBuScheduleTopicBuManagementUnitScheduleSummary`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct WfmBuScheduleTopicBuManagementUnitScheduleSummary {
    /// The management unit.
    pub management_unit: Option<IdRef>,
    /// Start of the changed range.
    #[serde(deserialize_with = "lenient_datetime")]
    pub start_date: Option<DateTime<Utc>>,
    /// End of the changed range.
    #[serde(deserialize_with = "lenient_datetime")]
    pub end_date: Option<DateTime<Utc>>,
    /// Agents that changed.
    pub agents: Vec<IdRef>,
    pub agent_count: Option<i64>,
}

/// `WfmBuScheduleTopicSchedulerMessageSeverityCount`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct WfmBuScheduleTopicSchedulerMessageSeverityCount {
    /// `Ignore|Information|Warning|Error`.
    pub severity: Option<String>,
    pub count: Option<i64>,
}

/// `WfmBuScheduleTopicBuScheduleGenerationResultSummary`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct WfmBuScheduleTopicBuScheduleGenerationResultSummary {
    /// Generation failed.
    pub failed: Option<bool>,
    pub run_id: Option<String>,
    pub message_count: Option<i64>,
    /// Per severity.
    pub message_severity_counts: Vec<WfmBuScheduleTopicSchedulerMessageSeverityCount>,
}

/// `WfmBuScheduleTopicWfmVersionedEntityMetadata`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct WfmBuScheduleTopicWfmVersionedEntityMetadata {
    /// Schedule version.
    pub version: Option<i64>,
    /// Who modified it.
    pub modified_by: Option<IdRef>,
    /// When.
    #[serde(deserialize_with = "lenient_datetime")]
    pub date_modified: Option<DateTime<Utc>>,
}

/// `WfmBuScheduleTopicBuScheduleMetadata`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct WfmBuScheduleTopicBuScheduleMetadata {
    /// Schedule id.
    pub id: Option<String>,
    /// Week start (date-time in the topic, date in REST: both accepted).
    #[serde(deserialize_with = "lenient_datetime")]
    pub week_date: Option<DateTime<Utc>>,
    /// Weeks covered.
    pub week_count: Option<i64>,
    pub description: Option<String>,
    pub published: Option<bool>,
    /// Forecast used.
    pub short_term_forecast: Option<WfmBuScheduleTopicBuShortTermForecastReference>,
    /// Changed management units.
    pub management_units: Vec<WfmBuScheduleTopicBuManagementUnitScheduleSummary>,
    pub generation_results: Option<WfmBuScheduleTopicBuScheduleGenerationResultSummary>,
    /// Version metadata.
    pub metadata: Option<WfmBuScheduleTopicWfmVersionedEntityMetadata>,
}

/// `WfmBuScheduleTopicBuScheduleNotification`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct WfmBuScheduleTopicBuScheduleNotification {
    /// `Processing|Complete|Canceled|Error`.
    pub status: Option<String>,
    /// Operation id (dedupe key with `status`).
    pub operation_id: Option<String>,
    /// `Update|Import|Copy|Delete`.
    pub event_type: Option<String>,
    /// Absent on errors; never means "empty schedule".
    pub result: Option<WfmBuScheduleTopicBuScheduleMetadata>,
}

/// One agent of `v2.workforcemanagement.managementunits.{id}.agentschedules.changed`
/// (`agentId`; a `userId` or `user: {id}` spelling is accepted too, the model being known
/// from the JavaScript SDK only).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct AgentScheduleChange {
    /// The agent whose schedule changed.
    #[serde(alias = "userId")]
    pub agent_id: Option<String>,
    /// `{id}` spelling of the agent.
    pub user: Option<IdRef>,
    /// Start of the changed range.
    #[serde(deserialize_with = "lenient_datetime")]
    pub start_date: Option<DateTime<Utc>>,
    /// End of the changed range.
    #[serde(deserialize_with = "lenient_datetime")]
    pub end_date: Option<DateTime<Utc>>,
}

impl AgentScheduleChange {
    /// The agent's id, whichever spelling carried it.
    pub fn agent(&self) -> Option<&str> {
        self.agent_id
            .as_deref()
            .or_else(|| self.user.as_ref()?.id.as_deref())
            .filter(|id| !id.is_empty())
    }
}

/// `WfmAgentManagementUnitScheduleChangedTopicAgentMuScheduleChangedNotification`: which
/// agents' schedules of a management unit changed. It names no schedule.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct AgentMuScheduleChanged {
    /// The agents and their changed ranges.
    pub agents: Vec<AgentScheduleChange>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_agent_spelling_of_agentschedules_changed_is_read() {
        let text = r#"{"agents": [{"agentId": "a", "startDate": "2026-08-10T00:00:00Z"},
                                  {"userId": "b"}, {"user": {"id": "c"}}, {"endDate": "2026-08-17"}],
                       "visibilityRange": {"endBusinessUnitDate": "2026-09-30"}}"#;
        let n: AgentMuScheduleChanged = serde_json::from_str(text).unwrap();
        let ids: Vec<Option<&str>> = n.agents.iter().map(AgentScheduleChange::agent).collect();
        assert_eq!(ids, [Some("a"), Some("b"), Some("c"), None]);
        assert!(n.agents[0].start_date.is_some() && n.agents[3].end_date.is_some());
    }
}
