//! Presence and routing-status rules: normalising `systemPresence` spellings, and
//! deciding whether an incoming update is new, a duplicate or stale.
//!
//! Presence is not debounced (it carries its own payload), so these rules are all that
//! stands between a noisy stream and downstream consumers. Per the contract:
//! - same presence and definition as stored → nothing is emitted, whatever the
//!   `modifiedDate`, but the stored `modifiedDate` is advanced (so a later stale
//!   update is still recognised);
//! - older `modifiedDate` than stored → stale, nothing emitted (events from different
//!   topics are not ordered, spec §6.13);
//! - otherwise emit, with the stored value as `previous` (`None` only for a user never
//!   seen).
//!
//! Timestamps are compared as instants when both parse; when either does not, order is
//! unknown and the update is not called stale (losing a real change is worse than a
//! rare repeat, which downstream drops by CloudEvent id).

use crate::genesys::presence::{RoutingStatus, UserPresence};
use chrono::{DateTime, FixedOffset};
use std::cmp::Ordering;

/// The ten system presences in their display form.
pub const SYSTEM_PRESENCES: [&str; 10] = [
    "Available",
    "Away",
    "Busy",
    "Offline",
    "Idle",
    "On Queue",
    "Meal",
    "Training",
    "Meeting",
    "Break",
];

/// A normalised `systemPresence`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SystemPresence {
    /// The display form, or the input as given when unknown.
    pub display: String,
    /// False when the input matched none of the ten (it is kept, and flagged).
    pub known: bool,
}

/// Maps any spelling ("ON_QUEUE", "onqueue", "On Queue", " available ") to the display
/// form, ignoring case, spaces, underscores and hyphens.
pub(crate) fn normalise_system_presence(raw: &str) -> SystemPresence {
    // Compared letter by letter, without building lowercase copies: this runs for every
    // presence notification.
    match SYSTEM_PRESENCES
        .iter()
        .find(|display| same_presence(display, raw))
    {
        Some(display) => SystemPresence {
            display: display.to_string(),
            known: true,
        },
        None => SystemPresence {
            display: raw.to_string(),
            known: false,
        },
    }
}

/// True when `a` and `b` are equal ignoring ASCII case, spaces, underscores and hyphens.
/// (Non-ASCII letters compare exactly: none of the display forms has one.)
fn same_presence(a: &str, b: &str) -> bool {
    let mut left = a.bytes().filter(|c| !matches!(c, b' ' | b'_' | b'-'));
    let mut right = b.bytes().filter(|c| !matches!(c, b' ' | b'_' | b'-'));
    loop {
        match (left.next(), right.next()) {
            (None, None) => return true,
            (Some(x), Some(y)) if x.eq_ignore_ascii_case(&y) => {}
            _ => return false,
        }
    }
}

/// What the store knows (or what an update says) about a user's presence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresenceState {
    /// Display form (see [`normalise_system_presence`]).
    pub system_presence: String,
    /// Presence definition id.
    pub presence_definition_id: Option<String>,
    /// When it changed (RFC 3339).
    pub modified_date: Option<String>,
}

impl PresenceState {
    /// From a notification body or a REST answer. `None` when it carries no presence;
    /// an unknown `systemPresence` is kept as given and counted.
    pub fn from_api(p: &UserPresence) -> Option<Self> {
        let def = p.presence_definition.as_ref()?;
        let raw = def.system_presence.as_deref()?;
        let sp = normalise_system_presence(raw);
        if !sp.known {
            crate::telemetry::reactor::presence_unknown(raw);
        }
        Some(Self {
            system_presence: sp.display,
            presence_definition_id: def.id.clone(),
            modified_date: p.modified_date.clone(),
        })
    }
}

/// What the store knows about a user's routing status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoutingState {
    /// `OFF_QUEUE|IDLE|INTERACTING|NOT_RESPONDING|COMMUNICATING` (as given).
    pub status: String,
    /// When it began (RFC 3339).
    pub start_time: Option<String>,
}

impl RoutingState {
    /// From a notification or REST routing status; `None` without a status.
    pub fn from_api(r: &RoutingStatus) -> Option<Self> {
        Some(Self {
            status: r.status.clone()?,
            start_time: r.start_time.clone(),
        })
    }
}

/// The verdict on an incoming update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision<T> {
    /// New: emit it, with the previous known state (None when never known). Store it.
    Emit {
        /// The previously stored state.
        previous: Option<T>,
    },
    /// Same content as stored: emit nothing. When `advance`, store the newer timestamp.
    Duplicate {
        /// The incoming timestamp is newer than the stored one.
        advance: bool,
    },
    /// Older than what is stored: emit nothing, store nothing.
    Stale,
}

fn parse(s: Option<&str>) -> Option<DateTime<FixedOffset>> {
    s.and_then(|s| DateTime::parse_from_rfc3339(s).ok())
}

/// Orders two optional timestamps; `None` when either is missing or unparseable.
fn compare(incoming: Option<&str>, stored: Option<&str>) -> Option<Ordering> {
    Some(parse(incoming)?.cmp(&parse(stored)?))
}

fn verdict<T: Clone>(stored: Option<&T>, same: bool, order: Option<Ordering>) -> Decision<T> {
    let Some(stored) = stored else {
        return Decision::Emit { previous: None };
    };
    if same {
        return Decision::Duplicate {
            advance: order == Some(Ordering::Greater),
        };
    }
    if order == Some(Ordering::Less) {
        return Decision::Stale;
    }
    Decision::Emit {
        previous: Some(stored.clone()),
    }
}

/// Presence rule: duplicate = same display presence and same definition id.
pub(crate) fn decide(stored: Option<&PresenceState>, incoming: &PresenceState) -> Decision<PresenceState> {
    let same = stored.is_some_and(|s| {
        s.system_presence == incoming.system_presence
            && s.presence_definition_id == incoming.presence_definition_id
    });
    let order = stored.and_then(|s| compare(incoming.modified_date.as_deref(), s.modified_date.as_deref()));
    verdict(stored, same, order)
}

/// Routing-status rule: duplicate = same status; stale = older `startTime`.
pub(crate) fn decide_routing(
    stored: Option<&RoutingState>,
    incoming: &RoutingState,
) -> Decision<RoutingState> {
    let same = stored.is_some_and(|s| s.status == incoming.status);
    let order = stored.and_then(|s| compare(incoming.start_time.as_deref(), s.start_time.as_deref()));
    verdict(stored, same, order)
}

#[cfg(test)]
mod tests;
