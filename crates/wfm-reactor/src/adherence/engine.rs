//! The decision itself: scheduled activity + presence + routing status → adherence.
//!
//! Genesys's rules (help.mypurecloud.com, real-time adherence overview, and the contract):
//! the presence maps to an actual category; On Queue counts as adherent only with routing
//! status Idle, Interacting or Communicating; with nothing scheduled, Unavailable or
//! Time Off is in adherence and On Queue is out. Choices where the rules are silent, each
//! documented at its line: an unknown presence is `Unknown`; working off queue (or on a
//! break) while unscheduled is `Unscheduled`; an unknown routing status does not hold an
//! On Queue agent out (routing status may not be watched at all).

use super::{AdherenceState, Category, Mapping, Scheduled};

/// Routing statuses in which On Queue counts as adherent.
const ADHERENT_ROUTING: [&str; 3] = ["IDLE", "INTERACTING", "COMMUNICATING"];

/// What one evaluation looks at.
#[derive(Debug, Clone, Copy)]
pub struct Inputs<'a> {
    /// The activity scheduled at that instant.
    pub scheduled: Option<&'a Scheduled>,
    /// Presence, display form (`On Queue`, `Break`, ...); `None` when unknown.
    pub system_presence: Option<&'a str>,
    /// Routing status (`IDLE`, `OFF_QUEUE`, ...); `None` when unknown.
    pub routing_status: Option<&'a str>,
}

/// One agent's adherence at one instant: the three fields whose change is an event, plus
/// the code id that goes with the scheduled category.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evaluation {
    /// `adherenceState`.
    pub state: AdherenceState,
    /// `scheduledActivityCategory` (`Unscheduled` when nothing is scheduled).
    pub scheduled: Category,
    /// `scheduledActivityCodeId`.
    pub scheduled_code_id: Option<std::sync::Arc<str>>,
    /// `actualActivityCategory` (`None` when the presence is unknown or unmapped).
    pub actual: Option<Category>,
}

impl Evaluation {
    /// True when `other` differs in a field whose change is emitted (state, scheduled or
    /// actual category); the code id alone is not a change.
    pub fn differs(&self, other: &Evaluation) -> bool {
        (self.state, self.scheduled, self.actual) != (other.state, other.scheduled, other.actual)
    }
}

/// Decides adherence from its inputs. Pure: same inputs, same answer.
pub fn evaluate(inputs: Inputs<'_>, mapping: &Mapping) -> Evaluation {
    let actual = inputs.system_presence.and_then(|p| mapping.category(p));
    let (scheduled, scheduled_code_id, scheduled_known) = match inputs.scheduled {
        Some(s) => (
            s.category.unwrap_or(Category::Unscheduled),
            s.code_id.clone(),
            s.category.is_some(),
        ),
        None => (Category::Unscheduled, None, true),
    };
    let state = match actual {
        // Unknown presence, or an activity code we cannot resolve: say so, never guess.
        None => AdherenceState::Unknown,
        Some(_) if !scheduled_known => AdherenceState::Unknown,
        Some(actual) => decide(scheduled, actual, inputs.routing_status),
    };
    Evaluation {
        state,
        scheduled,
        scheduled_code_id,
        actual,
    }
}

fn decide(scheduled: Category, actual: Category, routing: Option<&str>) -> AdherenceState {
    use Category::*;
    let on_queue_ok = routing.is_none_or(|r| ADHERENT_ROUTING.contains(&r));
    match (scheduled, actual) {
        (Unscheduled, Unavailable | TimeOff) => AdherenceState::InAdherence,
        (Unscheduled, OnQueueWork) => AdherenceState::OutOfAdherence,
        // Working while nothing is scheduled: Genesys's own name for it.
        (Unscheduled, _) => AdherenceState::Unscheduled,
        (OnQueueWork, OnQueueWork) if on_queue_ok => AdherenceState::InAdherence,
        (OnQueueWork, _) => AdherenceState::OutOfAdherence,
        (s, a) if s == a => AdherenceState::InAdherence,
        _ => AdherenceState::OutOfAdherence,
    }
}
