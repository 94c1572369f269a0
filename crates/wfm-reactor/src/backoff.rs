//! Jittered exponential backoff, shared by websocket reconnects, REST retries and webhook retries.
//!
//! Delays grow by `factor` from `min` to `max`; each delay is drawn uniformly from
//! `[base/2, base]` ("equal jitter") so a fleet of daemons never retries in lockstep,
//! yet a delay never drops below half the schedule. `reset()` after a stable period.

use std::time::Duration;

/// Backoff parameters, validated once when built.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BackoffPolicy {
    min: Duration,
    max: Duration,
    factor: f64,
}

/// Why a policy is invalid.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum BackoffError {
    /// `min` is zero or above `max`.
    #[error("backoff min {min:?} must be > 0 and <= max {max:?}")]
    Range {
        /// The lower bound given.
        min: Duration,
        /// The upper bound given.
        max: Duration,
    },
    /// `factor` below 1 or not finite.
    #[error("backoff factor {0} must be a finite number >= 1")]
    Factor(f64),
}

impl BackoffPolicy {
    /// Builds a policy; fails on a zero/inverted range or a factor below 1.
    pub fn try_new(min: Duration, max: Duration, factor: f64) -> Result<Self, BackoffError> {
        if min.is_zero() || min > max {
            return Err(BackoffError::Range { min, max });
        }
        if !factor.is_finite() || factor < 1.0 {
            return Err(BackoffError::Factor(factor));
        }
        Ok(Self { min, max, factor })
    }

    /// The webhook policy of the contract: 500 ms to 60 s, doubling.
    pub fn webhook() -> Self {
        Self::try_new(Duration::from_millis(500), Duration::from_secs(60), 2.0).expect("valid constant")
    }

    /// A fresh backoff state following this policy.
    pub fn start(&self) -> Backoff {
        Backoff {
            policy: *self,
            attempt: 0,
        }
    }

    /// The un-jittered delay before retry number `attempt` (0-based), capped at `max`.
    pub(crate) fn base_delay(&self, attempt: u32) -> Duration {
        let secs = self.min.as_secs_f64() * self.factor.powi(attempt.min(64) as i32);
        if !secs.is_finite() || secs >= self.max.as_secs_f64() {
            self.max
        } else {
            Duration::from_secs_f64(secs)
        }
    }
}

/// The running state: how many failures in a row.
#[derive(Debug, Clone)]
pub struct Backoff {
    policy: BackoffPolicy,
    attempt: u32,
}

impl Backoff {
    /// The next delay to wait (jittered), advancing the attempt count.
    pub(crate) fn next_delay(&mut self) -> Duration {
        let base = self.policy.base_delay(self.attempt);
        self.attempt = self.attempt.saturating_add(1);
        jitter(base, rand::random::<f64>())
    }

    /// The next delay, but never shorter than a server's `Retry-After`.
    pub(crate) fn next_delay_at_least(&mut self, floor: Option<Duration>) -> Duration {
        let d = self.next_delay();
        floor.map_or(d, |f| d.max(f))
    }

    /// Failures so far since the last reset.
    pub fn attempts(&self) -> u32 {
        self.attempt
    }

    /// Back to the first delay (call after a connection proved stable).
    pub fn reset(&mut self) {
        self.attempt = 0;
    }
}

/// Equal jitter: `base/2 + u * base/2` for `u` in `[0, 1)`.
pub fn jitter(base: Duration, u: f64) -> Duration {
    let half = base / 2;
    half + half.mul_f64(u.clamp(0.0, 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn policy() -> BackoffPolicy {
        BackoffPolicy::try_new(Duration::from_millis(100), Duration::from_secs(10), 2.0).unwrap()
    }

    #[test]
    fn rejects_bad_parameters() {
        assert!(BackoffPolicy::try_new(Duration::ZERO, Duration::from_secs(1), 2.0).is_err());
        assert!(BackoffPolicy::try_new(Duration::from_secs(2), Duration::from_secs(1), 2.0).is_err());
        assert!(BackoffPolicy::try_new(Duration::from_secs(1), Duration::from_secs(2), 0.5).is_err());
        assert!(BackoffPolicy::try_new(Duration::from_secs(1), Duration::from_secs(2), f64::NAN).is_err());
    }

    #[test]
    fn grows_then_caps_and_resets() {
        let p = policy();
        assert_eq!(p.base_delay(0), Duration::from_millis(100));
        assert_eq!(p.base_delay(1), Duration::from_millis(200));
        assert_eq!(p.base_delay(3), Duration::from_millis(800));
        assert_eq!(p.base_delay(30), Duration::from_secs(10));
        let mut b = p.start();
        for _ in 0..5 {
            b.next_delay();
        }
        assert_eq!(b.attempts(), 5);
        b.reset();
        let d = b.next_delay();
        assert!(
            d >= Duration::from_millis(50) && d <= Duration::from_millis(100),
            "{d:?}"
        );
    }

    #[test]
    fn retry_after_wins_when_larger() {
        let mut b = policy().start();
        assert!(b.next_delay_at_least(Some(Duration::from_secs(3))) >= Duration::from_secs(3));
    }

    proptest! {
        #[test]
        fn jittered_delay_stays_within_half_and_full_base(attempt in 0u32..100, u in 0.0f64..1.0) {
            let p = policy();
            let base = p.base_delay(attempt);
            let d = jitter(base, u);
            prop_assert!(d >= base / 2 && d <= base);
            prop_assert!(d <= Duration::from_secs(10));
            prop_assert!(p.base_delay(attempt + 1) >= base);
        }
    }
}
