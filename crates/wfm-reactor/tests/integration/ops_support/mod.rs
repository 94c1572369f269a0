//! Shared helpers of the operations tests: a small simulator on port 0, a daemon wired to
//! it with its admin server on port 0, polling with deadlines, and a Prometheus text parser.

pub mod process;
mod prometheus;

pub use prometheus::{Sample, parse_prometheus, value};

use genesys_sim::{self, SimConfig, SimHandle};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::time::Instant;
use wfm_reactor::app::{self, Listeners, RunningApp};
use wfm_reactor::config::Config;

/// A small, fast simulated org: 1 BU, 12 agents, quick heartbeats, no background activity.
pub fn small_sim() -> SimConfig {
    SimConfig {
        business_units: 1,
        agents: 12,
        heartbeat_interval: Duration::from_millis(200),
        socket_closing_grace: Duration::from_millis(200),
        activity: false,
        ..SimConfig::default()
    }
}

/// Starts a simulator on 127.0.0.1:0.
pub async fn start_sim(config: SimConfig) -> SimHandle {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind sim");
    genesys_sim::start(config, listener).await.expect("start sim")
}

/// The TOML of a daemon pointed at `sim`, storing in `dir`, with a file sink, plus `extra`
/// (whole extra sections, e.g. `"[watch]\nrouting_status = true\n"`).
pub fn config_toml(
    sim: &SimHandle,
    dir: &Path,
    admin_listen: &str,
    debounce_quiet: &str,
    extra: &str,
) -> String {
    format!(
        r#"[genesys]
region = "mypurecloud.com"
client_id = "{id}"
client_secret = "{secret}"
api_url = "{base}"
login_url = "{base}"

[debounce]
quiet = "{debounce_quiet}"
max_wait = "30s"

[fetch]
requests_per_minute = 6000

[state]
path = "{state}"

[admin]
listen = "{admin_listen}"

[shutdown]
grace = "5s"

[[sinks]]
type = "file"
path = "{events}"
{extra}"#,
        id = sim.client_id(),
        secret = sim.client_secret(),
        base = sim.base_url(),
        state = dir.join("state.db").display(),
        events = events_path(dir).display(),
    )
}

/// Where the file sink of [`config_toml`] writes.
pub fn events_path(dir: &Path) -> PathBuf {
    dir.join("events.ndjson")
}

/// The events in the file sink so far (a missing file is no events).
pub fn file_events(dir: &Path) -> Vec<Value> {
    std::fs::read_to_string(events_path(dir))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// A daemon running in-process against its own simulator.
pub struct Daemon {
    /// The simulator.
    pub sim: SimHandle,
    /// The running daemon (taken by [`Daemon::shutdown`]).
    pub app: Option<RunningApp>,
    /// `http://127.0.0.1:PORT` of the admin server.
    pub admin: String,
    /// State, sink file.
    pub dir: tempfile::TempDir,
    /// HTTP client for the admin endpoints.
    pub http: reqwest::Client,
}

impl Daemon {
    /// Starts a sim and a daemon with `extra` config sections.
    pub async fn start(sim_config: SimConfig, extra: &str) -> Self {
        Self::on(start_sim(sim_config).await, extra).await
    }

    /// Starts a daemon against an already running (and possibly scripted) simulator.
    pub async fn on(sim: SimHandle, extra: &str) -> Self {
        init_logs();
        let dir = tempfile::tempdir().expect("tempdir");
        let text = config_toml(&sim, dir.path(), "", "200ms", extra);
        let config = Config::from_toml_str(&text).expect("config parses");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind admin");
        let admin = format!("http://{}", listener.local_addr().expect("addr"));
        let app = app::start(
            config,
            Listeners {
                admin: Some(listener),
            },
        )
        .await
        .expect("daemon starts");
        Self {
            sim,
            app: Some(app),
            admin,
            dir,
            http: reqwest::Client::new(),
        }
    }

    /// GET an admin path: (status, body text).
    pub async fn get(&self, path: &str) -> (u16, String) {
        let r = self
            .http
            .get(format!("{}{path}", self.admin))
            .send()
            .await
            .expect("admin request");
        let status = r.status().as_u16();
        (status, r.text().await.expect("admin body"))
    }

    /// `/readyz` as (status, JSON).
    pub async fn readyz(&self) -> (u16, Value) {
        let (s, body) = self.get("/readyz").await;
        (s, serde_json::from_str(&body).expect("readyz JSON"))
    }

    /// Waits until `/readyz` answers 200.
    pub async fn wait_ready(&self, timeout: Duration) {
        let ok = poll_until(timeout, Duration::from_millis(20), || async {
            self.readyz().await.0 == 200
        })
        .await;
        assert!(ok, "not ready within {timeout:?}: {:?}", self.readyz().await);
    }

    /// The parsed `/metrics`.
    pub async fn metrics(&self) -> Vec<Sample> {
        let (s, text) = self.get("/metrics").await;
        assert_eq!(s, 200);
        parse_prometheus(&text).unwrap_or_else(|e| panic!("metrics do not parse: {e}\n{text}"))
    }

    /// Agent ids of the sim's first management unit.
    pub fn agents(&self) -> Vec<String> {
        self.sim.org().business_units[0].management_units[0]
            .agent_ids
            .clone()
    }

    /// Graceful shutdown of the daemon and the sim.
    pub async fn shutdown(mut self) {
        if let Some(app) = self.app.take() {
            app.shutdown().await;
        }
        self.sim.shutdown();
    }
}

/// Polls `cond` every `every` until it holds or `timeout` passes; true if it held.
pub async fn poll_until<F, Fut>(timeout: Duration, every: Duration, mut cond: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if cond().await {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(every).await;
    }
}

/// Fetches a value every `every` until `pred` holds or `timeout` passes: `Ok(value)` when
/// it held, `Err(last value)` otherwise (for the failure message).
pub async fn poll_value<T, F, Fut>(
    timeout: Duration,
    every: Duration,
    mut fetch: F,
    pred: impl Fn(&T) -> bool,
) -> Result<T, T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = T>,
{
    let deadline = Instant::now() + timeout;
    loop {
        let v = fetch().await;
        if pred(&v) {
            return Ok(v);
        }
        if Instant::now() >= deadline {
            return Err(v);
        }
        tokio::time::sleep(every).await;
    }
}

/// Test logs (captured per test): `RUST_LOG`, else warnings only.
pub fn init_logs() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_test_writer()
        .try_init();
}
