//! The configuration file (`config.toml`): strict serde structs, env expansion, loading.
//!
//! Loading is two phases: [`Config::from_toml_str`] parses (unknown keys are errors,
//! `${VAR}` expanded, durations are humantime strings), then [`Config::validate`]
//! lists every semantic problem with its key, so `wfm-reactor check` can print them all.

mod adherence;
mod defaults;
mod expand;
#[doc(hidden)]
pub mod fuzzing;
mod ha;
mod load;
mod nats;
mod problem;
mod secret;
mod sinks;
mod validate;

use defaults::*;

pub use adherence::{AdherenceConfig, AdherenceMode};
pub use expand::expand_str;
pub use ha::HaConfig;
pub use load::ConfigError;
pub use nats::{NatsSinkConfig, NatsTlsConfig};
pub use problem::Problem;
pub use secret::Secret;
pub use sinks::SinkConfig;
pub use validate::webhook_key;

use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::time::Duration;

/// The region value that starts the embedded simulator instead of a real org.
pub const SIMULATOR_REGION: &str = "simulator";

/// The whole configuration file.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Which org to talk to, and with which OAuth client.
    pub genesys: GenesysConfig,
    /// What to subscribe to.
    #[serde(default)]
    pub watch: WatchConfig,
    /// Coalescing of schedule events.
    #[serde(default)]
    pub debounce: DebounceConfig,
    /// REST budget and reconcile window.
    #[serde(default)]
    pub fetch: FetchConfig,
    /// Periodic full re-read.
    #[serde(default)]
    pub reconcile: ReconcileConfig,
    /// The store: an SQLite file, or PostgreSQL with `url`.
    #[serde(default)]
    pub state: StateConfig,
    /// Active/standby replicas (needs `[state] url`).
    #[serde(default)]
    pub ha: HaConfig,
    /// The admin HTTP server.
    #[serde(default)]
    pub admin: AdminConfig,
    /// Notification channel and websocket tuning.
    #[serde(default)]
    pub notifications: NotificationsConfig,
    /// Graceful shutdown.
    #[serde(default)]
    pub shutdown: ShutdownConfig,
    /// The embedded simulator (used only when `genesys.region = "simulator"`).
    #[serde(default)]
    pub simulator: SimulatorConfig,
    /// Real-time adherence: Genesys's own or the local engine.
    #[serde(default)]
    pub adherence: AdherenceConfig,
    /// Where events go. At least one.
    #[serde(default)]
    pub sinks: Vec<SinkConfig>,
}

/// `[genesys]`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenesysConfig {
    /// `"simulator"` or a region domain such as `mypurecloud.com`.
    pub region: String,
    /// OAuth client id (client-credentials grant).
    #[serde(default)]
    pub client_id: String,
    /// OAuth client secret.
    #[serde(default)]
    pub client_secret: Secret,
    /// Several OAuth clients (`[[genesys.clients]]`) instead of the single pair: each has
    /// its own token, its own 20 channels and its own REST budget.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub clients: Vec<OAuthClient>,
    /// Explicit API base URL; overrides `region`.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "crate::redact::serialize_opt"
    )]
    pub api_url: Option<String>,
    /// Explicit login base URL; overrides `region`.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "crate::redact::serialize_opt"
    )]
    pub login_url: Option<String>,
}

/// One `[[genesys.clients]]` table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OAuthClient {
    /// OAuth client id (client-credentials grant).
    pub client_id: String,
    /// OAuth client secret.
    #[serde(default)]
    pub client_secret: Secret,
}

impl GenesysConfig {
    /// Every configured OAuth client: the `[[genesys.clients]]` tables, else the single
    /// `client_id`/`client_secret` pair as one client.
    pub fn oauth_clients(&self) -> Vec<OAuthClient> {
        if self.clients.is_empty() {
            vec![OAuthClient {
                client_id: self.client_id.clone(),
                client_secret: self.client_secret.clone(),
            }]
        } else {
            self.clients.clone()
        }
    }

    /// True when the daemon should start and use the embedded simulator.
    pub fn is_simulator(&self) -> bool {
        self.region == SIMULATOR_REGION && self.api_url.is_none()
    }

    /// The API base URL (no trailing slash): `api_url`, else `https://api.{region}`.
    pub(crate) fn api_base(&self) -> String {
        match &self.api_url {
            Some(u) => u.trim_end_matches('/').to_string(),
            None => format!("https://api.{}", self.region),
        }
    }

    /// The login base URL (no trailing slash): `login_url`, else `https://login.{region}`.
    pub(crate) fn login_base(&self) -> String {
        match &self.login_url {
            Some(u) => u.trim_end_matches('/').to_string(),
            None => format!("https://login.{}", self.region),
        }
    }
}

/// How presence topics are chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum PresenceScope {
    /// No presence topics (only `watch.users`).
    None,
    /// Every agent of the watched business units' management units.
    #[default]
    ScheduledAgents,
}

/// `[watch]`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WatchConfig {
    /// Business unit ids, or `["*"]` for every business unit the client can see.
    #[serde(default = "default_business_units")]
    pub business_units: Vec<String>,
    /// Ignore draft (unpublished) schedules.
    #[serde(default = "default_true")]
    pub published_only: bool,
    /// Which users' presence to watch.
    #[serde(default)]
    pub presence: PresenceScope,
    /// Extra user ids to watch presence for.
    #[serde(default)]
    pub users: Vec<String>,
    /// Also watch `v2.users.{id}.routingStatus`.
    #[serde(default)]
    pub routing_status: bool,
    /// Real-time adherence of every watched management unit (Genesys's unit topic where
    /// permitted, else the local engine; see `[adherence]`).
    #[serde(default = "default_true")]
    pub adherence: bool,
    /// How often watched business units' membership is re-read.
    #[serde(default = "default_membership_refresh", with = "humantime_serde")]
    pub membership_refresh: Duration,
}

/// `[debounce]`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DebounceConfig {
    /// Fire once no event for the key arrived for this long.
    #[serde(default = "default_quiet", with = "humantime_serde")]
    pub quiet: Duration,
    /// ... but never later than this after the first event.
    #[serde(default = "default_max_wait", with = "humantime_serde")]
    pub max_wait: Duration,
}

/// `[fetch]`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FetchConfig {
    /// REST requests in flight at once.
    #[serde(default = "default_concurrency")]
    pub concurrency: usize,
    /// Client-side budget (token bucket), below the platform's per-token limit.
    #[serde(default = "default_rpm")]
    pub requests_per_minute: u32,
    /// Requests that may start at once after a quiet spell (default: a quarter of
    /// `requests_per_minute`, at least `concurrency`). Taken out of the minute's refill, so
    /// no 60 s window ever holds more than `requests_per_minute` requests; a larger burst
    /// only lets simultaneous schedule changes be fetched together instead of paced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub burst: Option<u32>,
    /// Reconcile window: weeks before today.
    #[serde(default = "default_weeks_back")]
    pub weeks_back: u32,
    /// Reconcile window: weeks after today.
    #[serde(default = "default_weeks_ahead")]
    pub weeks_ahead: u32,
    /// Per-request timeout.
    #[serde(default = "default_request_timeout", with = "humantime_serde")]
    pub request_timeout: Duration,
    /// Largest `downloadUrl` result accepted once decompressed; beyond it that unit's
    /// fetch fails (and is retried) instead of the daemon running out of memory.
    #[serde(default = "default_max_download_bytes")]
    pub max_download_bytes: u64,
}

/// `[reconcile]`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReconcileConfig {
    /// Periodic full re-read; also always done at start and after any gap.
    #[serde(default = "default_reconcile_interval", with = "humantime_serde")]
    pub interval: Duration,
    /// First start with an empty store emits a snapshot of everything known.
    #[serde(default = "default_true")]
    pub initial_snapshot: bool,
    /// `POST /v1/resync` runs at most once per this long; sooner is answered 429.
    #[serde(default = "default_resync_cooldown", with = "humantime_serde")]
    pub resync_cooldown: Duration,
}

/// `[state]`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StateConfig {
    /// Path of the embedded store file (created with its parent directory).
    #[serde(default = "default_state_path")]
    pub path: PathBuf,
    /// PostgreSQL instead of the file (`postgres://USER@HOST/DB`); `path` is then
    /// ignored. A secret: it may carry a password, so `check` masks it whole.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<Secret>,
    /// How often outbox entries acknowledged by every sink are pruned.
    #[serde(default = "default_prune_interval", with = "humantime_serde")]
    pub prune_interval: Duration,
    /// While presence decisions arrive faster than this, they are committed together at
    /// most once per interval (a quiet stream commits each at once): one transaction,
    /// one sink delivery and one cursor write per interval instead of per notification.
    #[serde(default = "default_commit_linger", with = "humantime_serde")]
    pub commit_linger: Duration,
    /// The same for delivery: a sink that delivered less than this ago waits (up to this
    /// since that delivery) for a full batch before the next; an isolated event goes at
    /// once. One write, fsync or request per interval on a steady stream, not per commit.
    #[serde(default = "default_delivery_linger", with = "humantime_serde")]
    pub delivery_linger: Duration,
}

/// `[admin]`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminConfig {
    /// Listen address; `""` disables the admin server.
    #[serde(default = "default_admin_listen")]
    pub listen: String,
    /// Bearer token `/v1/*` and `/` require when set (`${WFM_REACTOR_ADMIN_TOKEN:-}`);
    /// required when `listen` is not a loopback address. The probes and `/metrics` stay open.
    #[serde(default)]
    pub token: Secret,
    /// Live feed (`/v1/events`) clients at once; one more is answered 503.
    #[serde(default = "default_max_sse_clients")]
    pub max_sse_clients: usize,
}

/// `[notifications]`: channel and websocket tuning (defaults follow the platform limits).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotificationsConfig {
    /// Topics per channel (platform maximum 1,000).
    #[serde(default = "default_topics_per_channel")]
    pub max_topics_per_channel: usize,
    /// Channels per OAuth client (platform maximum 20).
    #[serde(default = "default_max_channels")]
    pub max_channels: usize,
    /// No frame for this long → send `{"message":"ping"}`.
    #[serde(default = "default_heartbeat_timeout", with = "humantime_serde")]
    pub heartbeat_timeout: Duration,
    /// No pong this long after a ping → reconnect.
    #[serde(default = "default_pong_timeout", with = "humantime_serde")]
    pub pong_timeout: Duration,
    /// Resubscribe (extending the 24 h channel life) this long before `expires`.
    #[serde(default = "default_expiry_margin", with = "humantime_serde")]
    pub expiry_margin: Duration,
    /// How often topics the server refused (missing permissions) are asked for again, so
    /// a permission granted later takes effect without a restart.
    #[serde(default = "default_rejected_retry", with = "humantime_serde")]
    pub rejected_retry: Duration,
    /// Frames larger than this are rejected (counted, logged), never parsed.
    #[serde(default = "default_max_frame_bytes")]
    pub max_frame_bytes: usize,
    /// First reconnect delay.
    #[serde(default = "default_backoff_min", with = "humantime_serde")]
    pub backoff_min: Duration,
    /// Reconnect delay cap.
    #[serde(default = "default_backoff_max", with = "humantime_serde")]
    pub backoff_max: Duration,
}

/// `[shutdown]`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShutdownConfig {
    /// How long due fetches and sink drains may take after SIGINT/SIGTERM.
    #[serde(default = "default_grace", with = "humantime_serde")]
    pub grace: Duration,
}

/// `[simulator]`: the org the embedded simulator generates for the default run.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimulatorConfig {
    /// Generated business units.
    #[serde(default = "default_sim_bus")]
    pub business_units: usize,
    /// Generated agents, spread over the business units' management units.
    #[serde(default = "default_sim_agents")]
    pub agents: usize,
    /// Seed of the deterministic generator.
    #[serde(default = "default_sim_seed")]
    pub seed: u64,
    /// Produce presence changes and schedule publishes in bursts, so the run shows work.
    #[serde(default = "default_true")]
    pub activity: bool,
}
