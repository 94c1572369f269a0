//! `v2.workforcemanagement.managementunits.{muId}.agentschedules.changed`: which agents'
//! published schedules changed in a management unit, and over which range. Published with
//! every announced edit of a published schedule, before its business-unit `Complete`
//! (`{agents: [{agentId, startDate, endDate}], visibilityRange: {endBusinessUnitDate,
//! endDate}}`, as in the JavaScript SDK's model). It names no schedule: a subscriber that
//! narrows a fetch with it has to match it to the business-unit event itself.
//!
//! The permission is UNVERIFIED (no SDK carries the topic → permission map); deny
//! `wfm:agentSchedule:view` with `SimHandle::deny_permission` to see the topic rejected.

use super::notify::publish_locked;
use super::state::{Inner, Shared};
use chrono::{DateTime, Utc};
use serde_json::json;

/// The topic of management unit `mu`.
pub(crate) fn topic(mu: &str) -> String {
    format!("v2.workforcemanagement.managementunits.{mu}.agentschedules.changed")
}

/// Publishes, for management unit index `m`, that `agents` (indices) changed in
/// `[start, end)`.
pub(crate) fn publish(
    shared: &Shared,
    inner: &Inner,
    m: usize,
    agents: &[usize],
    range: (DateTime<Utc>, DateTime<Utc>),
) {
    let (start, end) = (super::schedules::iso(range.0), super::schedules::iso(range.1));
    let org = &shared.org;
    let body = json!({
        "agents": agents.iter().map(|&a| json!({"agentId": org.agents[a].id, "startDate": start, "endDate": end})).collect::<Vec<_>>(),
        "visibilityRange": {"endBusinessUnitDate": range.1.format("%Y-%m-%d").to_string(), "endDate": end},
    });
    publish_locked(inner, &topic(&org.mus[m].id), &body);
}
