//! Genesys's own real-time adherence, per management unit: which units are on it (the
//! unit topic was not refused, `[adherence] mode`), and each agent's update from the topic
//! or a REST re-read turned into `wfm.adherence.changed` with `computedBy: "genesys"` —
//! only when `adherenceState`, `scheduledActivityCategory` or `actualActivityCategory`
//! changed, against the state last committed (so duplicates and restarts emit nothing).
//!
//! A unit on Genesys adherence is skipped by the local engine's emit, so an agent never
//! has two writers; a unit that falls back (refused topic, `auto`) has its agents' local
//! state restored from the last committed one first, so `previous` stays right.

use super::{Adherence, StoredAdherence};
use crate::adherence::AdherenceState;
use crate::config::AdherenceMode;
use crate::events::{AdherenceCause, AdherenceChanged, AdherenceRef, NewEvent};
use crate::genesys::adherence::UserScheduleAdherence;
use crate::store::{Batch, StateChange};
use std::collections::BTreeSet;

/// Longest id or category name accepted from upstream (ids are UUIDs, categories short words).
const MAX_FIELD: usize = 128;

/// Why an update was refused (the `reason` of `wfm_reactor_updates_skipped_total`).
fn skipped(reason: &'static str) {
    crate::telemetry::reactor::update_skipped("adherence", reason);
}

/// A short, printable upstream field, or `None` (missing, too long or odd characters).
fn bounded(s: Option<&str>) -> Option<&str> {
    s.filter(|s| !s.is_empty() && s.len() <= MAX_FIELD && s.chars().all(|c| c.is_ascii_graphic()))
}

/// The committed row an update stands for, or why it cannot be one.
fn row_of(mu: &str, a: &UserScheduleAdherence) -> Result<StoredAdherence, &'static str> {
    let user = bounded(a.user.as_ref().and_then(|u| u.id.as_deref())).ok_or("no_user")?;
    let state = a
        .adherence_state
        .as_deref()
        .and_then(AdherenceState::parse)
        .ok_or("bad_state")?;
    let scheduled = bounded(a.scheduled_activity_category.as_deref()).unwrap_or("Unscheduled");
    let actual = a.actual_activity_category.as_deref();
    if actual.is_some() && bounded(actual).is_none() {
        return Err("bad_category");
    }
    let time = a.adherence_change_time.unwrap_or_else(chrono::Utc::now);
    Ok(StoredAdherence {
        user_id: user.to_string(),
        management_unit_id: mu.to_string(),
        business_unit_id: bounded(a.business_unit_id.as_deref()).unwrap_or("").to_string(),
        state: state.as_str().to_string(),
        scheduled_category: scheduled.to_string(),
        scheduled_code_id: bounded(a.scheduled_activity_code.as_ref().and_then(|c| c.id.as_deref()))
            .map(str::to_string),
        actual_category: actual.map(str::to_string),
        change_time: super::rfc3339(time),
        computed_by: "genesys".into(),
    })
}

/// The three fields whose change is an event.
fn key(r: &StoredAdherence) -> (&str, &str, Option<&str>) {
    (&r.state, &r.scheduled_category, r.actual_category.as_deref())
}

// === impl Adherence (Genesys) ===

impl Adherence {
    /// Units on Genesys adherence, sorted (a reconcile re-reads these over REST).
    pub(in crate::reactor) fn genesys_units(&self) -> Vec<String> {
        let mut units: Vec<String> = self.genesys_units.iter().cloned().collect();
        units.sort();
        units
    }

    /// The upstream's refused topics now: in `auto` a unit whose adherence topic is refused
    /// falls back to the local engine (and comes back once it is accepted); in `genesys`
    /// it stays on Genesys, degraded, with nothing computed locally.
    pub(in crate::reactor) fn set_refused(&mut self, refused: &BTreeSet<String>, batch: &mut Batch) {
        if !self.genesys_wanted {
            return;
        }
        let units: Vec<String> = self.units.iter().cloned().collect();
        for mu in units {
            let is_refused = refused.contains(&crate::topics::mu_adherence_topic(&mu));
            let on_genesys = self.genesys_units.contains(&mu);
            let want_genesys = !is_refused || self.mode == AdherenceMode::Genesys;
            if want_genesys && !on_genesys {
                tracing::info!(management_unit = %mu, "adherence topic accepted: Genesys adherence");
                self.genesys_units.insert(mu);
            } else if !want_genesys && on_genesys {
                tracing::warn!(management_unit = %mu, "adherence topic refused: computing adherence locally");
                self.genesys_units.remove(&mu);
                self.fall_back(&mu, batch);
            }
        }
    }

    /// `mu` left Genesys adherence: its agents continue locally from their last state.
    fn fall_back(&mut self, mu: &str, batch: &mut Batch) {
        let users: Vec<String> = self
            .tracker
            .users()
            .filter(|u| {
                self.tracker
                    .unit(u)
                    .is_some_and(|unit| unit.management_unit_id == mu)
            })
            .cloned()
            .collect();
        let now = self.wall();
        for user in users {
            if let Some((eval, since)) = self.last.get(&user).and_then(super::restored) {
                self.tracker.restore(&user, eval, since);
            }
            if self.held {
                continue;
            }
            let (p, r) = self.tracker.inputs(&user);
            let (p, r) = (p.map(str::to_string), r.map(str::to_string));
            let change = self.tracker.set_inputs(&user, p.as_deref(), r.as_deref(), now);
            self.emit(change, AdherenceCause::Reconcile, batch);
        }
    }

    /// One agent's state from the unit topic (`Notification`) or a re-read (`Reconcile`).
    pub(in crate::reactor) fn genesys(
        &mut self,
        mu: &str,
        update: &UserScheduleAdherence,
        cause: AdherenceCause,
        batch: &mut Batch,
    ) {
        if !self.genesys_units.contains(mu) {
            skipped("not_genesys_unit");
            return;
        }
        let row = match row_of(mu, update) {
            Ok(row) => row,
            Err(reason) => {
                tracing::warn!(management_unit = %mu, reason, "adherence update refused");
                skipped(reason);
                return;
            }
        };
        if self.tracker.unit(&row.user_id).is_none() {
            skipped("unwatched_user");
            return;
        }
        if update.removed_from_management_unit == Some(true) {
            self.forget(&row.user_id);
            return;
        }
        let previous = self.last.get(&row.user_id).filter(|p| p.management_unit_id == mu);
        if previous.is_some_and(|p| key(p) == key(&row)) {
            skipped("duplicate");
            return;
        }
        let previous = previous.cloned();
        self.commit_genesys(row, previous, update, cause, batch);
    }

    /// The agent left the unit upstream: no state is kept for it (nothing is emitted).
    fn forget(&mut self, user: &str) {
        if let Some(old) = self.last.remove(user)
            && let Some(state) = AdherenceState::parse(&old.state)
        {
            self.count((old.management_unit_id, state), -1);
            self.publish_counts();
        }
    }

    fn commit_genesys(
        &mut self,
        row: StoredAdherence,
        previous: Option<StoredAdherence>,
        update: &UserScheduleAdherence,
        cause: AdherenceCause,
        batch: &mut Batch,
    ) {
        if let Some(state) = previous.as_ref().and_then(|p| AdherenceState::parse(&p.state)) {
            self.count((row.management_unit_id.clone(), state), -1);
        }
        if let Some(state) = AdherenceState::parse(&row.state) {
            self.count((row.management_unit_id.clone(), state), 1);
        }
        self.publish_counts();
        let cause = if previous.is_none() && self.first_start {
            AdherenceCause::Snapshot
        } else {
            cause
        };
        batch.changes.push(StateChange::Adherence(row.clone()));
        self.last.insert(row.user_id.clone(), row.clone());
        if cause == AdherenceCause::Snapshot && !self.initial_snapshot {
            return;
        }
        let routing = update.routing_status.as_deref().filter(|r| *r != "__EMPTY__");
        let data = AdherenceChanged {
            user_id: row.user_id.clone(),
            management_unit_id: row.management_unit_id.clone(),
            business_unit_id: row.business_unit_id.clone(),
            adherence_state: row.state.clone(),
            impact: bounded(update.impact.as_deref()).unwrap_or("Unknown").into(),
            scheduled_activity_category: row.scheduled_category.clone(),
            scheduled_activity_code_id: row.scheduled_code_id.clone(),
            actual_activity_category: row.actual_category.clone(),
            // The display form, as in `presence.changed` (Genesys sends "ON_QUEUE" here).
            system_presence: bounded(update.system_presence.as_deref())
                .map(|p| crate::presence::normalise_system_presence(p).display),
            routing_status: bounded(routing).map(str::to_string),
            is_out_of_office: update.is_out_of_office.unwrap_or(false),
            adherence_change_time: row.change_time.clone(),
            previous: previous.map(|p| AdherenceRef {
                adherence_state: p.state,
                scheduled_activity_category: p.scheduled_category,
                actual_activity_category: p.actual_category,
            }),
            computed_by: "genesys".into(),
            cause,
        };
        batch
            .events
            .push(NewEvent::adherence_changed(&self.api_host, &data));
    }
}
