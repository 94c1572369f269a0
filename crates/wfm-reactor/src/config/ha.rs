//! `[ha]` and `[state] url`: the shared PostgreSQL store and the leader lease.
//!
//! Kept apart from the single-machine keys because they are checked together: a lease
//! only makes sense on a store every replica shares.

use super::Config;
use super::problem::Problem;
use serde::{Deserialize, Serialize};
use std::time::Duration;

fn default_takeover() -> Duration {
    Duration::from_secs(15)
}

/// `[ha]`: active/standby replicas on one PostgreSQL store.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HaConfig {
    /// Compete for the leader lease; only the leader is upstream and delivers.
    #[serde(default)]
    pub enabled: bool,
    /// How soon a standby takes over after the leader died or lost its session. The
    /// standby polls the lock every third of it; the leader checks its own session every
    /// quarter and steps down when it cannot confirm it for half of it.
    #[serde(default = "default_takeover", with = "humantime_serde")]
    pub takeover: Duration,
}

impl Default for HaConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            takeover: default_takeover(),
        }
    }
}

/// Problems of `[state] url` and `[ha]`.
pub(super) fn problems(c: &Config) -> Vec<Problem> {
    let mut out = Vec::new();
    let mut check = |ok: bool, key: &str, message: &str| {
        if !ok {
            out.push(Problem {
                key: key.into(),
                message: message.into(),
            });
        }
    };
    if let Some(url) = &c.state.url {
        let parsed = url.expose().parse::<tokio_postgres::Config>();
        check(
            (url.expose().starts_with("postgres://") || url.expose().starts_with("postgresql://"))
                && parsed.is_ok(),
            "state.url",
            "must be a PostgreSQL URL like \"postgres://USER@HOST/DB\"",
        );
    }
    if c.ha.enabled {
        check(
            c.state.url.is_some(),
            "ha.enabled",
            "needs a PostgreSQL store shared by the replicas: set [state] url",
        );
    }
    check(
        c.ha.takeover >= Duration::from_secs(1),
        "ha.takeover",
        "must be at least 1s",
    );
    out
}
