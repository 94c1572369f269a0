//! The schedule-event coalescer: turns bursts of payload-less schedule events into the
//! fewest fetches, one key (business unit, schedule) at a time.
//!
//! Rules (kept in the pure [`Coalescer`] so tests drive them with explicit instants):
//! - Trailing debounce with a bound: an event sets
//!   `deadline = min(now + quiet, first_event + max_wait)`, so a steady drizzle of events
//!   still produces a fetch at most `max_wait` after the first one.
//! - At most one fetch per key is in flight. An event during a fetch marks the key dirty,
//!   which buys exactly one more fetch after the current one finishes (client-go's
//!   workqueue dirty/processing trick): no update is lost, no key is fetched twice at once.
//! - A failed fetch is retried after a per-key jittered backoff ([`crate::backoff`]); an
//!   event during that backoff never pulls the retry earlier.
//!
//! The reactor owns the struct and its timer (`reactor/`).

#[cfg(test)]
mod tests;

use crate::backoff::{Backoff, BackoffPolicy};
use std::collections::{BTreeSet, HashMap};
use std::hash::Hash;
use std::time::Duration;
use tokio::time::Instant;

/// The coalescing key of a schedule event.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ScheduleKey {
    /// Business unit id.
    pub business_unit_id: String,
    /// Schedule id.
    pub schedule_id: String,
}

/// What a key is doing right now.
#[derive(Debug)]
enum State {
    /// Waiting for its deadline.
    Waiting {
        /// First event of this round: bounds the deadline by `first + max_wait`.
        first: Instant,
        /// When the fetch becomes due.
        deadline: Instant,
        /// A retry backoff floor: no event may pull the deadline before it.
        not_before: Option<Instant>,
    },
    /// A fetch is running; `dirty` holds (first, last) event seen meanwhile.
    InFlight { dirty: Option<(Instant, Instant)> },
}

#[derive(Debug)]
struct Entry {
    state: State,
    /// Present while the key is failing; dropped on success.
    backoff: Option<Backoff>,
}

/// The pure coalescing rules (no runtime, no timer).
#[derive(Debug)]
pub struct Coalescer<K> {
    quiet: Duration,
    max_wait: Duration,
    retry: BackoffPolicy,
    entries: HashMap<K, Entry>,
    deadlines: BTreeSet<(Instant, K)>,
}

/// The retry policy used unless [`Coalescer::with_retry`] says otherwise: 1 s to 5 min.
pub(crate) fn default_retry_policy() -> BackoffPolicy {
    BackoffPolicy::try_new(Duration::from_secs(1), Duration::from_secs(300), 2.0).expect("valid constant")
}

impl<K: Clone + Ord + Hash + Eq> Coalescer<K> {
    /// A coalescer with the given debounce; `max_wait` below `quiet` acts as `quiet`'s cap.
    pub fn new(quiet: Duration, max_wait: Duration) -> Self {
        Self {
            quiet,
            max_wait,
            retry: default_retry_policy(),
            entries: HashMap::new(),
            deadlines: BTreeSet::new(),
        }
    }

    /// Replaces the per-key retry backoff policy (tests use a fast one).
    #[cfg(test)]
    pub(crate) fn with_retry(mut self, retry: BackoffPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Records an event for `key` at `now`.
    pub fn offer(&mut self, key: K, now: Instant) {
        let (quiet, max_wait) = (self.quiet, self.max_wait);
        match self.entries.get_mut(&key) {
            None => {
                let deadline = now + quiet.min(max_wait);
                self.entries.insert(
                    key.clone(),
                    Entry {
                        state: State::Waiting {
                            first: now,
                            deadline,
                            not_before: None,
                        },
                        backoff: None,
                    },
                );
                self.deadlines.insert((deadline, key));
            }
            Some(entry) => match &mut entry.state {
                State::Waiting {
                    first,
                    deadline,
                    not_before,
                } => {
                    let mut next = (now + quiet).min(*first + max_wait);
                    if let Some(floor) = not_before {
                        next = next.max(*floor);
                    }
                    if next != *deadline {
                        self.deadlines.remove(&(*deadline, key.clone()));
                        *deadline = next;
                        self.deadlines.insert((next, key));
                    }
                }
                State::InFlight { dirty } => {
                    *dirty = Some(dirty.map_or((now, now), |(first, _)| (first, now)));
                }
            },
        }
    }

    /// The earliest deadline of a waiting key, if any (the task sleeps until it).
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        self.deadlines.first().map(|(at, _)| *at)
    }

    /// Every key whose deadline has passed, now marked in flight (earliest first).
    pub fn take_due(&mut self, now: Instant) -> Vec<K> {
        let mut due = Vec::new();
        while let Some((at, _)) = self.deadlines.first() {
            if *at > now {
                break;
            }
            let (_, key) = self.deadlines.pop_first().expect("first exists");
            if let Some(entry) = self.entries.get_mut(&key) {
                entry.state = State::InFlight { dirty: None };
            }
            due.push(key);
        }
        due
    }

    /// Reports the end of a fetch of `key` started by [`take_due`](Self::take_due).
    /// Returns false (and changes nothing) when the key was not in flight.
    pub fn finished(&mut self, key: &K, now: Instant, ok: bool) -> bool {
        let Some(entry) = self.entries.get_mut(key) else {
            return false;
        };
        let State::InFlight { dirty } = entry.state else {
            return false;
        };
        if !ok {
            let delay = entry
                .backoff
                .get_or_insert_with(|| self.retry.start())
                .next_delay();
            let at = now + delay;
            entry.state = State::Waiting {
                first: now,
                deadline: at,
                not_before: Some(at),
            };
            self.deadlines.insert((at, key.clone()));
            return true;
        }
        match dirty {
            None => {
                self.entries.remove(key);
            }
            Some((first, last)) => {
                entry.backoff = None;
                let deadline = (last + self.quiet).min(first + self.max_wait).max(now);
                entry.state = State::Waiting {
                    first,
                    deadline,
                    not_before: None,
                };
                self.deadlines.insert((deadline, key.clone()));
            }
        }
        true
    }

    /// Every key with work not yet done: waiting, retrying or in flight. Persist these
    /// as dirty at shutdown so the next start fetches them again.
    pub(crate) fn pending_keys(&self) -> Vec<K> {
        let mut keys: Vec<K> = self.entries.keys().cloned().collect();
        keys.sort();
        keys
    }

    /// True when `key` has a fetch in flight.
    #[cfg(test)]
    pub(crate) fn is_in_flight(&self, key: &K) -> bool {
        matches!(
            self.entries.get(key),
            Some(Entry {
                state: State::InFlight { .. },
                ..
            })
        )
    }

    /// Number of keys tracked (waiting or in flight).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when nothing is pending.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}
