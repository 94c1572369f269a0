//! The channel worker's supervisor: a worker that panics (or returns before shutdown) is
//! started again with backoff, so one bad frame or number cannot silently end a
//! channel's delivery while `/livez` says ok.
//!
//! The restarted worker starts like a new one: it announces a gap (events may have been
//! missed while it was down), so the reactor reconciles. Only a worker that keeps dying
//! young ([`MAX_QUICK_RESTARTS`] runs in a row shorter than [`STABLE_RUN`]) is given up;
//! that slot is then reported to `/livez`, which fails so the orchestrator restarts the
//! process (contract: "`/livez` 503 only if it cannot be restarted").

use crate::backoff::BackoffPolicy;
use crate::telemetry::upstream as tel;
use std::future::Future;
use std::time::Duration;
use tokio::time::{Instant, sleep};
use tokio_util::sync::CancellationToken;

/// Consecutive short-lived runs after which a worker is given up.
pub(crate) const MAX_QUICK_RESTARTS: u32 = 10;

/// A run at least this long counts as healthy: the restart count and backoff start over.
pub(crate) const STABLE_RUN: Duration = Duration::from_secs(60);

/// Runs `start()` as its own task until `cancel`; restarts it with `policy`'s backoff
/// whenever it ends early. `Err(why)` once it was given up (the last failure).
pub(crate) async fn supervise<F, Fut>(
    slot: u64,
    mut start: F,
    cancel: CancellationToken,
    policy: BackoffPolicy,
) -> Result<(), String>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let mut backoff = policy.start();
    let mut quick = 0u32;
    loop {
        let started = Instant::now();
        let ended = tokio::spawn(start()).await;
        if cancel.is_cancelled() {
            return Ok(());
        }
        let why = match ended {
            Ok(()) => "worker returned before shutdown".to_string(),
            Err(e) if e.is_panic() => format!("worker panicked: {}", panic_text(e.into_panic())),
            Err(e) => format!("worker task failed: {e}"),
        };
        if started.elapsed() >= STABLE_RUN {
            quick = 0;
            backoff.reset();
        }
        quick += 1;
        if quick > MAX_QUICK_RESTARTS {
            tel::channel_worker_given_up(slot, &why);
            return Err(why);
        }
        let delay = backoff.next_delay();
        tel::channel_worker_restarted(slot, &why, delay);
        tokio::select! {
            _ = cancel.cancelled() => return Ok(()),
            _ = sleep(delay) => {}
        }
    }
}

/// The message of a panic payload (`panic!` with a literal or a formatted string).
fn panic_text(payload: Box<dyn std::any::Any + Send>) -> String {
    match payload.downcast::<String>() {
        Ok(s) => *s,
        Err(p) => p
            .downcast_ref::<&str>()
            .map_or("(no message)".to_string(), |s| s.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU32, Ordering};

    fn policy() -> BackoffPolicy {
        BackoffPolicy::try_new(Duration::from_millis(100), Duration::from_secs(5), 2.0).unwrap()
    }

    #[tokio::test(start_paused = true)]
    async fn a_panicking_worker_is_restarted_with_backoff_and_keeps_running() {
        let runs = Arc::new(AtomicU32::new(0));
        let cancel = CancellationToken::new();
        let (r, c) = (runs.clone(), cancel.clone());
        let sup = tokio::spawn(supervise(
            0,
            move || {
                let n = r.fetch_add(1, Ordering::SeqCst);
                let c = c.clone();
                async move {
                    if n < 3 {
                        panic!("hostile input {n}");
                    }
                    c.cancelled().await;
                }
            },
            cancel.clone(),
            policy(),
        ));
        let t0 = Instant::now();
        while runs.load(Ordering::SeqCst) < 4 {
            sleep(Duration::from_millis(10)).await;
        }
        assert!(
            t0.elapsed() >= Duration::from_millis(150),
            "restarts wait: {:?}",
            t0.elapsed()
        );
        cancel.cancel();
        assert_eq!(sup.await.unwrap(), Ok(()));
    }

    #[tokio::test(start_paused = true)]
    async fn a_worker_that_always_dies_young_is_given_up() {
        let runs = Arc::new(AtomicU32::new(0));
        let r = runs.clone();
        let out = supervise(
            7,
            move || {
                r.fetch_add(1, Ordering::SeqCst);
                async { panic!("always") }
            },
            CancellationToken::new(),
            policy(),
        )
        .await;
        assert_eq!(out, Err("worker panicked: always".to_string()));
        assert_eq!(runs.load(Ordering::SeqCst), MAX_QUICK_RESTARTS + 1);
    }
}
