//! Commit linger: the rule that groups a busy stream's presence decisions into one commit
//! per interval, while a quiet stream's decisions are committed at once.
//!
//! Each commit costs a store transaction, a wake-up of the writer, one sink delivery and
//! one cursor write, whatever it holds. At 1,000 notifications/s that fixed cost, paid per
//! notification, was most of the daemon's CPU. So after a commit, decisions made within
//! `interval` of it wait until the interval is over and go together; a decision made
//! after a longer quiet is committed immediately. The added latency is at most `interval`.

use std::time::Duration;
use tokio::time::Instant;

/// When the reactor may commit what it decided (pure: instants passed in).
#[derive(Debug)]
pub(super) struct Linger {
    interval: Duration,
    last_flush: Option<Instant>,
    until: Option<Instant>,
}

impl Linger {
    /// A linger of `interval` (`ZERO`: every decision is committed at once).
    pub(super) fn new(interval: Duration) -> Self {
        Self {
            interval,
            last_flush: None,
            until: None,
        }
    }

    /// The instant the current linger ends, while one is running.
    pub(super) fn until(&self) -> Option<Instant> {
        self.until
    }

    /// Whether to commit now, given whether decisions are pending. `false` starts (or
    /// continues) a linger; `true` means flush, and counts as the last flush when
    /// something was pending.
    pub(super) fn may_flush(&mut self, pending: bool, now: Instant) -> bool {
        if !pending {
            self.until = None;
            return true;
        }
        let due = self
            .last_flush
            .map_or(now, |last| last + self.interval)
            .max(self.until.unwrap_or(now));
        if now < due {
            self.until = Some(due);
            return false;
        }
        self.until = None;
        self.last_flush = Some(now);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn a_quiet_stream_commits_at_once_and_a_busy_one_waits_for_the_interval() {
        let t0 = Instant::now();
        let mut l = Linger::new(3 * MS);
        assert!(l.may_flush(true, t0), "first decision: no recent commit");
        assert!(!l.may_flush(true, t0 + MS), "1 ms after a commit: linger");
        assert_eq!(l.until(), Some(t0 + 3 * MS));
        assert!(!l.may_flush(true, t0 + 2 * MS), "still within the interval");
        assert!(l.may_flush(true, t0 + 3 * MS), "interval over: commit");
        assert_eq!(l.until(), None);
        assert!(l.may_flush(true, t0 + 10 * MS), "after a quiet: at once");
        assert!(l.may_flush(false, t0 + 11 * MS), "nothing pending: nothing held");
        assert_eq!(l.until(), None);
    }

    #[test]
    fn zero_interval_never_lingers() {
        let t0 = Instant::now();
        let mut l = Linger::new(Duration::ZERO);
        for i in 0..5 {
            assert!(l.may_flush(true, t0 + i * MS / 10));
        }
    }

    proptest! {
        /// Whatever the arrival pattern: commits are at least `interval` apart, and no
        /// decision waits longer than `interval` past its arrival (given the reactor is
        /// woken at `until`).
        #[test]
        fn commits_are_spaced_and_no_decision_waits_beyond_the_interval(
            gaps in proptest::collection::vec(0u64..6_000, 1..200),
            interval_us in 0u64..5_000,
        ) {
            let interval = Duration::from_micros(interval_us);
            let t0 = Instant::now();
            let mut l = Linger::new(interval);
            let (mut now, mut oldest, mut last): (Instant, Option<Instant>, Option<Instant>) = (t0, None, None);
            for gap in gaps {
                let arrival = now + Duration::from_micros(gap);
                // The reactor wakes at the linger's end if that comes before the arrival.
                if let Some(until) = l.until().filter(|u| *u <= arrival) {
                    prop_assert!(l.may_flush(true, until));
                    prop_assert!(until - oldest.take().unwrap() <= interval);
                    if let Some(prev) = last { prop_assert!(until - prev >= interval); }
                    last = Some(until);
                }
                now = arrival;
                oldest.get_or_insert(now);
                if l.may_flush(true, now) {
                    if let Some(prev) = last { prop_assert!(now - prev >= interval); }
                    last = Some(now);
                    oldest = None;
                }
            }
        }
    }
}
