//! The rate budget in paused time: window bound, concurrency bound, global 429 pause.

use super::*;
use std::sync::atomic::{AtomicUsize, Ordering};

#[tokio::test(start_paused = true)]
async fn never_more_than_the_budget_per_window() {
    let budget = RateBudget::new(60, 4);
    let start = Instant::now();
    let mut stamps = Vec::new();
    for _ in 0..130 {
        let _p = budget.acquire().await;
        stamps.push(start.elapsed());
    }
    // burst of 4 at once, then one a second
    assert!(stamps[3] < Duration::from_millis(1));
    assert!(stamps[4] >= Duration::from_millis(999));
    for w in 0..120 {
        let from = Duration::from_secs(w);
        let to = from + Duration::from_secs(60);
        let n = stamps.iter().filter(|t| **t >= from && **t < to).count();
        assert!(n <= 60, "window starting {w}s had {n}");
    }
    let last = *stamps.last().unwrap();
    assert!(
        last >= Duration::from_secs(125),
        "130 permits at 1/s after a burst of 4: {last:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn concurrency_is_bounded() {
    let budget = RateBudget::new(6000, 3);
    let live = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..12 {
        let (b, live, peak) = (budget.clone(), live.clone(), peak.clone());
        tasks.push(tokio::spawn(async move {
            let _p = b.acquire().await;
            let now = live.fetch_add(1, Ordering::SeqCst) + 1;
            peak.fetch_max(now, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(100)).await;
            live.fetch_sub(1, Ordering::SeqCst);
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(peak.load(Ordering::SeqCst), 3);
}

#[tokio::test(start_paused = true)]
async fn a_pause_blocks_every_caller_until_it_ends() {
    let budget = RateBudget::new(6000, 8);
    let start = Instant::now();
    budget.pause_for(Duration::from_secs(3));
    budget.pause_for(Duration::from_secs(1)); // never shortens
    assert_eq!(budget.paused_until(), Some(start + Duration::from_secs(3)));
    let mut tasks = Vec::new();
    for _ in 0..5 {
        let b = budget.clone();
        tasks.push(tokio::spawn(async move {
            let _p = b.acquire().await;
            Instant::now()
        }));
    }
    for t in tasks {
        let got = t.await.unwrap();
        assert!(got >= start + Duration::from_secs(3), "acquired during the pause");
    }
    assert_eq!(budget.paused_until(), None);
}

#[tokio::test(start_paused = true)]
async fn unmetered_permits_spend_no_tokens_but_hold_a_slot() {
    let budget = RateBudget::new(60, 2);
    let start = Instant::now();
    // Many downloads back to back: no token wait at all.
    for _ in 0..50 {
        let _p = budget.acquire_unmetered().await;
    }
    assert_eq!(start.elapsed(), Duration::ZERO);
    // The burst of 2 metered tokens is still intact after them.
    let _a = budget.acquire().await;
    drop(_a);
    let _b = budget.acquire().await;
    assert!(start.elapsed() < Duration::from_millis(1));
    // While two slots are held, an unmetered permit waits for one (concurrency still bounds).
    let held = budget.acquire_unmetered().await;
    let waiter = tokio::spawn({
        let b = budget.clone();
        async move { b.acquire_unmetered().await }
    });
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(!waiter.is_finished(), "a third permit must wait for a free slot");
    drop(held);
    let _c = waiter.await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_large_burst_goes_at_once_and_still_keeps_every_window_within_the_minute() {
    // 240/min with a burst of 60: 60 at once, then refilled at 180/min.
    let budget = RateBudget::with_burst(240, 64, 60);
    let start = Instant::now();
    let mut stamps = Vec::new();
    for _ in 0..600 {
        let _p = budget.acquire().await;
        stamps.push(start.elapsed());
    }
    assert!(stamps[59] < Duration::from_millis(1), "the burst of 60 waits");
    assert!(stamps[60] > Duration::from_millis(300), "the 61st is not paced");
    for w in 0..170 {
        let from = Duration::from_secs(w);
        let to = from + Duration::from_secs(60);
        let n = stamps.iter().filter(|t| **t >= from && **t < to).count();
        assert!(n <= 240, "window starting {w}s had {n}");
    }
}

#[test]
fn the_default_burst_is_a_quarter_of_the_minute_but_at_least_the_slots() {
    assert_eq!(default_burst(240, 4), 60);
    assert_eq!(default_burst(20, 8), 8);
    assert_eq!(default_burst(3, 8), 3);
    assert_eq!(default_burst(1, 1), 1);
}

#[tokio::test(start_paused = true)]
async fn a_token_only_acquisition_needs_no_slot_but_spends_the_bucket() {
    let budget = RateBudget::with_burst(60, 1, 2);
    let start = Instant::now();
    let _held = budget.acquire().await; // the only slot, and one of the two tokens
    budget.acquire_token().await; // no slot needed: goes at once with the second token
    assert_eq!(start.elapsed(), Duration::ZERO);
    budget.acquire_token().await; // the bucket is empty: waits for the refill
    assert!(
        start.elapsed() >= Duration::from_millis(900),
        "{:?}",
        start.elapsed()
    );
}

#[tokio::test(start_paused = true)]
async fn available_counts_whole_tokens_refilled_and_none_while_paused() {
    // 120/min with a burst of 30: refill (120 - 30)/60 = 1.5 tokens a second.
    let budget = RateBudget::with_burst(120, 4, 30);
    assert_eq!(budget.available(), 30);
    for _ in 0..30 {
        budget.acquire_token().await;
    }
    assert_eq!(budget.available(), 0);
    tokio::time::advance(Duration::from_secs(2)).await;
    assert_eq!(budget.available(), 3);
    budget.pause_for(Duration::from_secs(5));
    assert_eq!(budget.available(), 0, "a paused budget lets nothing start");
    tokio::time::advance(Duration::from_secs(60)).await;
    assert_eq!(budget.available(), 30, "never above the burst");
}
