//! What really changed: canonical agent schedules, their hashes, and the comparison with
//! the last known hashes of a (schedule, management unit).
//!
//! The store keeps one hash per agent; [`diff`] compares the freshly fetched canonical
//! schedules with them and yields only real changes, each with the agent's complete new
//! schedule. Activity codes are resolved to `{name, category}` with [`resolve_codes`],
//! which reports ids it could not resolve so the caller refreshes its code cache.

mod canonical;
#[doc(hidden)]
pub mod fuzzing;
mod hash;
mod streamed;
#[cfg(test)]
mod tests;

pub use streamed::CanonicalAnswer;

pub use canonical::{
    ActivityCodeInfo, CanonicalActivity, CanonicalAgentSchedule, CanonicalShift, CanonicalTimeOff,
    normalise_instant,
};

use serde::Serialize;
use std::collections::{BTreeSet, HashMap};

/// How an agent's schedule changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Change {
    /// Absent before, present now.
    Added,
    /// Present in both with a different hash (all shifts gone is still `Updated`).
    Updated,
    /// Present before, absent now.
    Removed,
}

/// One agent whose schedule really changed.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentDiff {
    /// The agent.
    pub user_id: String,
    /// What happened.
    pub change: Change,
    /// The complete new schedule (empty for `Removed`).
    pub schedule: CanonicalAgentSchedule,
    /// The new hash to store (None for `Removed`: delete the stored one).
    pub hash: Option<String>,
}

/// Compares the last known hashes with the current schedules of one (schedule,
/// management unit). Output is sorted by user id so emitted events are deterministic.
/// A user listed twice in `current` counts once (the last entry wins).
pub fn diff(
    previous: &HashMap<String, String>,
    current: Vec<(String, CanonicalAgentSchedule)>,
) -> Vec<AgentDiff> {
    // Taken by value: a changed agent's schedule moves into its diff instead of being
    // cloned (a deep copy of every shift and activity per changed agent).
    let mut now: HashMap<String, CanonicalAgentSchedule> = HashMap::with_capacity(current.len());
    for (user, schedule) in current {
        now.insert(user, schedule);
    }
    let mut out = Vec::new();
    for user in previous.keys() {
        if !now.contains_key(user) {
            out.push(AgentDiff {
                user_id: user.clone(),
                change: Change::Removed,
                schedule: CanonicalAgentSchedule::default(),
                hash: None,
            });
        }
    }
    for (user, schedule) in now {
        let hash = schedule.hash();
        let change = match previous.get(&user) {
            None => Change::Added,
            Some(old) if *old != hash => Change::Updated,
            Some(_) => continue,
        };
        out.push(AgentDiff {
            user_id: user,
            change,
            schedule,
            hash: Some(hash),
        });
    }
    out.sort_by(|a, b| a.user_id.cmp(&b.user_id));
    out
}

/// Fills `activityCode` of every activity and marker from `codes`. Returns the ids not
/// found (their `activityCode` stays null): the caller should refresh the business
/// unit's activity-code cache and resolve again.
pub(crate) fn resolve_codes(
    schedule: &mut CanonicalAgentSchedule,
    codes: &HashMap<String, ActivityCodeInfo>,
) -> BTreeSet<String> {
    let mut unknown = BTreeSet::new();
    let mut look = |id: &Option<String>| -> Option<ActivityCodeInfo> {
        let id = id.as_ref()?;
        let found = codes.get(id).cloned();
        if found.is_none() {
            unknown.insert(id.clone());
        }
        found
    };
    for shift in &mut schedule.shifts {
        for a in &mut shift.activities {
            a.activity_code = look(&a.activity_code_id);
        }
    }
    for m in &mut schedule.full_day_time_off_markers {
        m.activity_code = look(&m.activity_code_id);
    }
    unknown
}
