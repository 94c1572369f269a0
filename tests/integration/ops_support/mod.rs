//! Shared helpers of the operations tests: a small simulator on port 0, a daemon wired to
//! it with its admin server on port 0, polling with deadlines, and a Prometheus text parser.

pub mod process;

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::time::Instant;
use wfm_reactor::app::{self, Listeners, RunningApp};
use wfm_reactor::config::Config;
use wfm_reactor::sim::{self, SimConfig, SimHandle};

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
    sim::start(config, listener).await.expect("start sim")
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

/// One Prometheus sample line: `name{labels} value`.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// Metric name (with `_bucket`/`_sum`/`_count` suffixes as written).
    pub name: String,
    /// Label pairs.
    pub labels: BTreeMap<String, String>,
    /// The value.
    pub value: f64,
}

/// Parses the Prometheus text format strictly enough to catch a broken exposition:
/// `# HELP name text`, `# TYPE name counter|gauge|histogram|summary|untyped`, and
/// `name{k="v",...} value` lines whose family was typed before.
pub fn parse_prometheus(text: &str) -> Result<Vec<Sample>, String> {
    let mut typed: BTreeMap<String, String> = BTreeMap::new();
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim_end();
        if line.is_empty() {
            continue;
        }
        if let Some(rest) = line.strip_prefix("# ") {
            let mut parts = rest.splitn(3, ' ');
            match (parts.next(), parts.next(), parts.next()) {
                (Some("HELP"), Some(_), _) => {}
                (Some("TYPE"), Some(name), Some(kind))
                    if ["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind) =>
                {
                    typed.insert(name.to_string(), kind.to_string());
                }
                _ => return Err(format!("line {}: bad comment {line:?}", n + 1)),
            }
            continue;
        }
        let (series, value) = line
            .rsplit_once(' ')
            .ok_or_else(|| format!("line {}: no value in {line:?}", n + 1))?;
        let value: f64 = match value {
            "+Inf" => f64::INFINITY,
            "-Inf" => f64::NEG_INFINITY,
            v => v
                .parse()
                .map_err(|e| format!("line {}: value {v:?}: {e}", n + 1))?,
        };
        let (name, labels) = match series.split_once('{') {
            None => (series.to_string(), BTreeMap::new()),
            Some((name, rest)) => {
                let body = rest
                    .strip_suffix('}')
                    .ok_or_else(|| format!("line {}: unclosed labels", n + 1))?;
                (
                    name.to_string(),
                    parse_labels(body).map_err(|e| format!("line {}: {e}", n + 1))?,
                )
            }
        };
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
        {
            return Err(format!("line {}: bad metric name {name:?}", n + 1));
        }
        let family = ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|s| name.strip_suffix(s).filter(|f| typed.contains_key(*f)))
            .unwrap_or(&name);
        if !typed.contains_key(family) {
            return Err(format!("line {}: sample {name} without a TYPE line", n + 1));
        }
        out.push(Sample { name, labels, value });
    }
    Ok(out)
}

fn parse_labels(body: &str) -> Result<BTreeMap<String, String>, String> {
    let mut labels = BTreeMap::new();
    let mut rest = body;
    while !rest.is_empty() {
        let (key, after) = rest.split_once("=\"").ok_or("label without =\"")?;
        let mut value = String::new();
        let mut chars = after.char_indices();
        let end = loop {
            match chars.next() {
                Some((_, '\\')) => match chars.next() {
                    Some((_, 'n')) => value.push('\n'),
                    Some((_, c)) => value.push(c),
                    None => return Err("dangling escape".into()),
                },
                Some((i, '"')) => break i,
                Some((_, c)) => value.push(c),
                None => return Err("unterminated label value".into()),
            }
        };
        labels.insert(key.trim_start_matches(',').to_string(), value);
        rest = after[end + 1..].trim_start_matches(',');
    }
    Ok(labels)
}

/// The summed value of `name` over samples whose labels include every pair of `with`.
pub fn value(samples: &[Sample], name: &str, with: &[(&str, &str)]) -> f64 {
    samples
        .iter()
        .filter(|s| s.name == name)
        .filter(|s| {
            with.iter()
                .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
        })
        .map(|s| s.value)
        .sum()
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
