//! `wfm.adherence.changed`: one agent's adherence state or activity categories changed.
//!
//! Emitted only when `adherenceState`, `scheduledActivityCategory` or
//! `actualActivityCategory` changes, whoever computed it (`computedBy`): Genesys's own
//! real-time adherence or the daemon's local engine.

use super::NewEvent;
use serde::{Deserialize, Serialize};

/// `type` of an adherence change.
pub const TYPE_ADHERENCE_CHANGED: &str = "wfm.adherence.changed";

/// Why an adherence event was emitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AdherenceCause {
    /// A live notification (presence, routing status, or Genesys's adherence topic).
    Notification,
    /// A re-read after a gap (or periodic) found the difference.
    Reconcile,
    /// The first evaluation of an agent on the first start.
    Snapshot,
    /// A scheduled activity began or ended (local engine; no presence change needed).
    Boundary,
    /// The agent's published schedule changed (local engine).
    Schedule,
}

/// `data.previous`: the three fields whose change is an event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AdherenceRef {
    /// Previous `adherenceState`.
    pub adherence_state: String,
    /// Previous `scheduledActivityCategory`.
    pub scheduled_activity_category: String,
    /// Previous `actualActivityCategory`.
    pub actual_activity_category: Option<String>,
}

/// `data` of `wfm.adherence.changed` (contract, second tranche, "Intraday adherence").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AdherenceChanged {
    /// The agent.
    pub user_id: String,
    /// Its management unit.
    pub management_unit_id: String,
    /// Its business unit.
    pub business_unit_id: String,
    /// `InAdherence`, `OutOfAdherence`, `Unscheduled`, `Unknown`, `Ignored`, `Explained`.
    pub adherence_state: String,
    /// `Positive`, `Negative`, `Neutral` or `Unknown`.
    pub impact: String,
    /// The scheduled activity's category (`Unscheduled` when none).
    pub scheduled_activity_category: String,
    /// The scheduled activity's code id.
    pub scheduled_activity_code_id: Option<String>,
    /// The category the presence maps to.
    pub actual_activity_category: Option<String>,
    /// Presence, display form.
    pub system_presence: Option<String>,
    /// Routing status.
    pub routing_status: Option<String>,
    /// Out of Office.
    pub is_out_of_office: bool,
    /// When the state began (RFC 3339).
    pub adherence_change_time: String,
    /// The state before; `null` when the agent had none.
    pub previous: Option<AdherenceRef>,
    /// `"genesys"` or `"local"`.
    pub computed_by: String,
    /// Why it was emitted.
    pub cause: AdherenceCause,
}

impl NewEvent {
    /// A `wfm.adherence.changed`; `time` is `adherenceChangeTime`, the id depends on the
    /// agent, that instant and the new state, so a repeat after a crash has the same id.
    pub fn adherence_changed(api_host: &str, data: &AdherenceChanged) -> Self {
        let source = format!(
            "wfm-reactor://{api_host}/workforcemanagement/managementunits/{}/adherence",
            data.management_unit_id
        );
        let actual = data.actual_activity_category.as_deref().unwrap_or("");
        Self::build(
            TYPE_ADHERENCE_CHANGED,
            source,
            data.user_id.clone(),
            &data.adherence_change_time,
            &[
                &data.adherence_change_time,
                &data.adherence_state,
                &data.scheduled_activity_category,
                actual,
            ],
            super::to_json(data),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_the_contract_fields_source_and_subject() {
        let data = AdherenceChanged {
            user_id: "u1".into(),
            management_unit_id: "mu1".into(),
            business_unit_id: "bu1".into(),
            adherence_state: "OutOfAdherence".into(),
            impact: "Negative".into(),
            scheduled_activity_category: "Break".into(),
            scheduled_activity_code_id: Some("c1".into()),
            actual_activity_category: Some("OnQueueWork".into()),
            system_presence: Some("On Queue".into()),
            routing_status: Some("IDLE".into()),
            is_out_of_office: false,
            adherence_change_time: "2026-12-01T09:00:00.000Z".into(),
            previous: None,
            computed_by: "local".into(),
            cause: AdherenceCause::Boundary,
        };
        let e = NewEvent::adherence_changed("api.example.com", &data);
        assert_eq!(e.event_type, "wfm.adherence.changed");
        assert_eq!(e.subject, "u1");
        assert_eq!(e.time, "2026-12-01T09:00:00.000Z");
        assert_eq!(
            e.source,
            "wfm-reactor://api.example.com/workforcemanagement/managementunits/mu1/adherence"
        );
        let v: serde_json::Value = serde_json::from_str(&e.render(7)).unwrap();
        let d = &v["data"];
        for key in [
            "userId",
            "managementUnitId",
            "businessUnitId",
            "adherenceState",
            "impact",
            "scheduledActivityCategory",
            "scheduledActivityCodeId",
            "actualActivityCategory",
            "systemPresence",
            "routingStatus",
            "isOutOfOffice",
            "adherenceChangeTime",
            "previous",
            "computedBy",
            "cause",
        ] {
            assert!(d.get(key).is_some(), "data.{key} missing: {d}");
        }
        assert_eq!(d["cause"], "boundary");
        assert_eq!(d["previous"], serde_json::Value::Null);
    }
}
