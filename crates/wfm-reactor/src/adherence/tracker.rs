//! Every tracked agent's adherence, kept current incrementally: re-evaluated when its
//! presence, routing status or schedule changes, and at its next scheduled boundary.
//!
//! Still pure (every method takes `now`): the reactor owns one [`Tracker`], feeds it what
//! it decides, sleeps until [`Tracker::next_deadline`] and commits the [`Change`]s it gets
//! back. The timer queue is a `BTreeMap` by (instant, user) holding one entry per agent
//! (its next boundary), so the cost is per change, never per agent per tick.

use super::{Evaluation, Inputs, Mapping, Timeline, evaluate};
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, HashMap};

/// One agent's adherence changed (or was seen for the first time).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// The agent.
    pub user_id: String,
    /// Where the agent belongs.
    pub unit: Unit,
    /// The new state.
    pub now: Evaluation,
    /// The state before; `None` when the agent had none.
    pub previous: Option<Evaluation>,
    /// When it changed (`adherenceChangeTime`).
    pub at: DateTime<Utc>,
    /// The presence it was decided on.
    pub presence: Option<String>,
    /// The routing status it was decided on.
    pub routing: Option<String>,
}

/// The management unit (and its business unit) an agent is evaluated in.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Unit {
    /// Management unit id.
    pub management_unit_id: String,
    /// Business unit id.
    pub business_unit_id: String,
}

/// Everything known of one agent.
#[derive(Debug, Clone, Default)]
struct Agent {
    unit: Unit,
    timeline: Timeline,
    presence: Option<String>,
    routing: Option<String>,
    /// The last state decided (or restored from the store) and since when.
    current: Option<(Evaluation, DateTime<Utc>)>,
    /// Its entry in the timer queue.
    due: Option<DateTime<Utc>>,
}

/// The adherence of every tracked agent, and one timer per agent.
#[derive(Debug, Default)]
pub struct Tracker {
    mapping: Mapping,
    agents: HashMap<String, Agent>,
    queue: BTreeMap<(DateTime<Utc>, String), ()>,
}

impl Tracker {
    /// An empty tracker deciding with `mapping`.
    pub fn new(mapping: Mapping) -> Self {
        Self {
            mapping,
            ..Self::default()
        }
    }

    /// Starts tracking `user` in `unit` (or moves it); nothing is evaluated yet.
    pub fn track(&mut self, user: &str, unit: Unit) {
        self.agents.entry(user.to_string()).or_default().unit = unit;
    }

    /// Stops tracking `user` (left every watched management unit).
    pub fn untrack(&mut self, user: &str) {
        if let Some(a) = self.agents.remove(user)
            && let Some(due) = a.due
        {
            self.queue.remove(&(due, user.to_string()));
        }
    }

    /// Puts back the state last committed (start-up), so re-evaluating an unchanged agent
    /// emits nothing.
    pub fn restore(&mut self, user: &str, state: Evaluation, since: DateTime<Utc>) {
        if let Some(a) = self.agents.get_mut(user) {
            a.current = Some((state, since));
        }
    }

    /// Sets every input of `user` without evaluating (start-up: the store's schedule,
    /// presence and routing go in together, then one [`Tracker::reevaluate_all`]).
    pub fn prime(&mut self, user: &str, timeline: Timeline, presence: Option<&str>, routing: Option<&str>) {
        if let Some(a) = self.agents.get_mut(user) {
            a.timeline = timeline;
            a.presence = presence.map(str::to_string);
            a.routing = routing.map(str::to_string);
        }
    }

    /// New presence and routing status for `user` (either may be unknown).
    pub fn set_inputs(
        &mut self,
        user: &str,
        presence: Option<&str>,
        routing: Option<&str>,
        now: DateTime<Utc>,
    ) -> Option<Change> {
        let a = self.agents.get_mut(user)?;
        a.presence = presence.map(str::to_string);
        a.routing = routing.map(str::to_string);
        self.reevaluate(user, now)
    }

    /// A new schedule for `user` (every schedule it appears in, as one timeline).
    pub fn set_timeline(&mut self, user: &str, timeline: Timeline, now: DateTime<Utc>) -> Option<Change> {
        self.agents.get_mut(user)?.timeline = timeline;
        self.reevaluate(user, now)
    }

    /// The earliest pending boundary.
    pub fn next_deadline(&self) -> Option<DateTime<Utc>> {
        self.queue.keys().next().map(|(t, _)| *t)
    }

    /// Re-evaluates every agent whose boundary is at or before `now`, each at its own
    /// boundary instant (so `adherenceChangeTime` is when the activity changed, not when
    /// the timer fired late).
    pub fn take_due(&mut self, now: DateTime<Utc>) -> Vec<Change> {
        let mut changes = Vec::new();
        while let Some(entry) = self.queue.first_entry() {
            let (at, user) = entry.key().clone();
            if at > now {
                break;
            }
            entry.remove();
            if let Some(a) = self.agents.get_mut(&user) {
                a.due = None;
            }
            changes.extend(self.reevaluate(&user, at));
        }
        changes
    }

    /// Re-evaluates every agent at `now` (after a restart, or a membership change).
    pub fn reevaluate_all(&mut self, now: DateTime<Utc>) -> Vec<Change> {
        let mut users: Vec<String> = self.agents.keys().cloned().collect();
        users.sort();
        users.iter().filter_map(|u| self.reevaluate(u, now)).collect()
    }

    /// `user`'s current state and since when.
    pub fn state(&self, user: &str) -> Option<(&Evaluation, DateTime<Utc>, &Unit)> {
        let a = self.agents.get(user)?;
        a.current.as_ref().map(|(e, t)| (e, *t, &a.unit))
    }

    /// `user`'s presence and routing status as last fed.
    pub fn inputs(&self, user: &str) -> (Option<&str>, Option<&str>) {
        self.agents
            .get(user)
            .map_or((None, None), |a| (a.presence.as_deref(), a.routing.as_deref()))
    }

    /// What `user`'s schedule says at `t` and next (the board).
    pub fn timeline(&self, user: &str) -> Option<&Timeline> {
        self.agents.get(user).map(|a| &a.timeline)
    }

    /// The unit `user` is tracked in.
    pub fn unit(&self, user: &str) -> Option<&Unit> {
        self.agents.get(user).map(|a| &a.unit)
    }

    /// Every tracked user id.
    pub fn users(&self) -> impl Iterator<Item = &String> {
        self.agents.keys()
    }

    /// Timers pending (one per agent at most).
    pub fn pending_timers(&self) -> usize {
        self.queue.len()
    }

    fn reevaluate(&mut self, user: &str, now: DateTime<Utc>) -> Option<Change> {
        let a = self.agents.get_mut(user)?;
        let scheduled = a.timeline.at(now);
        let inputs = Inputs {
            scheduled: scheduled.as_ref(),
            system_presence: a.presence.as_deref(),
            routing_status: a.routing.as_deref(),
        };
        let eval = evaluate(inputs, &self.mapping);
        // Re-arm: the one timer of this agent moves to its next boundary.
        let next = a.timeline.next_boundary(now);
        if a.due != next {
            if let Some(old) = a.due.take() {
                self.queue.remove(&(old, user.to_string()));
            }
            if let Some(n) = next {
                self.queue.insert((n, user.to_string()), ());
            }
            a.due = next;
        }
        // Nothing is said of an agent never seen with a presence (at start, before the
        // first reconcile read it): an `Unknown` for everyone first would be pure noise.
        if a.presence.is_none() && a.current.is_none() {
            return None;
        }
        match &mut a.current {
            Some((cur, _)) if !cur.differs(&eval) => {
                // The code id may change without an event; keep it current.
                *cur = eval;
                None
            }
            current => {
                let previous = current.take().map(|(e, _)| e);
                *current = Some((eval.clone(), now));
                Some(Change {
                    user_id: user.to_string(),
                    unit: a.unit.clone(),
                    now: eval,
                    previous,
                    at: now,
                    presence: a.presence.clone(),
                    routing: a.routing.clone(),
                })
            }
        }
    }
}
