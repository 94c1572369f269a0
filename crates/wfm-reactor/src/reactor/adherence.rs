//! The reactor's adherence state: the local engine's [`Tracker`], fed with every presence,
//! routing and schedule decision the reactor makes, and its changes turned into
//! `wfm.adherence.changed` events in the same batch (so the same transaction) as the
//! presence change that caused them.
//!
//! The engine is pure and speaks wall-clock instants (schedules are wall-clock); the
//! reactor sleeps on tokio's clock. [`WallClock`] maps one to the other from one anchor
//! taken at start, so paused-time tests drive boundaries exactly.

use crate::adherence::{AdherenceState, Category, Change, Evaluation, Timeline, Tracker, Unit};
use crate::diff::CanonicalAgentSchedule;
use crate::events::{AdherenceCause, AdherenceChanged, AdherenceRef, NewEvent};
use crate::store::{Batch, StateChange, Store, StoreError, StoredAdherence};
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::sync::Arc;
use tokio::time::Instant;

mod genesys;

/// Tokio instants ↔ wall-clock instants, from one anchor.
#[derive(Debug, Clone, Copy)]
pub(super) struct WallClock {
    wall: DateTime<Utc>,
    at: Instant,
}

impl WallClock {
    pub(super) fn now() -> Self {
        Self {
            wall: Utc::now(),
            at: Instant::now(),
        }
    }

    /// The same clock, `by` later (tests: a restart after time passed).
    #[cfg(test)]
    pub(super) fn shifted(self, by: chrono::Duration) -> Self {
        Self {
            wall: self.wall + by,
            at: self.at,
        }
    }

    /// The wall-clock instant of tokio's now.
    pub(super) fn wall(&self) -> DateTime<Utc> {
        let elapsed = chrono::Duration::from_std(self.at.elapsed()).unwrap_or(chrono::TimeDelta::MAX);
        self.wall
            .checked_add_signed(elapsed)
            .unwrap_or(DateTime::<Utc>::MAX_UTC)
    }

    /// The tokio instant of a wall-clock instant (now, when it is past).
    pub(super) fn instant(&self, wall: DateTime<Utc>) -> Instant {
        let ahead = (wall - self.wall).to_std().unwrap_or_default();
        self.at
            .checked_add(ahead)
            .unwrap_or_else(|| Instant::now() + std::time::Duration::from_secs(86_400))
    }
}

/// A schedule change a fetch task committed, reported back for the engine.
#[derive(Debug, Clone)]
pub enum ScheduleUpdate {
    /// One agent's schedule in one (schedule, management unit); `None`: removed.
    Agent {
        /// Schedule id.
        schedule_id: String,
        /// Management unit id.
        mu_id: String,
        /// The agent.
        user_id: String,
        /// Its new activities.
        timeline: Option<Timeline>,
    },
    /// The whole schedule is gone.
    Deleted {
        /// Schedule id.
        schedule_id: String,
    },
}

/// One agent's row for `GET /v1/adherence` and the board.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentAdherence {
    /// The agent.
    pub user_id: String,
    /// Its name where the management unit users route gave one, else its id.
    pub name: String,
    /// Its management unit.
    pub management_unit_id: String,
    /// Its business unit.
    pub business_unit_id: String,
    /// `adherenceState`.
    pub adherence_state: String,
    /// Since when (RFC 3339).
    pub since: String,
    /// `scheduledActivityCategory` now.
    pub scheduled_activity_category: String,
    /// `actualActivityCategory` now.
    pub actual_activity_category: Option<String>,
    /// The next scheduled activity: category and start.
    pub next_activity_category: Option<String>,
    /// When it starts (RFC 3339).
    pub next_activity_start: Option<String>,
    /// Presence (display form), when known.
    pub system_presence: Option<String>,
    /// Routing status, when known.
    pub routing_status: Option<String>,
    /// Who computed it.
    pub computed_by: &'static str,
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// The reactor's adherence engine and what it needs besides.
pub(super) struct Adherence {
    enabled: bool,
    tracker: Tracker,
    clock: WallClock,
    /// Per agent, its timeline in each (schedule, management unit) it appears in.
    parts: HashMap<String, AgentParts>,
    /// Schedule and management unit ids of `parts`: one allocation each, however many
    /// agents' parts name them.
    ids: std::collections::HashSet<Arc<str>>,
    /// Agents per (management unit, state), mirrored in the gauge.
    counts: HashMap<(String, AdherenceState), i64>,
    /// Nothing is decided until the first reconcile finished: before it, presence is known
    /// but schedules may not be, and every agent would first show `Unscheduled`.
    held: bool,
    /// The store held no adherence at start: first states are a snapshot.
    first_start: bool,
    /// `[reconcile] initial_snapshot`: emit the snapshot (else record it silently).
    initial_snapshot: bool,
    api_host: String,
    /// `[adherence] mode`.
    mode: crate::config::AdherenceMode,
    /// Genesys's adherence is wanted at all (`[watch] adherence`, mode not `local`).
    genesys_wanted: bool,
    /// Every watched management unit.
    units: std::collections::BTreeSet<String>,
    /// Units whose adherence comes from Genesys (the local engine stays silent there).
    genesys_units: std::collections::HashSet<String>,
    /// Per agent, the state last committed (either writer): `previous` of the next event.
    last: HashMap<String, StoredAdherence>,
    /// Agent names from the membership (`GET /v1/adherence`, the board).
    names: HashMap<String, String>,
}

impl Adherence {
    pub(super) fn new(config: &crate::config::Config, api_host: String) -> Self {
        let enabled = config.watch.adherence;
        let mapping = config.adherence.mapping();
        Self {
            held: true,
            first_start: false,
            initial_snapshot: config.reconcile.initial_snapshot,
            api_host,
            enabled,
            mode: config.adherence.mode,
            genesys_wanted: super::membership::genesys_adherence(config),
            units: Default::default(),
            genesys_units: Default::default(),
            last: HashMap::new(),
            names: HashMap::new(),
            tracker: Tracker::new(mapping),
            clock: WallClock::now(),
            parts: HashMap::new(),
            ids: Default::default(),
            counts: HashMap::new(),
        }
    }

    /// The wall-clock now the engine decides at.
    pub(super) fn wall(&self) -> DateTime<Utc> {
        self.clock.wall()
    }

    /// When the reactor must wake for the next boundary.
    pub(super) fn deadline(&self) -> Option<Instant> {
        self.tracker.next_deadline().map(|w| self.clock.instant(w))
    }

    /// The tokio instant of a wall-clock instant (tests).
    #[cfg(test)]
    pub(super) fn clock_instant(&self, wall: DateTime<Utc>) -> Instant {
        self.clock.instant(wall)
    }

    /// The clock anchor, and replacing it (tests: a restart in paused time keeps the
    /// first run's wall clock, as real time would).
    #[cfg(test)]
    pub(super) fn clock(&self) -> WallClock {
        self.clock
    }

    #[cfg(test)]
    pub(super) fn set_clock(&mut self, clock: WallClock) {
        self.clock = clock;
    }

    /// Tracks exactly the agents of `membership` (start, and every membership refresh).
    pub(super) fn set_membership(&mut self, m: &super::Membership) {
        if !self.enabled {
            return;
        }
        self.names = m.names.iter().map(|(u, n)| (u.clone(), n.clone())).collect();
        let mut wanted = HashMap::new();
        for (bu_id, bu) in &m.business_units {
            for (mu_id, agents) in &bu.management_units {
                for user in agents {
                    wanted.entry(user.clone()).or_insert_with(|| Unit {
                        management_unit_id: mu_id.clone(),
                        business_unit_id: bu_id.clone(),
                    });
                }
                for state in AdherenceState::ALL {
                    self.counts.entry((mu_id.clone(), state)).or_insert(0);
                }
                // a new unit is on Genesys until its topic is refused (the reconcile after
                // the subscription checks the refusals)
                if self.units.insert(mu_id.clone()) && self.genesys_wanted {
                    self.genesys_units.insert(mu_id.clone());
                }
            }
        }
        let gone: Vec<String> = self
            .tracker
            .users()
            .filter(|u| !wanted.contains_key(*u))
            .cloned()
            .collect();
        for user in gone {
            if let Some((e, _, unit)) = self.tracker.state(&user) {
                let key = (unit.management_unit_id.clone(), e.state);
                self.count(key, -1);
            }
            self.tracker.untrack(&user);
        }
        for (user, unit) in wanted {
            let new = self.tracker.state(&user).is_none();
            self.tracker.track(&user, unit);
            if new {
                let tl = self.timeline_of(&user);
                self.tracker.prime(&user, tl, None, None);
            }
        }
        self.publish_counts();
    }

    /// Rebuilds the engine from the store (start-up): schedules, the presence and routing
    /// given, and the last committed states, so an unchanged agent emits nothing.
    pub(super) async fn load(
        &mut self,
        store: &Store,
        inputs: impl Fn(&str) -> (Option<String>, Option<String>),
    ) -> Result<(), StoreError> {
        if !self.enabled {
            return Ok(());
        }
        for row in store.all_agent_schedules().await? {
            let Ok(s) = serde_json::from_str::<CanonicalAgentSchedule>(&row.canonical_json) else {
                continue;
            };
            let tl = Timeline::from_schedules([&s]);
            self.set_part(row.user_id, &row.schedule_id, &row.mu_id, Some(tl));
        }
        let users: Vec<String> = self.tracker.users().cloned().collect();
        for user in &users {
            let (p, r) = inputs(user);
            let tl = self.timeline_of(user);
            self.tracker.prime(user, tl, p.as_deref(), r.as_deref());
        }
        let stored = store.all_adherence().await?;
        self.first_start = stored.is_empty();
        for row in stored {
            if let Some(state) = AdherenceState::parse(&row.state) {
                self.count((row.management_unit_id.clone(), state), 1);
            }
            if let Some((eval, since)) = restored(&row) {
                self.tracker.restore(&row.user_id, eval, since);
            }
            self.last.insert(row.user_id.clone(), row);
        }
        self.publish_counts();
        Ok(())
    }

    fn timeline_of(&self, user: &str) -> Timeline {
        self.parts
            .get(user)
            .map(|p| Timeline::merged(p.iter().map(|(_, t)| t)))
            .unwrap_or_default()
    }

    /// Sets (`Some`) or removes (`None`) `user`'s timeline in (schedule, management unit).
    fn set_part(&mut self, user: String, schedule_id: &str, mu_id: &str, timeline: Option<Timeline>) {
        let key = (intern(&mut self.ids, schedule_id), intern(&mut self.ids, mu_id));
        let parts = self.parts.entry(user).or_default();
        let at = parts.binary_search_by(|(k, _)| k.cmp(&key));
        match (at, timeline) {
            (Ok(i), Some(t)) => parts[i].1 = t,
            (Err(i), Some(t)) => parts.insert(i, (key, t)),
            (Ok(i), None) => {
                parts.remove(i);
            }
            (Err(_), None) => {}
        }
    }
}

/// One agent's timelines by (schedule, management unit), sorted by that key (so merging
/// them is in the same order every time).
type AgentParts = Vec<((Arc<str>, Arc<str>), Timeline)>;

/// The shared copy of `id` in `ids`.
fn intern(ids: &mut std::collections::HashSet<Arc<str>>, id: &str) -> Arc<str> {
    if let Some(shared) = ids.get(id) {
        return shared.clone();
    }
    let shared: Arc<str> = Arc::from(id);
    ids.insert(shared.clone());
    shared
}

/// The engine's state from a stored row (`None` when the row does not parse).
fn restored(row: &StoredAdherence) -> Option<(Evaluation, DateTime<Utc>)> {
    let eval = Evaluation {
        state: AdherenceState::parse(&row.state)?,
        scheduled: Category::parse(&row.scheduled_category)?,
        scheduled_code_id: row.scheduled_code_id.as_deref().map(std::sync::Arc::from),
        actual: row.actual_category.as_deref().and_then(Category::parse),
    };
    let since = DateTime::parse_from_rfc3339(&row.change_time)
        .ok()?
        .with_timezone(&Utc);
    Some((eval, since))
}

/// `impact`, as Genesys describes it: out of adherence while scheduled on queue (or on
/// queue while not scheduled so) costs service; otherwise neutral.
fn impact(e: &Evaluation) -> &'static str {
    match e.state {
        AdherenceState::OutOfAdherence if e.scheduled == Category::OnQueueWork => "Negative",
        AdherenceState::OutOfAdherence if e.actual == Some(Category::OnQueueWork) => "Positive",
        AdherenceState::Unknown => "Unknown",
        _ => "Neutral",
    }
}

// === impl Adherence (decisions) ===

impl Adherence {
    /// True until [`Adherence::release`].
    pub(super) fn is_held(&self) -> bool {
        self.enabled && self.held
    }

    /// The first reconcile finished: decide every agent now (a restart emits only what
    /// really changed while it was down), and each change as it comes from here on.
    pub(super) fn release(&mut self, batch: &mut Batch) {
        self.held = false;
        self.reevaluate_all(batch);
    }

    /// `user`'s presence or routing status was decided (live or by a reconcile).
    pub(super) fn inputs(
        &mut self,
        user: &str,
        presence: Option<&str>,
        routing: Option<&str>,
        cause: AdherenceCause,
        batch: &mut Batch,
    ) {
        if !self.enabled {
            return;
        }
        if self.held {
            let tl = self.timeline_of(user);
            self.tracker.prime(user, tl, presence, routing);
            return;
        }
        let now = self.wall();
        let change = self.tracker.set_inputs(user, presence, routing, now);
        self.emit(change, cause, batch);
    }

    /// Re-reads every tracked agent's inputs (after a reconcile or a membership refresh).
    pub(super) fn all_inputs(
        &mut self,
        inputs: impl Fn(&str) -> (Option<String>, Option<String>),
        cause: AdherenceCause,
        batch: &mut Batch,
    ) {
        if !self.enabled {
            return;
        }
        let mut users: Vec<String> = self.tracker.users().cloned().collect();
        users.sort();
        for user in users {
            let (p, r) = inputs(&user);
            self.inputs(&user, p.as_deref(), r.as_deref(), cause, batch);
        }
    }

    /// Schedules a fetch task committed: rebuild the agents' timelines and re-evaluate.
    pub(super) fn schedules(&mut self, updates: Vec<ScheduleUpdate>, batch: &mut Batch) {
        if !self.enabled || updates.is_empty() {
            return;
        }
        let mut touched = std::collections::BTreeSet::new();
        for u in updates {
            match u {
                ScheduleUpdate::Agent {
                    schedule_id,
                    mu_id,
                    user_id,
                    timeline,
                } => {
                    self.set_part(user_id.clone(), &schedule_id, &mu_id, timeline);
                    touched.insert(user_id);
                }
                ScheduleUpdate::Deleted { schedule_id } => {
                    for (user, parts) in &mut self.parts {
                        let before = parts.len();
                        parts.retain(|((s, _), _)| **s != *schedule_id);
                        if parts.len() != before {
                            touched.insert(user.clone());
                        }
                    }
                }
            }
        }
        let now = self.wall();
        for user in touched {
            let tl = self.timeline_of(&user);
            if self.held {
                let (p, r) = self.tracker.inputs(&user);
                let (p, r) = (p.map(str::to_string), r.map(str::to_string));
                self.tracker.prime(&user, tl, p.as_deref(), r.as_deref());
                continue;
            }
            let change = self.tracker.set_timeline(&user, tl, now);
            self.emit(change, AdherenceCause::Schedule, batch);
        }
    }

    /// Boundaries that are due: re-evaluate those agents.
    pub(super) fn due(&mut self, batch: &mut Batch) {
        let now = self.wall();
        for change in self.tracker.take_due(now) {
            self.emit(Some(change), AdherenceCause::Boundary, batch);
        }
    }

    /// Re-evaluates everyone (start-up, after the store was loaded): emits what changed
    /// while the daemon was down, and nothing for agents whose state still holds.
    pub(super) fn reevaluate_all(&mut self, batch: &mut Batch) {
        let now = self.wall();
        for change in self.tracker.reevaluate_all(now) {
            self.emit(Some(change), AdherenceCause::Reconcile, batch);
        }
    }

    fn emit(&mut self, change: Option<Change>, cause: AdherenceCause, batch: &mut Batch) {
        let Some(c) = change else { return };
        let mu = &c.unit.management_unit_id;
        if self.genesys_units.contains(mu) {
            return;
        }
        if let Some(p) = &c.previous {
            self.count((mu.clone(), p.state), -1);
        }
        self.count((mu.clone(), c.now.state), 1);
        self.publish_counts();
        let first = c.previous.is_none();
        let cause = if first && self.first_start {
            AdherenceCause::Snapshot
        } else {
            cause
        };
        let silent = cause == AdherenceCause::Snapshot && !self.initial_snapshot;
        let time = rfc3339(c.at);
        let row = StoredAdherence {
            user_id: c.user_id.clone(),
            management_unit_id: mu.clone(),
            business_unit_id: c.unit.business_unit_id.clone(),
            state: c.now.state.as_str().into(),
            scheduled_category: c.now.scheduled.as_str().into(),
            scheduled_code_id: c.now.scheduled_code_id.as_deref().map(str::to_string),
            actual_category: c.now.actual.map(|a| a.as_str().into()),
            change_time: time.clone(),
            computed_by: "local".into(),
        };
        self.last.insert(c.user_id.clone(), row.clone());
        batch.changes.push(StateChange::Adherence(row));
        if silent {
            return;
        }
        let data = AdherenceChanged {
            user_id: c.user_id.clone(),
            management_unit_id: mu.clone(),
            business_unit_id: c.unit.business_unit_id.clone(),
            adherence_state: c.now.state.as_str().into(),
            impact: impact(&c.now).into(),
            scheduled_activity_category: c.now.scheduled.as_str().into(),
            scheduled_activity_code_id: c.now.scheduled_code_id.as_deref().map(str::to_string),
            actual_activity_category: c.now.actual.map(|a| a.as_str().into()),
            is_out_of_office: c.now.actual == Some(Category::TimeOff),
            system_presence: c.presence,
            routing_status: c.routing,
            adherence_change_time: time,
            previous: c.previous.map(|p| AdherenceRef {
                adherence_state: p.state.as_str().into(),
                scheduled_activity_category: p.scheduled.as_str().into(),
                actual_activity_category: p.actual.map(|a| a.as_str().into()),
            }),
            computed_by: "local".into(),
            cause,
        };
        batch
            .events
            .push(NewEvent::adherence_changed(&self.api_host, &data));
    }

    /// The state columns of `user`'s row: Genesys's last update on a Genesys unit, the
    /// local engine's state elsewhere; false when there is none yet.
    fn fill_state(&self, user: &str, mu: &str, row: &mut AgentAdherence) -> bool {
        if self.genesys_units.contains(mu) {
            let Some(last) = self.last.get(user) else {
                return false;
            };
            row.adherence_state = last.state.clone();
            row.since = last.change_time.clone();
            row.scheduled_activity_category = last.scheduled_category.clone();
            row.actual_activity_category = last.actual_category.clone();
            row.computed_by = "genesys";
            return true;
        }
        let Some((e, since, _)) = self.tracker.state(user) else {
            return false;
        };
        row.adherence_state = e.state.as_str().into();
        row.since = rfc3339(since);
        row.scheduled_activity_category = e.scheduled.as_str().into();
        row.actual_activity_category = e.actual.map(|a| a.as_str().into());
        true
    }

    fn count(&mut self, key: (String, AdherenceState), delta: i64) {
        *self.counts.entry(key).or_insert(0) += delta;
    }

    fn publish_counts(&self) {
        for ((mu, state), n) in &self.counts {
            crate::telemetry::reactor::adherence_agents(mu, state.as_str(), *n);
        }
    }

    /// Every tracked agent's row, optionally of one management unit, by unit then user.
    pub(super) fn view(&self, mu: Option<&str>) -> Vec<AgentAdherence> {
        let now = self.wall();
        let mut rows: Vec<AgentAdherence> = self
            .tracker
            .users()
            .filter_map(|u| {
                let unit = self.tracker.unit(u)?;
                if mu.is_some_and(|m| m != unit.management_unit_id) {
                    return None;
                }
                let next = self.tracker.timeline(u).and_then(|t| t.next_activity(now));
                let (presence, routing) = self.tracker.inputs(u);
                let mut row = AgentAdherence {
                    user_id: u.clone(),
                    name: self.names.get(u).cloned().unwrap_or_else(|| u.clone()),
                    management_unit_id: unit.management_unit_id.clone(),
                    business_unit_id: unit.business_unit_id.clone(),
                    adherence_state: String::new(),
                    since: String::new(),
                    scheduled_activity_category: String::new(),
                    actual_activity_category: None,
                    next_activity_category: next
                        .as_ref()
                        .map(|n| n.category.map_or("Unknown", Category::as_str).into()),
                    next_activity_start: next.map(|n| rfc3339(n.start)),
                    system_presence: presence.map(str::to_string),
                    routing_status: routing.map(str::to_string),
                    computed_by: "local",
                };
                self.fill_state(u, &unit.management_unit_id, &mut row)
                    .then_some(row)
            })
            .collect();
        rows.sort_by(|a, b| (&a.management_unit_id, &a.user_id).cmp(&(&b.management_unit_id, &b.user_id)));
        rows
    }
}
