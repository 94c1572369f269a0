//! Named defaults of every optional key (the shipped config.toml shows the same values).

use super::*;
use std::path::PathBuf;
use std::time::Duration;

pub(super) fn default_true() -> bool {
    true
}
pub(super) fn default_business_units() -> Vec<String> {
    vec!["*".into()]
}
pub(super) fn default_membership_refresh() -> Duration {
    Duration::from_secs(600)
}
pub(super) fn default_quiet() -> Duration {
    Duration::from_secs(2)
}
pub(super) fn default_max_wait() -> Duration {
    Duration::from_secs(10)
}
pub(super) fn default_concurrency() -> usize {
    4
}
pub(super) fn default_rpm() -> u32 {
    240
}
pub(super) fn default_weeks_back() -> u32 {
    1
}
pub(super) fn default_weeks_ahead() -> u32 {
    4
}
pub(super) fn default_request_timeout() -> Duration {
    Duration::from_secs(30)
}
pub(super) fn default_max_download_bytes() -> u64 {
    268_435_456
}
pub(super) fn default_reconcile_interval() -> Duration {
    Duration::from_secs(15 * 60)
}
pub(super) fn default_state_path() -> PathBuf {
    PathBuf::from("data/wfm-reactor.db")
}
pub(super) fn default_prune_interval() -> Duration {
    Duration::from_secs(60)
}
pub(super) fn default_admin_listen() -> String {
    "127.0.0.1:9464".into()
}
pub(super) fn default_max_sse_clients() -> usize {
    32
}
pub(super) fn default_resync_cooldown() -> Duration {
    Duration::from_secs(60)
}
pub(super) fn default_topics_per_channel() -> usize {
    1000
}
pub(super) fn default_max_channels() -> usize {
    20
}
pub(super) fn default_heartbeat_timeout() -> Duration {
    Duration::from_secs(45)
}
pub(super) fn default_pong_timeout() -> Duration {
    Duration::from_secs(10)
}
pub(super) fn default_expiry_margin() -> Duration {
    Duration::from_secs(60 * 60)
}
pub(super) fn default_rejected_retry() -> Duration {
    Duration::from_secs(10 * 60)
}
pub(super) fn default_commit_linger() -> Duration {
    Duration::from_millis(3)
}
/// 50 ms: on a steady 1,000/s stream each sink then writes and fsyncs (or posts) ~20
/// times a second instead of ~100, ~18 % less daemon CPU than 10 ms (docs/performance.md,
/// "Part 2, 2026-12-08"); it delays delivery, never the commit, and an isolated event
/// still goes at once.
pub(super) fn default_delivery_linger() -> Duration {
    Duration::from_millis(50)
}
pub(super) fn default_max_frame_bytes() -> usize {
    1 << 20
}
pub(super) fn default_backoff_min() -> Duration {
    Duration::from_millis(500)
}
pub(super) fn default_backoff_max() -> Duration {
    Duration::from_secs(60)
}
pub(super) fn default_grace() -> Duration {
    Duration::from_secs(20)
}
pub(super) fn default_sim_bus() -> usize {
    2
}
pub(super) fn default_sim_agents() -> usize {
    200
}
pub(super) fn default_sim_seed() -> u64 {
    7
}
pub(super) fn default_webhook_concurrency() -> usize {
    1
}
pub(super) fn default_webhook_timeout() -> Duration {
    Duration::from_secs(10)
}

macro_rules! default_via_serde {
    ($($t:ty),*) => {$(
        impl Default for $t {
            fn default() -> Self {
                toml::from_str("").expect("every field has a default")
            }
        }
    )*};
}
default_via_serde!(
    WatchConfig,
    DebounceConfig,
    FetchConfig,
    ReconcileConfig,
    StateConfig,
    AdminConfig,
    NotificationsConfig,
    ShutdownConfig,
    SimulatorConfig
);
