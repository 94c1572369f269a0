//! The one polling helper: wait until a condition holds or a deadline passes, then fail
//! naming what was awaited. Tests never sleep for readiness; they poll an observable
//! condition, so a fast machine is not slowed down and a slow one only needs a larger
//! `WFM_TEST_PATIENCE` (see [`crate::patience`]). The tokio clock is used, so paused-time
//! tests advance virtually.

use crate::patience::{DEFAULT_WAIT, patience};
use std::fmt::Display;
use std::future::Future;
use std::time::Duration;
use tokio::time::Instant;

/// How often a condition is re-checked.
pub const POLL: Duration = Duration::from_millis(10);

/// Polls `cond` until it holds; panics naming `what` after the default wait
/// ([`DEFAULT_WAIT`] scaled by the patience multiplier).
pub async fn eventually<F, Fut>(what: impl Display, cond: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    eventually_within(DEFAULT_WAIT, what, cond).await
}

/// [`eventually`] with a base wait of `within` (still scaled by the patience multiplier).
pub async fn eventually_within<F, Fut>(within: Duration, what: impl Display, cond: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    if poll(within, cond, |held| *held).await.is_err() {
        panic!("timed out after {:?} waiting for {what}", patience(within));
    }
}

/// The primitive under every wait: fetches a value until `pred` holds on it (`Ok`) or
/// `within` (scaled) passes (`Err` with the last value, for a failure message that shows
/// what was seen, or for a caller that must clean up before failing).
pub async fn poll<T, F, Fut>(within: Duration, mut fetch: F, pred: impl Fn(&T) -> bool) -> Result<T, T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = T>,
{
    let deadline = Instant::now() + patience(within);
    loop {
        let v = fetch().await;
        if pred(&v) {
            return Ok(v);
        }
        if Instant::now() >= deadline {
            return Err(v);
        }
        tokio::time::sleep(POLL).await;
    }
}

/// Fetches a value until `pred` holds on it and returns it; panics naming `what` and
/// showing the last value after `within` (scaled), so the failure says what was seen.
pub async fn eventually_value<T, F, Fut>(
    within: Duration,
    what: impl Display,
    fetch: F,
    pred: impl Fn(&T) -> bool,
) -> T
where
    T: std::fmt::Debug,
    F: FnMut() -> Fut,
    Fut: Future<Output = T>,
{
    match poll(within, fetch, pred).await {
        Ok(v) => v,
        Err(last) => panic!(
            "timed out after {:?} waiting for {what}; last: {last:?}",
            patience(within)
        ),
    }
}

/// Waits until a synchronous condition holds: `eventually!(cond, "what {}", x)` (default
/// wait) or `eventually!(within = d, cond, "what")`. Expands to an `.await`.
#[macro_export]
macro_rules! eventually {
    (within = $within:expr, $cond:expr, $($what:tt)+) => {
        $crate::eventually_within($within, format!($($what)+), || {
            let held: bool = $cond;
            async move { held }
        })
        .await
    };
    ($cond:expr, $($what:tt)+) => {
        $crate::eventually(format!($($what)+), || {
            let held: bool = $cond;
            async move { held }
        })
        .await
    };
}
