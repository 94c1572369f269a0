//! How long a test waits for anything. Every deadline in the kit goes through [`patience`]
//! so one environment variable, `WFM_TEST_PATIENCE` (a multiplier, default 1), stretches
//! all of them at once on a slow or shared CI machine instead of editing timeouts per test.

use std::time::Duration;

/// The environment variable holding the deadline multiplier (a positive float).
pub const PATIENCE_VAR: &str = "WFM_TEST_PATIENCE";

/// The default time a test waits for one condition before it fails.
pub const DEFAULT_WAIT: Duration = Duration::from_secs(8);

/// `base` scaled by `WFM_TEST_PATIENCE` (unset, unparsable or non-positive: unscaled).
pub fn patience(base: Duration) -> Duration {
    base.mul_f64(multiplier())
}

fn multiplier() -> f64 {
    std::env::var(PATIENCE_VAR)
        .ok()
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|m| m.is_finite() && *m > 0.0)
        .unwrap_or(1.0)
}
