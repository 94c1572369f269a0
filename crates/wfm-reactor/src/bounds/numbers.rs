//! Clamping durations that come from upstream (contract, second tranche: "No number from
//! upstream can panic or stall the daemon").
//!
//! A `Retry-After` beyond one hour counts as one hour and an unparseable one as absent;
//! a token lifetime beyond 24 h counts as 24 h. Instants are computed with checked
//! arithmetic so even an unclamped duration cannot overflow.

use reqwest::header::{HeaderMap, RETRY_AFTER};
use std::time::Duration;
use tokio::time::Instant;

/// The longest `Retry-After` honoured: beyond it a server is broken or hostile, and an
/// hour still keeps the daemon polite without stalling it for good.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);

/// The longest token lifetime believed (Genesys issues 24 h tokens at most).
pub const MAX_TOKEN_LIFETIME: Duration = Duration::from_secs(24 * 3600);

/// `Retry-After` in delay-seconds (the form Genesys sends), clamped to
/// [`MAX_RETRY_AFTER`]; absent when missing, negative, not a finite number, or in the
/// HTTP-date form (which the platform does not use: the caller's backoff applies).
pub fn retry_after(route: &'static str, headers: &HeaderMap) -> Option<Duration> {
    let raw = headers.get(RETRY_AFTER)?;
    let parsed = raw
        .to_str()
        .ok()
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s >= 0.0);
    let Some(secs) = parsed else {
        crate::telemetry::upstream::number_refused(
            route,
            "retry_after",
            &String::from_utf8_lossy(raw.as_bytes()),
        );
        return None;
    };
    if secs > MAX_RETRY_AFTER.as_secs_f64() {
        crate::telemetry::upstream::number_clamped(route, "retry_after", secs, MAX_RETRY_AFTER);
        return Some(MAX_RETRY_AFTER);
    }
    Some(Duration::from_secs_f64(secs))
}

/// A token's lifetime from `expires_in` seconds: at least 1 s, at most
/// [`MAX_TOKEN_LIFETIME`].
pub fn token_lifetime(expires_in: u64) -> Duration {
    if expires_in > MAX_TOKEN_LIFETIME.as_secs() {
        crate::telemetry::upstream::number_clamped(
            "oauth.token",
            "expires_in",
            expires_in as f64,
            MAX_TOKEN_LIFETIME,
        );
        return MAX_TOKEN_LIFETIME;
    }
    Duration::from_secs(expires_in.max(1))
}

/// `from + d`, or (should `d` still be absurd) `from` plus [`MAX_TOKEN_LIFETIME`]: an
/// instant that never overflows.
pub fn after(from: Instant, d: Duration) -> Instant {
    from.checked_add(d)
        .or_else(|| from.checked_add(MAX_TOKEN_LIFETIME))
        .unwrap_or(from)
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, HeaderValue::from_str(v).unwrap());
        h
    }

    #[test]
    fn retry_after_is_clamped_to_an_hour_and_garbage_is_absent() {
        assert_eq!(retry_after("r", &headers("7")), Some(Duration::from_secs(7)));
        assert_eq!(
            retry_after("r", &headers("1.5")),
            Some(Duration::from_millis(1500))
        );
        for huge in ["1e19", "1e18", "18446744073709551615", "3601"] {
            assert_eq!(retry_after("r", &headers(huge)), Some(MAX_RETRY_AFTER), "{huge}");
        }
        for bad in ["soon", "-1", "NaN", "inf", "Wed, 21 Oct 2015 07:28:00 GMT", ""] {
            assert_eq!(retry_after("r", &headers(bad)), None, "{bad}");
        }
        assert_eq!(retry_after("r", &HeaderMap::new()), None);
    }

    #[test]
    fn token_lifetime_is_between_a_second_and_a_day() {
        assert_eq!(token_lifetime(0), Duration::from_secs(1));
        assert_eq!(token_lifetime(300), Duration::from_secs(300));
        assert_eq!(token_lifetime(u64::MAX), MAX_TOKEN_LIFETIME);
    }

    #[test]
    fn after_never_overflows() {
        let now = Instant::now();
        assert_eq!(after(now, Duration::from_secs(5)), now + Duration::from_secs(5));
        assert!(after(now, Duration::MAX) > now);
    }
}
