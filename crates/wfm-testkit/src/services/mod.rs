//! The real services some tests need (NATS JetStream, PostgreSQL): where they are, and
//! the skip-or-fail rule when they are not there.
//!
//! A test asks for a service and gets `None` when it cannot be reached: it then prints
//! `skipped: <why>` and returns, so `cargo test` passes on a laptop without them. CI
//! sets `WFM_TEST_REQUIRE_SERVICES=1`, which turns that skip into a failure.

use std::time::Duration;

pub mod nats;
pub mod postgres;

/// Whether an unreachable service must fail the test instead of skipping it.
pub fn services_required() -> bool {
    std::env::var("WFM_TEST_REQUIRE_SERVICES").is_ok_and(|v| v == "1")
}

/// Skips (prints why, returns `None`) or fails, per [`services_required`].
pub fn unavailable<T>(test: &str, why: String) -> Option<T> {
    if services_required() {
        panic!("{test}: {why} (WFM_TEST_REQUIRE_SERVICES=1)");
    }
    eprintln!("skipped: {test}: {why}");
    None
}

/// Whether a TCP connection to `host:port` can be made within one second.
pub async fn reachable(addr: &str) -> bool {
    matches!(
        tokio::time::timeout(Duration::from_secs(1), tokio::net::TcpStream::connect(addr)).await,
        Ok(Ok(_))
    )
}

/// A name unique to this test run, usable as a stream, subject token or schema name.
pub fn unique(prefix: &str) -> String {
    format!("{prefix}_{}", uuid::Uuid::new_v4().simple())
}

/// Polls `cond` every 20 ms until it holds or `within` passes; the last value on failure.
pub async fn eventually<T, F, Fut>(within: Duration, mut probe: F, cond: impl Fn(&T) -> bool) -> Result<T, T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = T>,
{
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let v = probe().await;
        if cond(&v) {
            return Ok(v);
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(v);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
