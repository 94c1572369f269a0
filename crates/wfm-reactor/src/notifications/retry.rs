//! The reconnect wait: the next jittered backoff delay, always raced against shutdown.

use crate::backoff::Backoff;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Waits the next delay of `backoff` (never shorter than `floor`, a server's
/// `Retry-After`); returns false at once when `cancel` fires first.
pub async fn backoff_wait(
    backoff: &mut Backoff,
    floor: Option<Duration>,
    cancel: &CancellationToken,
) -> bool {
    let delay = backoff.next_delay_at_least(floor);
    tokio::select! {
        _ = cancel.cancelled() => false,
        _ = tokio::time::sleep(delay) => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backoff::BackoffPolicy;
    use tokio::time::Instant;

    fn policy() -> BackoffPolicy {
        BackoffPolicy::try_new(Duration::from_millis(500), Duration::from_secs(60), 2.0).unwrap()
    }

    #[tokio::test(start_paused = true)]
    async fn delays_grow_within_jitter_bounds_then_cap_and_reset() {
        let p = policy();
        let mut b = p.start();
        let cancel = CancellationToken::new();
        for attempt in 0..10 {
            let t0 = Instant::now();
            assert!(backoff_wait(&mut b, None, &cancel).await);
            let waited = t0.elapsed();
            let base = p.base_delay(attempt);
            assert!(
                waited >= base / 2 && waited <= base,
                "attempt {attempt}: {waited:?} vs {base:?}"
            );
        }
        assert!(p.base_delay(9) == Duration::from_secs(60), "capped");
        b.reset();
        let t0 = Instant::now();
        backoff_wait(&mut b, None, &cancel).await;
        assert!(
            t0.elapsed() <= Duration::from_millis(500),
            "reset to the first delay"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn retry_after_is_a_floor() {
        let mut b = policy().start();
        let t0 = Instant::now();
        backoff_wait(&mut b, Some(Duration::from_secs(7)), &CancellationToken::new()).await;
        assert!(t0.elapsed() >= Duration::from_secs(7));
    }

    #[tokio::test(start_paused = true)]
    async fn cancel_interrupts_a_long_wait() {
        let mut b = BackoffPolicy::try_new(Duration::from_secs(3600), Duration::from_secs(3600), 2.0)
            .unwrap()
            .start();
        let cancel = CancellationToken::new();
        let c = cancel.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(1)).await;
            c.cancel();
        });
        let t0 = Instant::now();
        assert!(!backoff_wait(&mut b, None, &cancel).await);
        assert_eq!(t0.elapsed(), Duration::from_secs(1));
    }
}
