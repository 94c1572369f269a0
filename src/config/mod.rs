//! The configuration file (`config.toml`): strict serde structs, env expansion, loading.
//!
//! Loading is two phases: [`Config::from_toml_str`] parses (unknown keys are errors,
//! `${VAR}` expanded, durations are humantime strings), then [`Config::validate`]
//! lists every semantic problem with its key, so `wfm-reactor check` can print them all.

mod expand;
mod secret;
mod validate;

pub use expand::expand_str;
pub use secret::Secret;
pub use validate::{Problem, webhook_key};

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
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
    /// The embedded store.
    #[serde(default)]
    pub state: StateConfig,
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
    /// Explicit API base URL; overrides `region`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_url: Option<String>,
    /// Explicit login base URL; overrides `region`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub login_url: Option<String>,
}

impl GenesysConfig {
    /// True when the daemon should start and use the embedded simulator.
    pub fn is_simulator(&self) -> bool {
        self.region == SIMULATOR_REGION && self.api_url.is_none()
    }

    /// The API base URL (no trailing slash): `api_url`, else `https://api.{region}`.
    pub fn api_base(&self) -> String {
        match &self.api_url {
            Some(u) => u.trim_end_matches('/').to_string(),
            None => format!("https://api.{}", self.region),
        }
    }

    /// The login base URL (no trailing slash): `login_url`, else `https://login.{region}`.
    pub fn login_base(&self) -> String {
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
    /// Reconcile window: weeks before today.
    #[serde(default = "default_weeks_back")]
    pub weeks_back: u32,
    /// Reconcile window: weeks after today.
    #[serde(default = "default_weeks_ahead")]
    pub weeks_ahead: u32,
    /// Per-request timeout.
    #[serde(default = "default_request_timeout", with = "humantime_serde")]
    pub request_timeout: Duration,
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
}

/// `[state]`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StateConfig {
    /// Path of the embedded store file (created with its parent directory).
    #[serde(default = "default_state_path")]
    pub path: PathBuf,
    /// How often outbox entries acknowledged by every sink are pruned.
    #[serde(default = "default_prune_interval", with = "humantime_serde")]
    pub prune_interval: Duration,
}

/// `[admin]`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminConfig {
    /// Listen address; `""` disables the admin server.
    #[serde(default = "default_admin_listen")]
    pub listen: String,
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

/// One `[[sinks]]` entry.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
pub enum SinkConfig {
    /// NDJSON on standard output, flushed per line.
    Stdout {
        /// Cursor name; defaults to the type (with `-2`, `-3`… for repeats).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
    },
    /// NDJSON appended to a file, fsync per batch.
    File {
        /// Cursor name; see `stdout`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        /// The file to append to (created with its parent directory).
        path: PathBuf,
    },
    /// HTTP POST per event, Standard Webhooks signed when a secret is set.
    Webhook {
        /// Cursor name; see `stdout`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        /// Target URL (http or https).
        url: String,
        /// Standard Webhooks secret (`whsec_` + base64); unsigned when empty.
        #[serde(default)]
        secret: Secret,
        /// Per-request timeout.
        #[serde(default = "default_webhook_timeout", with = "humantime_serde")]
        timeout: Duration,
    },
}

impl SinkConfig {
    /// The sink's type as written in the file.
    pub fn kind(&self) -> &'static str {
        match self {
            SinkConfig::Stdout { .. } => "stdout",
            SinkConfig::File { .. } => "file",
            SinkConfig::Webhook { .. } => "webhook",
        }
    }

    fn explicit_name(&self) -> Option<&str> {
        match self {
            SinkConfig::Stdout { name }
            | SinkConfig::File { name, .. }
            | SinkConfig::Webhook { name, .. } => name.as_deref(),
        }
    }
}

impl Config {
    /// Parses TOML text, expanding `${VAR}` from the process environment.
    pub fn from_toml_str(text: &str) -> Result<Self, ConfigError> {
        Self::from_toml_str_with_env(text, &|name| std::env::var(name).ok())
    }

    /// Parses TOML text with an explicit environment (tests).
    pub fn from_toml_str_with_env(
        text: &str,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let mut tree: toml::Value = toml::from_str(text).map_err(|e| ConfigError::Syntax(e.to_string()))?;
        let missing = expand::expand_tree(&mut tree, env).map_err(ConfigError::Expand)?;
        if !missing.is_empty() {
            let names: Vec<_> = missing.into_iter().collect();
            return Err(ConfigError::MissingEnv(names.join(", ")));
        }
        serde_path_to_error::deserialize(tree).map_err(|e| {
            let path = e.path().to_string();
            let message = e.into_inner().to_string();
            let message = message.lines().next().unwrap_or_default().to_string();
            ConfigError::Invalid { key: path, message }
        })
    }

    /// Reads and parses a file.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Read {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        Self::from_toml_str(&text)
    }

    /// Every semantic problem, each naming its key. Empty means valid.
    pub fn validate(&self) -> Vec<Problem> {
        validate::validate(self)
    }

    /// The cursor name of each sink, in config order (unique after validation).
    pub fn sink_names(&self) -> Vec<String> {
        let mut seen = std::collections::HashMap::<&str, usize>::new();
        self.sinks
            .iter()
            .map(|s| match s.explicit_name() {
                Some(n) => n.to_string(),
                None => {
                    let n = seen.entry(s.kind()).or_insert(0);
                    *n += 1;
                    if *n == 1 {
                        s.kind().to_string()
                    } else {
                        format!("{}-{}", s.kind(), n)
                    }
                }
            })
            .collect()
    }

    /// The effective configuration as TOML, secrets masked (for `wfm-reactor check`).
    pub fn to_masked_toml(&self) -> String {
        toml::to_string_pretty(self).unwrap_or_else(|e| format!("# cannot render: {e}"))
    }
}

/// Why a configuration could not be parsed at all.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {path}: {message}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The OS error.
        message: String,
    },
    /// Not TOML.
    #[error("TOML syntax error: {0}")]
    Syntax(String),
    /// A `${...}` reference is malformed.
    #[error("environment expansion: {0}")]
    Expand(String),
    /// `${VAR}` without default and VAR unset.
    #[error("environment variable(s) not set and no default given: {0}")]
    MissingEnv(String),
    /// Wrong type, unknown key, bad duration...
    #[error("{key}: {message}")]
    Invalid {
        /// Dotted path of the offending key.
        key: String,
        /// What serde said.
        message: String,
    },
}

// === defaults (named so the docs and the shipped config.toml agree) ===

fn default_true() -> bool {
    true
}
fn default_business_units() -> Vec<String> {
    vec!["*".into()]
}
fn default_membership_refresh() -> Duration {
    Duration::from_secs(600)
}
fn default_quiet() -> Duration {
    Duration::from_secs(2)
}
fn default_max_wait() -> Duration {
    Duration::from_secs(10)
}
fn default_concurrency() -> usize {
    4
}
fn default_rpm() -> u32 {
    240
}
fn default_weeks_back() -> u32 {
    1
}
fn default_weeks_ahead() -> u32 {
    4
}
fn default_request_timeout() -> Duration {
    Duration::from_secs(30)
}
fn default_reconcile_interval() -> Duration {
    Duration::from_secs(15 * 60)
}
fn default_state_path() -> PathBuf {
    PathBuf::from("data/wfm-reactor.db")
}
fn default_prune_interval() -> Duration {
    Duration::from_secs(60)
}
fn default_admin_listen() -> String {
    "127.0.0.1:9464".into()
}
fn default_topics_per_channel() -> usize {
    1000
}
fn default_max_channels() -> usize {
    20
}
fn default_heartbeat_timeout() -> Duration {
    Duration::from_secs(45)
}
fn default_pong_timeout() -> Duration {
    Duration::from_secs(10)
}
fn default_expiry_margin() -> Duration {
    Duration::from_secs(60 * 60)
}
fn default_max_frame_bytes() -> usize {
    1 << 20
}
fn default_backoff_min() -> Duration {
    Duration::from_millis(500)
}
fn default_backoff_max() -> Duration {
    Duration::from_secs(60)
}
fn default_grace() -> Duration {
    Duration::from_secs(20)
}
fn default_sim_bus() -> usize {
    2
}
fn default_sim_agents() -> usize {
    200
}
fn default_sim_seed() -> u64 {
    7
}
fn default_webhook_timeout() -> Duration {
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
