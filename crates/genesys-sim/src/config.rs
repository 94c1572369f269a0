//! Simulator settings: sizes, credentials, timers and limits, all overridable by tests.

use std::collections::BTreeSet;
use std::time::Duration;

/// Everything the simulator can be tuned with. Defaults follow the spec (24 h tokens,
/// 24 h channels, 30 s heartbeat, 60 s socket-closing grace, 300 requests/min, 20 channels, 1,000 topics).
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Generated business units (at least one is always generated).
    pub business_units: usize,
    /// Generated agents, spread over the business units.
    pub agents: usize,
    /// Generator seed: the same seed yields the same org and shifts.
    pub seed: u64,
    /// OAuth client id accepted by `/oauth/token`.
    pub client_id: String,
    /// OAuth client secret accepted by `/oauth/token`.
    pub client_secret: String,
    /// More OAuth clients accepted besides `client_id` (id, secret): each gets its own
    /// tokens, hence its own rate limit, channel cap and topic cap, as on Genesys.
    pub extra_clients: Vec<(String, String)>,
    /// `expires_in` of issued tokens.
    pub token_lifetime: Duration,
    /// Interval of the `channel.metadata` heartbeat on every socket.
    pub heartbeat_interval: Duration,
    /// Time between `v2.system.socket_closing` and the forced close.
    pub socket_closing_grace: Duration,
    /// Requests per minute per token before 429.
    pub rate_limit_per_minute: u32,
    /// Channels per OAuth client before the oldest (unconnected first) is evicted.
    pub max_channels: usize,
    /// Subscriptions per channel; more answers 400.
    pub max_topics_per_channel: usize,
    /// Agent-schedule query results with more agents than this use `downloadUrl`.
    pub download_threshold_agents: usize,
    /// Generate background presence changes and schedule publish bursts.
    pub activity: bool,
    /// Permissions of the simulated OAuth client; `None` means every permission.
    pub permissions: Option<BTreeSet<String>>,
    /// A channel dies with the token that created it (revoked or past `token_lifetime`),
    /// as on Genesys. Off only to isolate other behaviour in tests.
    pub channels_bound_to_token: bool,
    /// How long a channel lives after its creation or last (re)subscription before it
    /// dies with `{"result":"404"}` (Genesys: 24 h). Short values test resubscription.
    pub channel_lifetime: Duration,
    /// One management unit's agent schedules served as a gzip bomb (tests of the
    /// client's download bounds); `None` in normal runs.
    pub download_bomb: Option<crate::bomb::DownloadBomb>,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            business_units: 2,
            agents: 200,
            seed: 7,
            client_id: "sim-client".to_string(),
            client_secret: "sim-secret".to_string(),
            extra_clients: Vec::new(),
            token_lifetime: Duration::from_secs(86_399),
            heartbeat_interval: Duration::from_secs(30),
            socket_closing_grace: Duration::from_secs(60),
            rate_limit_per_minute: 300,
            max_channels: 20,
            max_topics_per_channel: 1000,
            download_threshold_agents: 100,
            activity: false,
            permissions: None,
            channels_bound_to_token: true,
            channel_lifetime: Duration::from_secs(24 * 3600),
            download_bomb: None,
        }
    }
}
