//! The presences already decided at one instant, per user: two presences with one
//! `modifiedDate` have no order, so the later arrival wins, but one already decided at
//! that instant arriving *again* (a redelivered frame, a reconcile's read taken between
//! the two) must not flip the user back. The week-long soak found both halves
//! (docs/reliability.md): a repeat re-emitting an id with another `previous`, and a
//! memory kept past its instant swallowing a real change at the next one.

use crate::presence::PresenceState;
use chrono::{DateTime, FixedOffset};
use std::collections::HashMap;

/// What identifies a presence at an instant (display form, definition id).
type Content = (String, Option<String>);

/// Per user, one instant and the presences decided at it.
#[derive(Debug, Default)]
pub(super) struct InstantTies {
    by_user: HashMap<String, (DateTime<FixedOffset>, Vec<Content>)>,
}

fn instant(p: &PresenceState) -> Option<DateTime<FixedOffset>> {
    DateTime::parse_from_rfc3339(p.modified_date.as_deref()?).ok()
}

fn content(p: &PresenceState) -> Content {
    (p.system_presence.clone(), p.presence_definition_id.clone())
}

impl InstantTies {
    /// True when `incoming` was already decided for `user` at its own instant.
    pub(super) fn seen(&self, user: &str, incoming: &PresenceState) -> bool {
        let Some(at) = instant(incoming) else {
            return false;
        };
        self.by_user
            .get(user)
            .is_some_and(|(t, seen)| *t == at && seen.contains(&content(incoming)))
    }

    /// `incoming` replaced `previous` for `user`. At one instant both are remembered
    /// there; otherwise the user's instant moved on and its memory goes (only ties are
    /// kept: one entry per user would cost megabytes at 19,000 agents for nothing).
    pub(super) fn decided(&mut self, user: &str, previous: Option<&PresenceState>, incoming: &PresenceState) {
        let at = instant(incoming);
        let tied = at.is_some() && previous.and_then(instant) == at;
        let Some(at) = at.filter(|_| tied) else {
            self.by_user.remove(user);
            return;
        };
        let entry = self
            .by_user
            .entry(user.to_string())
            .or_insert_with(|| (at, Vec::new()));
        if entry.0 != at {
            *entry = (at, Vec::new());
        }
        for c in previous.into_iter().chain(Some(incoming)).map(content) {
            if !entry.1.contains(&c) {
                entry.1.push(c);
            }
        }
    }

    /// Forgets `user` (no longer watched).
    pub(super) fn forget(&mut self, user: &str) {
        self.by_user.remove(user);
    }

    /// Forgets everyone (the cache was reloaded from the store).
    pub(super) fn clear(&mut self) {
        self.by_user.clear();
    }
}
