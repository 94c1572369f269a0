//! The one REST rate budget shared by every call: a token bucket at
//! `fetch.requests_per_minute`, at most `fetch.concurrency` requests in flight, and a
//! global pause after a 429.
//!
//! The platform limit is per token, not per route (spec §5.1), so a 429 on any route
//! means every caller must hold off: [`RateBudget::pause_for`] blocks every future
//! acquisition until `Retry-After` has passed, never sooner. The bucket's burst (by
//! default a quarter of the minute) is taken out of the refill, so no 60 s window ever
//! holds more than `requests_per_minute`: simultaneous schedule changes are fetched
//! together, yet a reconcile cannot spend more than the minute's budget.

use crate::config::FetchConfig;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::{Instant, sleep_until};

/// Cheap-to-clone handle to the shared budget.
#[derive(Debug, Clone)]
pub struct RateBudget {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    slots: Arc<Semaphore>,
    per_sec: f64,
    burst: f64,
    bucket: Mutex<Bucket>,
}

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    refilled: Instant,
    paused_until: Option<Instant>,
}

/// The right to send one request; the concurrency slot is freed on drop.
#[derive(Debug)]
pub struct Permit {
    _slot: OwnedSemaphorePermit,
}

impl RateBudget {
    /// The budget `[fetch]` configures: `burst` if set, else [`default_burst`].
    pub(crate) fn from_config(f: &FetchConfig) -> Self {
        let burst = f
            .burst
            .unwrap_or_else(|| default_burst(f.requests_per_minute, f.concurrency));
        Self::with_burst(f.requests_per_minute, f.concurrency, burst)
    }

    /// `requests_per_minute` (at least 1) with `concurrency` (at least 1) in flight and a
    /// burst of one request per concurrency slot.
    pub fn new(requests_per_minute: u32, concurrency: usize) -> Self {
        let slots = u32::try_from(concurrency).unwrap_or(u32::MAX);
        Self::with_burst(requests_per_minute, concurrency, slots)
    }

    /// As [`RateBudget::new`] with `burst` requests (clamped to 1..=rpm) allowed at once,
    /// taken out of the minute's refill.
    pub(crate) fn with_burst(requests_per_minute: u32, concurrency: usize, burst: u32) -> Self {
        let rpm = requests_per_minute.max(1);
        let concurrency = concurrency.max(1);
        let burst = f64::from(burst.clamp(1, rpm));
        Self {
            inner: Arc::new(Inner {
                slots: Arc::new(Semaphore::new(concurrency)),
                // The bucket starts full and may hand out `burst` at once on top of its
                // refill, so refill at `rpm - burst` a minute: then no sliding 60 s window
                // ever holds more than `rpm` requests (measured by the load bench).
                per_sec: (rpm as f64 - burst).max(1.0) / 60.0,
                burst,
                bucket: Mutex::new(Bucket {
                    tokens: burst,
                    refilled: Instant::now(),
                    paused_until: None,
                }),
            }),
        }
    }

    /// Waits for a concurrency slot, the end of any pause, and a token, in that order.
    pub async fn acquire(&self) -> Permit {
        let started = Instant::now();
        let slot = self
            .inner
            .slots
            .clone()
            .acquire_owned()
            .await
            .expect("the semaphore is never closed");
        self.take_token().await;
        crate::telemetry::rest::budget_waited(started.elapsed());
        Permit { _slot: slot }
    }

    /// Waits for the end of any pause and a token, without a concurrency slot: for the
    /// notifications API, whose few calls count against the same per-token limit but must
    /// not queue behind slow schedule downloads holding every slot.
    pub async fn acquire_token(&self) {
        let started = Instant::now();
        self.take_token().await;
        crate::telemetry::rest::budget_waited(started.elapsed());
    }

    /// Waits out any pause, then takes one token (waiting for the refill if needed).
    async fn take_token(&self) {
        loop {
            let wait_until = {
                let mut b = self.inner.bucket.lock().expect("budget lock");
                let now = Instant::now();
                match b.paused_until {
                    Some(until) if until > now => Some(until),
                    _ => {
                        let elapsed = now.saturating_duration_since(b.refilled).as_secs_f64();
                        b.tokens = (b.tokens + elapsed * self.inner.per_sec).min(self.inner.burst);
                        b.refilled = now;
                        // The epsilon: after sleeping exactly the computed wait, float
                        // rounding can leave 0.999…; without it that rounds to a 0 ns wait
                        // and the loop spins (seen with non-integer rates per second).
                        if b.tokens >= 1.0 - 1e-9 {
                            b.tokens = (b.tokens - 1.0).max(0.0);
                            None
                        } else {
                            let missing = (1.0 - b.tokens) / self.inner.per_sec;
                            Some(now + Duration::from_secs_f64(missing))
                        }
                    }
                }
            };
            match wait_until {
                None => break,
                Some(at) => sleep_until(at).await,
            }
        }
    }

    /// A concurrency slot only, no token: for pre-signed result downloads, which carry no
    /// bearer token and so do not count against the per-token rate limit (spec §5). Taking
    /// a token for them would halve how many agent-schedule queries fit in a minute.
    pub async fn acquire_unmetered(&self) -> Permit {
        let slot = self
            .inner
            .slots
            .clone()
            .acquire_owned()
            .await
            .expect("the semaphore is never closed");
        Permit { _slot: slot }
    }

    /// Blocks every acquisition until `d` from now (extends, never shortens, a pause).
    pub fn pause_for(&self, d: Duration) {
        // `d` is clamped upstream (bounds::retry_after); the checked add guards the rest
        let until = crate::bounds::after(Instant::now(), d.min(crate::bounds::MAX_RETRY_AFTER));
        let mut b = self.inner.bucket.lock().expect("budget lock");
        b.paused_until = Some(b.paused_until.map_or(until, |p| p.max(until)));
    }

    /// Whole tokens available now (0 while paused): how many requests could start at
    /// once. For `/readyz`, so an operator (or the load bench) sees the budget refilled.
    pub fn available(&self) -> u32 {
        let b = self.inner.bucket.lock().expect("budget lock");
        let now = Instant::now();
        if b.paused_until.is_some_and(|p| p > now) {
            return 0;
        }
        let elapsed = now.saturating_duration_since(b.refilled).as_secs_f64();
        let tokens = (b.tokens + elapsed * self.inner.per_sec).min(self.inner.burst);
        // `as` saturates; tokens is within 0..=burst, and burst fits u32.
        (tokens + 1e-9).floor() as u32
    }

    /// When the current pause ends, if one is running.
    pub fn paused_until(&self) -> Option<Instant> {
        let b = self.inner.bucket.lock().expect("budget lock");
        b.paused_until.filter(|p| *p > Instant::now())
    }
}

/// A quarter of the minute's budget, at least one request per concurrency slot: 60 at the
/// default 240/min, enough to fetch every management unit of a typical burst of
/// simultaneous schedule changes at once.
pub(crate) fn default_burst(requests_per_minute: u32, concurrency: usize) -> u32 {
    let slots = u32::try_from(concurrency).unwrap_or(u32::MAX);
    (requests_per_minute / 4)
        .max(slots)
        .clamp(1, requests_per_minute.max(1))
}

#[cfg(test)]
mod tests;
