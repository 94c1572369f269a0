//! Genesys's own real-time adherence: one agent's state as the unit topic
//! (`WfmUserScheduleAdherenceUpdatedMuTopicUserScheduleAdherenceUpdate`) and the unit's
//! REST listing (`UserScheduleAdherence`) carry it.
//!
//! The two models name the change time differently (`adherenceChangeTime` on the topic,
//! `timeOfAdherenceChange` over REST), so one struct accepts both: the reactor compares
//! a live update with a re-read without caring where each came from.

use super::notifications_wfm::{IdRef, lenient_datetime};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One agent's adherence as Genesys computed it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct UserScheduleAdherence {
    /// `{id}` of the agent.
    pub user: Option<IdRef>,
    /// Its management unit.
    pub management_unit_id: Option<String>,
    /// Its business unit.
    pub business_unit_id: Option<String>,
    /// The scheduled activity's category.
    pub scheduled_activity_category: Option<String>,
    /// `{id}` of the scheduled activity code.
    pub scheduled_activity_code: Option<IdRef>,
    /// `AVAILABLE`, `ON_QUEUE`... as sent.
    pub system_presence: Option<String>,
    /// The organisation presence the agent is in: the same id as `presenceDefinition.id`
    /// of the presence routes (a reconcile reads presence from it).
    pub organization_secondary_presence_id: Option<String>,
    /// When the presence last changed (the presence routes' `modifiedDate`), as sent.
    pub presence_update_time: Option<String>,
    /// `__EMPTY__`, `OFF_QUEUE`, `IDLE`...
    pub routing_status: Option<String>,
    /// The category the presence maps to.
    pub actual_activity_category: Option<String>,
    /// Out of Office.
    pub is_out_of_office: Option<bool>,
    /// `InAdherence`, `OutOfAdherence`, `Unscheduled`, `Unknown`, `Ignored`, `Explained`.
    pub adherence_state: Option<String>,
    /// `Positive`, `Negative`, `Neutral`, `Unknown`.
    pub impact: Option<String>,
    /// When the state began (topic spelling; the REST spelling is an alias).
    #[serde(alias = "timeOfAdherenceChange", deserialize_with = "lenient_datetime")]
    pub adherence_change_time: Option<DateTime<Utc>>,
    /// The agent left the unit: forget it.
    pub removed_from_management_unit: Option<bool>,
}

/// `GET /api/v2/workforcemanagement/managementunits/{muId}/adherence`: inline `entities`
/// or a `downloadUrl` to the same JSON.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ManagementUnitAdherence {
    /// Every agent's adherence, when inline.
    pub entities: Option<Vec<UserScheduleAdherence>>,
    /// Where to download it otherwise.
    pub download_url: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_change_time_spellings_parse() {
        for key in ["adherenceChangeTime", "timeOfAdherenceChange"] {
            let text = format!(
                r#"{{"user":{{"id":"u"}},"adherenceState":"InAdherence","{key}":"2026-12-01T09:00:00Z"}}"#
            );
            let a: UserScheduleAdherence = serde_json::from_str(&text).unwrap();
            assert_eq!(
                a.adherence_change_time.unwrap().to_rfc3339(),
                "2026-12-01T09:00:00+00:00"
            );
        }
    }
}
