//! Narrowing a schedule fetch to the agents `agentschedules.changed` named.
//!
//! The business-unit `Complete` says which schedule and which management units changed,
//! never which agents; the unit topic `v2.workforcemanagement.managementunits.{id}.
//! agentschedules.changed` says which agents, over which range, but names no schedule.
//! Asking only for those agents (`userIds` in the agent-schedules query) reads a few
//! agents instead of the whole unit for the same change.
//!
//! The business-unit topic's guarantee must not weaken, so a unit is narrowed only when
//! the match is positive, and fetched whole otherwise:
//! - the notification is live (`cause` notification) and names the unit;
//! - hints for the unit arrived within the last `window` (the debounce's `quiet +
//!   max_wait`, the longest a key waits) and their range overlaps the schedule's weeks
//!   (a hint without a range counts as overlapping: more agents is never wrong);
//! - the notification's `agentCount` for the unit, when given, is no more than the agents
//!   named;
//! - no gap since the hints arrived (a gap clears them: one may have been lost).
//!
//! Held hints are not consumed (two schedules over the same weeks may share them), so a
//! narrowing is a union, a superset of the agents each hint named. A narrowed fetch never
//! advances the stored version (it names units, so it is partial already), so a change
//! that a narrowing missed anyway (another schedule's hint matching while this one's is
//! still on its way) is found by the next reconcile's version check.

use super::hint::Hint;
use crate::genesys::notifications_wfm::AgentMuScheduleChanged;
use chrono::{DateTime, Duration as Days, NaiveDate, Utc};
use std::collections::{BTreeSet, HashMap};
use tokio::time::{Duration, Instant};

/// Most agents held per unit (a hint beyond it is dropped, and its unit fetched whole).
const MAX_HELD: usize = 10_000;

/// One named agent.
#[derive(Debug, Clone)]
struct Held {
    agent: String,
    start: Option<DateTime<Utc>>,
    end: Option<DateTime<Utc>>,
    at: Instant,
}

/// Hints per management unit, kept for `window`.
#[derive(Debug)]
pub struct Narrowing {
    window: Duration,
    held: HashMap<String, Vec<Held>>,
    /// Units whose hints overflowed: fetched whole until their hints expire.
    overflowed: HashMap<String, Instant>,
}

impl Narrowing {
    /// Hints live for `window`.
    pub fn new(window: Duration) -> Self {
        Self {
            window,
            held: HashMap::new(),
            overflowed: HashMap::new(),
        }
    }

    /// A hint for `mu` arrived at `now`.
    pub fn record(&mut self, mu: &str, changed: &AgentMuScheduleChanged, now: Instant) {
        self.expire(now);
        let held = self.held.entry(mu.to_string()).or_default();
        for a in &changed.agents {
            let Some(agent) = a.agent() else {
                crate::telemetry::reactor::update_skipped("agent_schedules", "no_agent");
                continue;
            };
            if held.len() >= MAX_HELD {
                self.overflowed.insert(mu.to_string(), now);
                break;
            }
            held.push(Held {
                agent: agent.to_string(),
                start: a.start_date,
                end: a.end_date,
                at: now,
            });
        }
    }

    /// A gap: any hint may have been lost, so none is trusted.
    pub fn clear(&mut self) {
        self.held.clear();
        self.overflowed.clear();
    }

    fn expire(&mut self, now: Instant) {
        let window = self.window;
        let fresh = |at: Instant| now.saturating_duration_since(at) <= window;
        for held in self.held.values_mut() {
            held.retain(|h| fresh(h.at));
        }
        self.held.retain(|_, h| !h.is_empty());
        self.overflowed.retain(|_, at| fresh(*at));
    }

    /// Sets `hint.narrow` for a fetch starting at `now`: per unit the named agents whose
    /// hints match (module doc); units without a positive match are left out (whole).
    pub fn narrow(&mut self, hint: &mut Hint, now: Instant) {
        hint.narrow.clear();
        self.expire(now);
        let live = hint.cause == super::hint::HintCause::Notification && !hint.deleted;
        let Some(weeks) = weeks(hint).filter(|_| live) else {
            return;
        };
        for mu in &hint.management_units {
            if self.overflowed.contains_key(mu) {
                continue;
            }
            let agents: BTreeSet<String> = self
                .held
                .get(mu)
                .into_iter()
                .flatten()
                .filter(|h| overlaps(h, weeks))
                .map(|h| h.agent.clone())
                .collect();
            let enough = hint
                .agent_counts
                .get(mu)
                .is_none_or(|&n| n <= agents.len() as i64);
            if !agents.is_empty() && enough {
                hint.narrow.insert(mu.clone(), agents);
            }
        }
    }
}

/// The schedule's range `[weekDate, weekDate + weekCount weeks)`, midnight UTC widened by
/// a day each side (business-unit time zones).
fn weeks(hint: &Hint) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    let date = NaiveDate::parse_from_str(hint.week_date.as_deref()?, "%Y-%m-%d").ok()?;
    let start = date.and_hms_opt(0, 0, 0)?.and_utc() - Days::days(1);
    let weeks = i64::from(hint.week_count.unwrap_or(1).clamp(1, 520));
    Some((start, start + Days::weeks(weeks) + Days::days(2)))
}

fn overlaps(h: &Held, (start, end): (DateTime<Utc>, DateTime<Utc>)) -> bool {
    h.start.is_none_or(|s| s < end) && h.end.is_none_or(|e| e > start)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::genesys::notifications_wfm::AgentScheduleChange;

    fn changed(agents: &[&str], start: &str) -> AgentMuScheduleChanged {
        let t = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        AgentMuScheduleChanged {
            agents: agents
                .iter()
                .map(|a| AgentScheduleChange {
                    agent_id: Some(a.to_string()),
                    start_date: Some(t(start)),
                    end_date: Some(t(start) + Days::days(7)),
                    ..Default::default()
                })
                .collect(),
        }
    }

    fn notification(mu: &str, count: Option<i64>) -> Hint {
        let mut h = Hint::reconcile(Some("2026-08-10".into()));
        h.cause = super::super::hint::HintCause::Notification;
        h.management_units.insert(mu.into());
        if let Some(n) = count {
            h.agent_counts.insert(mu.into(), n);
        }
        h
    }

    #[tokio::test(start_paused = true)]
    async fn a_matching_hint_narrows_and_anything_doubtful_fetches_whole() {
        let mut n = Narrowing::new(Duration::from_secs(12));
        let now = Instant::now();
        n.record("mu", &changed(&["a1"], "2026-08-10T00:00:00Z"), now);
        n.record("other", &changed(&["b1"], "2026-08-10T00:00:00Z"), now);
        let mut h = notification("mu", Some(1));
        n.narrow(&mut h, now);
        assert_eq!(h.narrow["mu"], BTreeSet::from(["a1".to_string()]));
        // more agents changed than named: whole
        let mut h = notification("mu", Some(2));
        n.narrow(&mut h, now);
        assert!(h.narrow.is_empty());
        // another week: whole
        n.record("mu2", &changed(&["c1"], "2026-09-07T00:00:00Z"), now);
        let mut h = notification("mu2", None);
        n.narrow(&mut h, now);
        assert!(h.narrow.is_empty());
        // a reconcile never narrows
        let mut h = notification("mu", None);
        h.cause = super::super::hint::HintCause::Reconcile;
        n.narrow(&mut h, now);
        assert!(h.narrow.is_empty());
        // expired
        let mut h = notification("mu", None);
        n.narrow(&mut h, now + Duration::from_secs(13));
        assert!(h.narrow.is_empty());
    }

    #[tokio::test(start_paused = true)]
    async fn a_gap_clears_every_hint() {
        let mut n = Narrowing::new(Duration::from_secs(12));
        let now = Instant::now();
        n.record("mu", &changed(&["a1"], "2026-08-10T00:00:00Z"), now);
        n.clear();
        let mut h = notification("mu", None);
        n.narrow(&mut h, now);
        assert!(h.narrow.is_empty());
    }
}
