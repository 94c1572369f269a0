//! What is known about a schedule key before its fetch: the hint (merged as events
//! coalesce) and the versions announced while the fetch runs.

use crate::events::Cause;
use crate::genesys::wfm::BuScheduleMetadata;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicI64, Ordering};

/// Why a key is being fetched (the strongest reason wins when hints merge).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum HintCause {
    /// Reconcile (start, gap, timer, resync, dirty key).
    Reconcile,
    /// First start with an empty store (wins over reconcile: the baseline is not there yet).
    Snapshot,
    /// A live notification.
    Notification,
}

impl HintCause {
    /// The `cause` field of the events this fetch emits.
    pub(super) fn event_cause(self) -> Cause {
        match self {
            HintCause::Snapshot => Cause::Snapshot,
            HintCause::Reconcile => Cause::Reconcile,
            HintCause::Notification => Cause::Notification,
        }
    }
}

/// What is already known about a key before fetching (from events or the schedule list).
#[derive(Debug, Clone)]
pub struct Hint {
    /// Why.
    pub cause: HintCause,
    /// The operation of the latest notification.
    pub operation_id: Option<String>,
    /// Week start (`yyyy-MM-dd`).
    pub week_date: Option<String>,
    /// Weeks covered.
    pub week_count: Option<u32>,
    /// Published flag.
    pub published: Option<bool>,
    /// `metadata.version` announced.
    pub version: Option<i64>,
    /// Changed management units (empty: unknown, fetch every one).
    pub management_units: BTreeSet<String>,
    /// The schedule was deleted.
    pub deleted: bool,
    /// `agentCount` per changed management unit, as the notification gave it (summed over
    /// merged notifications): a narrowing must name at least that many agents.
    pub agent_counts: BTreeMap<String, i64>,
    /// Per management unit, the only agents to fetch (from `agentschedules.changed`,
    /// matched when the fetch starts: [`super::narrowing`]); a unit not here is fetched whole.
    pub narrow: BTreeMap<String, BTreeSet<String>>,
}

impl Hint {
    /// A hint for a reconcile-found key (nothing known but maybe the list item).
    pub fn reconcile(week_date: Option<String>) -> Self {
        Self {
            cause: HintCause::Reconcile,
            operation_id: None,
            week_date,
            week_count: None,
            published: None,
            version: None,
            management_units: BTreeSet::new(),
            deleted: false,
            agent_counts: BTreeMap::new(),
            narrow: BTreeMap::new(),
        }
    }

    /// Folds a later hint into this one: newest facts win, management units accumulate
    /// (an empty set means "all", which absorbs everything).
    pub fn merge(&mut self, later: &Hint) {
        let all = self.management_units.is_empty() || later.management_units.is_empty();
        self.management_units
            .extend(later.management_units.iter().cloned());
        if all {
            self.management_units.clear();
        }
        self.cause = self.cause.max(later.cause);
        self.operation_id = later.operation_id.clone().or(self.operation_id.take());
        self.week_date = later.week_date.clone().or(self.week_date.take());
        self.week_count = later.week_count.or(self.week_count);
        self.published = later.published.or(self.published);
        self.version = match (self.version, later.version) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => b.or(a),
        };
        self.deleted = later.deleted || (self.deleted && later.cause != HintCause::Notification);
        for (mu, n) in &later.agent_counts {
            *self.agent_counts.entry(mu.clone()).or_default() += n;
        }
        // decided again when the fetch starts
        self.narrow.clear();
    }

    /// Fills what is still unknown from the schedule's metadata.
    pub(super) fn complete_from(&mut self, meta: &BuScheduleMetadata) {
        self.version = self.version.or(meta.metadata.as_ref().and_then(|m| m.version));
        self.published = self.published.or(meta.published);
        self.week_count = self.week_count.or(meta.week_count.map(|c| c as u32));
        if self.management_units.is_empty() {
            self.management_units = meta
                .management_units
                .iter()
                .filter_map(|m| m.management_unit.as_ref()?.id.clone())
                .collect();
        }
    }
}

/// The newest `metadata.version` announced for a key (by a notification or a reconcile
/// listing) while its fetch runs; see [`super::schedule::fetch_and_commit`] for how it labels events.
#[derive(Debug)]
pub struct Announced(AtomicI64);

impl Default for Announced {
    fn default() -> Self {
        Self(AtomicI64::new(i64::MIN))
    }
}

impl Announced {
    /// Records that `version` was announced (keeps the highest).
    pub fn raise(&self, version: i64) {
        self.0.fetch_max(version, Ordering::AcqRel);
    }

    /// The highest version announced so far, if any.
    pub fn get(&self) -> Option<i64> {
        Some(self.0.load(Ordering::Acquire)).filter(|v| *v != i64::MIN)
    }
}
