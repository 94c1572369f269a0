//! Coalescer rules with explicit instants, and their properties.

use super::*;
use proptest::prelude::*;
use std::collections::HashSet;

const QUIET: Duration = Duration::from_millis(2000);
const MAX_WAIT: Duration = Duration::from_millis(10_000);

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn fast_retry() -> BackoffPolicy {
    BackoffPolicy::try_new(ms(1000), ms(4000), 2.0).unwrap()
}

#[test]
fn trailing_debounce_fires_quiet_after_last_event() {
    let t0 = Instant::now();
    let mut c = Coalescer::new(QUIET, MAX_WAIT);
    c.offer("k", t0);
    c.offer("k", t0 + ms(1500));
    assert_eq!(c.next_deadline(), Some(t0 + ms(3500)));
    assert!(c.take_due(t0 + ms(3499)).is_empty());
    assert_eq!(c.take_due(t0 + ms(3500)), vec!["k"]);
    assert!(c.is_in_flight(&"k"));
    assert_eq!(c.next_deadline(), None);
}

#[test]
fn max_wait_bounds_a_steady_drizzle() {
    let t0 = Instant::now();
    let mut c = Coalescer::new(QUIET, MAX_WAIT);
    for i in 0..20 {
        c.offer("k", t0 + ms(i * 1000));
    }
    assert_eq!(c.next_deadline(), Some(t0 + MAX_WAIT));
}

#[test]
fn event_during_fetch_buys_exactly_one_more_fetch() {
    let t0 = Instant::now();
    let mut c = Coalescer::new(QUIET, MAX_WAIT);
    c.offer("k", t0);
    assert_eq!(c.take_due(t0 + QUIET), vec!["k"]);
    c.offer("k", t0 + ms(2100));
    c.offer("k", t0 + ms(2200));
    // still in flight: nothing due however late
    assert!(c.take_due(t0 + ms(60_000)).is_empty());
    assert!(c.finished(&"k", t0 + ms(5000), true));
    // last dirty event + quiet already passed: due immediately after the fetch
    assert_eq!(c.next_deadline(), Some(t0 + ms(5000)));
    assert_eq!(c.take_due(t0 + ms(5000)), vec!["k"]);
    assert!(c.finished(&"k", t0 + ms(6000), true));
    assert!(c.is_empty());
    assert!(!c.finished(&"k", t0 + ms(6000), true), "not in flight any more");
}

#[test]
fn failure_backs_off_and_events_do_not_pull_the_retry_earlier() {
    let t0 = Instant::now();
    let mut c = Coalescer::new(ms(100), ms(500)).with_retry(fast_retry());
    c.offer("k", t0);
    assert_eq!(c.take_due(t0 + ms(100)), vec!["k"]);
    c.finished(&"k", t0 + ms(200), false);
    let retry_at = c.next_deadline().unwrap();
    let delay = retry_at - (t0 + ms(200));
    assert!(delay >= ms(500) && delay <= ms(1000), "{delay:?}");
    c.offer("k", t0 + ms(250));
    assert_eq!(c.next_deadline(), Some(retry_at));
    assert_eq!(c.pending_keys(), vec!["k"]);
    assert_eq!(c.take_due(retry_at), vec!["k"]);
    c.finished(&"k", retry_at, false);
    let second = c.next_deadline().unwrap() - retry_at;
    assert!(second >= ms(1000) && second <= ms(2000), "grows: {second:?}");
}

#[test]
fn success_resets_the_backoff() {
    let t0 = Instant::now();
    let mut c = Coalescer::new(ms(100), ms(500)).with_retry(fast_retry());
    c.offer("k", t0);
    c.take_due(t0 + ms(100));
    c.finished(&"k", t0 + ms(100), false);
    let at = c.next_deadline().unwrap();
    c.take_due(at);
    c.finished(&"k", at, true);
    assert!(c.is_empty());
    c.offer("k", at + ms(1));
    c.take_due(at + ms(101));
    c.finished(&"k", at + ms(101), false);
    let d = c.next_deadline().unwrap() - (at + ms(101));
    assert!(d <= ms(1000), "first delay again: {d:?}");
}

#[test]
fn keys_are_independent_and_listed_pending() {
    let t0 = Instant::now();
    let mut c = Coalescer::new(QUIET, MAX_WAIT);
    c.offer("a", t0);
    c.offer("b", t0 + ms(1000));
    assert_eq!(c.take_due(t0 + QUIET), vec!["a"]);
    assert_eq!(c.pending_keys(), vec!["a", "b"]);
    assert_eq!(c.take_due(t0 + ms(3000)), vec!["b"]);
}

#[derive(Debug, Clone)]
enum Op {
    Offer { key: u8, after: u64 },
    Finish { pick: usize, ok: bool, after: u64 },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0u8..4, 0u64..3000).prop_map(|(key, after)| Op::Offer { key, after }),
        1 => (0usize..8, prop::bool::weighted(0.8), 0u64..3000)
            .prop_map(|(pick, ok, after)| Op::Finish { pick, ok, after }),
    ]
}

/// (key, instant, sequence number).
type Stamp = (u8, Instant, usize);

/// Runs ops, taking due keys exactly at their deadlines; returns (events, fetch starts)
/// as (key, time, sequence number) so order at equal instants is known.
fn simulate(ops: &[Op], all_ok: bool) -> Result<(Vec<Stamp>, Vec<Stamp>), TestCaseError> {
    let t0 = Instant::now();
    let mut c = Coalescer::new(ms(1000), ms(4000)).with_retry(fast_retry());
    let (mut now, mut seq) = (t0, 0usize);
    let mut in_flight: Vec<u8> = Vec::new();
    let (mut events, mut fetches) = (Vec::new(), Vec::new());
    let advance = |c: &mut Coalescer<u8>,
                   to: Instant,
                   in_flight: &mut Vec<u8>,
                   seq: &mut usize,
                   fetches: &mut Vec<_>|
     -> Result<(), TestCaseError> {
        while let Some(d) = c.next_deadline().filter(|d| *d <= to) {
            for k in c.take_due(d) {
                prop_assert!(!in_flight.contains(&k), "key {} fetched twice at once", k);
                in_flight.push(k);
                *seq += 1;
                fetches.push((k, d, *seq));
            }
        }
        Ok(())
    };
    for op in ops {
        match *op {
            Op::Offer { key, after } => {
                now += ms(after);
                advance(&mut c, now, &mut in_flight, &mut seq, &mut fetches)?;
                c.offer(key, now);
                seq += 1;
                events.push((key, now, seq));
            }
            Op::Finish { pick, ok, after } => {
                now += ms(after);
                advance(&mut c, now, &mut in_flight, &mut seq, &mut fetches)?;
                if !in_flight.is_empty() {
                    let k = in_flight.remove(pick % in_flight.len());
                    prop_assert!(c.finished(&k, now, ok || all_ok));
                }
            }
        }
    }
    // drain: finish everything successfully until idle
    for _ in 0..1000 {
        if c.is_empty() {
            break;
        }
        for k in in_flight.drain(..) {
            c.finished(&k, now, true);
        }
        if let Some(d) = c.next_deadline() {
            now = now.max(d);
            advance(&mut c, now, &mut in_flight, &mut seq, &mut fetches)?;
        }
    }
    prop_assert!(c.is_empty(), "drained");
    Ok((events, fetches))
}

proptest! {
    #[test]
    fn every_event_is_followed_by_a_fetch_and_none_overlap(ops in prop::collection::vec(op(), 1..60)) {
        let (events, fetches) = simulate(&ops, false)?;
        for (key, _, s) in &events {
            prop_assert!(fetches.iter().any(|(k, _, fs)| k == key && fs > s), "event {key} seq {s} lost");
        }
    }

    #[test]
    fn first_fetch_no_later_than_max_wait(ops in prop::collection::vec(op(), 1..60)) {
        let (events, fetches) = simulate(&ops, true)?;
        let mut seen = HashSet::new();
        for (key, at, s) in &events {
            if seen.insert(*key) {
                let first = fetches.iter().find(|(k, _, fs)| k == key && fs > s).unwrap();
                prop_assert!(first.1 <= *at + ms(4000), "first fetch too late");
                prop_assert!(first.1 >= *at);
            }
        }
    }

    #[test]
    fn a_burst_gives_one_fetch(n in 1usize..200, gap in 0u64..900) {
        let t0 = Instant::now();
        let mut c = Coalescer::new(ms(1000), ms(1_000_000));
        let mut now = t0;
        let mut fetched = 0;
        for _ in 0..n {
            fetched += c.take_due(now).len();
            c.offer(7u8, now);
            now += ms(gap);
        }
        let d = c.next_deadline().unwrap();
        fetched += c.take_due(d).len();
        prop_assert_eq!(fetched, 1);
    }
}
