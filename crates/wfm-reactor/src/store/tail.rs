//! The committed tail: the newest committed events, kept in memory (bounded by bytes), so
//! a sink that keeps up is served from here instead of reading back from the store what
//! the writer has just written.
//!
//! Why: on a steady stream every sink batch used to be a round trip to the reader thread
//! (a thread wake-up each way) plus a copy of every event out of SQLite, for events the
//! writer held a moment before. The tail holds consecutive sequences only; anything it
//! cannot answer (a sink behind it, a group too large to keep) is read from the store as
//! before, so what a sink receives is the same either way.

use super::OutboxEvent;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use tokio::sync::broadcast;

/// JSON bytes the tail keeps by default: a few sink batches of presence events, a small
/// fraction of the memory target.
pub const TAIL_BUDGET: usize = 1 << 20;

/// The newest committed events, consecutive by sequence, at most `budget` JSON bytes.
#[derive(Debug)]
pub struct CommittedTail {
    budget: usize,
    ring: Mutex<Ring>,
}

#[derive(Debug, Default)]
struct Ring {
    events: VecDeque<OutboxEvent>,
    bytes: usize,
}

impl CommittedTail {
    /// An empty tail keeping at most `budget` bytes of JSON.
    pub fn new(budget: usize) -> Self {
        Self {
            budget,
            ring: Mutex::new(Ring::default()),
        }
    }

    /// The JSON bytes it keeps at most.
    pub fn budget(&self) -> usize {
        self.budget
    }

    /// Appends one group's committed events (consecutive sequences, in order), dropping
    /// the oldest to stay within the budget. An event that does not follow the newest one
    /// held empties the tail first, so it never holds a gap.
    fn extend(&self, events: &[OutboxEvent]) {
        let mut ring = self.lock();
        for ev in events {
            if ring.events.back().is_some_and(|b| b.seq + 1 != ev.seq) {
                ring.clear();
            }
            ring.bytes += ev.json.len();
            ring.events.push_back(ev.clone());
            while ring.bytes > self.budget
                && let Some(old) = ring.events.pop_front()
            {
                ring.bytes -= old.json.len();
            }
        }
    }

    /// Forgets everything: the next group is not contiguous with what is held.
    fn clear(&self) {
        self.lock().clear();
    }

    /// Up to `limit` events after `after` and about `max_bytes` of JSON (at least one), or
    /// `None` when the tail does not hold `after + 1` (read the store instead).
    pub fn read(&self, after: u64, limit: usize, max_bytes: usize) -> Option<Vec<OutboxEvent>> {
        let ring = self.lock();
        let first = ring.events.front()?.seq;
        if after + 1 < first || after >= ring.events.back()?.seq {
            return None;
        }
        let start = (after + 1 - first) as usize;
        let mut out = Vec::new();
        let mut bytes = 0;
        for ev in ring.events.range(start..).take(limit.max(1)) {
            out.push(ev.clone());
            bytes += ev.json.len();
            if bytes >= max_bytes {
                break;
            }
        }
        Some(out)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Ring> {
        // A panic while holding the lock leaves a consistent ring (pushes and pops only).
        self.ring.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Ring {
    fn clear(&mut self) {
        self.events.clear();
        self.bytes = 0;
    }
}

/// One group's rendered events, kept from their insert until the commit for the live
/// feed (all of them, while it has receivers) and the tail (while within its budget).
#[derive(Debug)]
pub struct GroupEvents {
    live: bool,
    budget: usize,
    events: Vec<OutboxEvent>,
    bytes: usize,
    /// False once an event was not kept for the tail: the tail must not get this group.
    whole: bool,
}

impl GroupEvents {
    /// For a group whose live feed has receivers (`live`) and a tail of `budget` bytes.
    pub fn new(live: bool, budget: usize) -> Self {
        Self {
            live,
            budget,
            events: Vec::new(),
            bytes: 0,
            whole: true,
        }
    }

    /// Whether the live feed had receivers when the group began.
    #[cfg(test)]
    pub fn is_live(&self) -> bool {
        self.live
    }

    /// Keeps `json` (already inserted as `seq`) if the live feed or the tail wants it.
    /// Without receivers a group beyond the tail's budget keeps nothing more: a snapshot
    /// group can hold hundreds of megabytes of schedule events.
    pub fn keep(&mut self, seq: u64, id: &str, json: &str) {
        let fits = self.whole && self.bytes + json.len() <= self.budget;
        if !fits {
            self.whole = false;
        }
        if fits || self.live {
            self.bytes += json.len();
            self.events.push(OutboxEvent {
                seq,
                id: id.to_string(),
                json: Arc::from(json),
            });
        }
    }

    /// How many events are kept (a savepoint's mark).
    pub fn len(&self) -> usize {
        self.events.len()
    }

    /// True when nothing is kept.
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// Undoes the events kept after `mark` (a rolled-back request). A request that was
    /// not whole leaves the group not whole: the tail then skips it, which is safe.
    pub fn undo_to(&mut self, mark: usize) {
        for ev in self.events.drain(mark..) {
            self.bytes -= ev.json.len();
        }
    }

    /// Forgets everything (the group's transaction failed).
    pub fn discard(&mut self) {
        self.events.clear();
        self.bytes = 0;
        self.whole = true;
    }

    /// After the commit: the tail gets the group (or is emptied if the group was not
    /// kept whole), the live feed gets every event; the group starts empty again.
    pub fn publish(&mut self, tail: &CommittedTail, live: &broadcast::Sender<Arc<str>>) {
        if !self.whole {
            tail.clear();
        } else if !self.is_empty() {
            tail.extend(&self.events);
        }
        if self.live {
            for ev in &self.events {
                // No receiver is fine: the live feed is best effort by design.
                let _ = live.send(ev.json.clone());
            }
        }
        self.discard();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(seq: u64, json: &str) -> OutboxEvent {
        OutboxEvent {
            seq,
            id: format!("id-{seq}"),
            json: Arc::from(json),
        }
    }

    fn seqs(events: &[OutboxEvent]) -> Vec<u64> {
        events.iter().map(|e| e.seq).collect()
    }

    #[test]
    fn reads_what_it_holds_and_sends_the_rest_to_the_store() {
        let tail = CommittedTail::new(100);
        assert!(tail.read(0, 10, 1000).is_none(), "empty: read the store");
        tail.extend(&[ev(5, "aaaa"), ev(6, "bbbb"), ev(7, "cccc")]);
        assert_eq!(seqs(&tail.read(4, 10, 1000).unwrap()), vec![5, 6, 7]);
        assert_eq!(seqs(&tail.read(5, 10, 1000).unwrap()), vec![6, 7]);
        assert_eq!(seqs(&tail.read(5, 1, 1000).unwrap()), vec![6], "limit");
        assert_eq!(
            seqs(&tail.read(4, 10, 5).unwrap()),
            vec![5, 6],
            "bytes, at least one"
        );
        assert!(
            tail.read(3, 10, 1000).is_none(),
            "before the tail: the store has #4"
        );
        assert!(
            tail.read(7, 10, 1000).is_none(),
            "caught up: nothing held after #7"
        );
    }

    #[test]
    fn stays_within_its_budget_and_never_holds_a_gap() {
        let tail = CommittedTail::new(10);
        tail.extend(&[ev(1, "aaaa"), ev(2, "bbbb"), ev(3, "cccc")]);
        assert_eq!(seqs(&tail.read(1, 10, 1000).unwrap()), vec![2, 3], "#1 evicted");
        assert!(tail.read(0, 10, 1000).is_none());
        tail.extend(&[ev(9, "dd")]);
        assert!(tail.read(3, 10, 1000).is_none(), "#4..#8 are not held");
        assert_eq!(seqs(&tail.read(8, 10, 1000).unwrap()), vec![9]);
        tail.extend(&[ev(10, "an event larger than the budget")]);
        assert!(
            tail.read(9, 10, 1000).is_none(),
            "too big to hold: from the store"
        );
    }

    #[test]
    fn a_group_beyond_the_budget_empties_the_tail_unless_live_it_keeps_nothing_more() {
        let tail = CommittedTail::new(8);
        let (live, mut rx) = broadcast::channel(16);
        tail.extend(&[ev(1, "aa")]);
        let mut group = GroupEvents::new(false, 8);
        group.keep(2, "id-2", "bbbb");
        group.keep(3, "id-3", "ccccc");
        group.keep(4, "id-4", "d");
        assert_eq!(group.len(), 1, "after the first miss nothing more is kept");
        group.publish(&tail, &live);
        assert!(
            tail.read(1, 10, 100).is_none(),
            "the tail was emptied, not gapped"
        );
        assert!(rx.try_recv().is_err(), "no live feed was asked for");

        let mut group = GroupEvents::new(true, 8);
        group.keep(5, "id-5", "eeeeeeeee");
        group.keep(6, "id-6", "f");
        group.publish(&tail, &live);
        assert_eq!(&*rx.try_recv().unwrap(), "eeeeeeeee", "live gets everything");
        assert_eq!(&*rx.try_recv().unwrap(), "f");
        assert!(tail.read(5, 10, 100).is_none());
    }

    #[test]
    fn an_undone_request_leaves_no_event_behind() {
        let tail = CommittedTail::new(100);
        let (live, _) = broadcast::channel(16);
        let mut group = GroupEvents::new(false, 100);
        group.keep(1, "id-1", "a");
        let mark = group.len();
        group.keep(2, "id-2", "b");
        group.undo_to(mark);
        group.keep(2, "id-2b", "c");
        group.publish(&tail, &live);
        let read = tail.read(0, 10, 100).unwrap();
        assert_eq!(seqs(&read), vec![1, 2]);
        assert_eq!(&*read[1].json, "c");
        assert!(group.is_empty(), "published groups start over");
    }
}
