//! Shared plumbing of the load scenarios: start the simulator and the real daemon over
//! loopback sockets, read process CPU and RSS from /proc, read the latency histogram from
//! the Prometheus recorder, and count the simulator's request log.

pub use crate::stats::*;
use genesys_sim::{self, LoggedRequest, SimConfig, SimHandle};
use std::time::Duration;
use tokio::time::Instant;
use wfm_reactor::app::{self, Listeners, RunningApp};
use wfm_reactor::config::Config;

/// One measured figure of a scenario.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Figure {
    /// Scenario name.
    pub scenario: String,
    /// What was measured.
    pub name: String,
    /// The value.
    pub value: f64,
    /// Unit of `value`.
    pub unit: String,
    /// The target, as text (`≥ 50000`), if any.
    pub target: Option<String>,
    /// Whether the target was met.
    pub pass: Option<bool>,
}

/// Collects the figures of one scenario.
pub struct Report {
    scenario: &'static str,
    /// Figures in order.
    pub figures: Vec<Figure>,
}

impl Report {
    /// An empty report for `scenario`.
    pub fn new(scenario: &'static str) -> Self {
        Self {
            scenario,
            figures: Vec::new(),
        }
    }
    fn push(&mut self, name: &str, value: f64, unit: &str, target: Option<String>, pass: Option<bool>) {
        self.figures.push(Figure {
            scenario: self.scenario.into(),
            name: name.into(),
            value,
            unit: unit.into(),
            target,
            pass,
        });
    }
    /// A figure without target.
    pub fn info(&mut self, name: &str, value: f64, unit: &str) {
        self.push(name, value, unit, None, None);
    }
    /// A figure that must be at least `min`.
    pub fn at_least(&mut self, name: &str, value: f64, unit: &str, min: f64) {
        self.push(name, value, unit, Some(format!(">= {min}")), Some(value >= min));
    }
    /// A figure that must be at most `max`.
    pub fn at_most(&mut self, name: &str, value: f64, unit: &str, max: f64) {
        self.push(name, value, unit, Some(format!("<= {max}")), Some(value <= max));
    }
}

/// The real daemon with its temporary state directory.
pub struct App {
    /// The running daemon.
    pub app: RunningApp,
    /// When `app::start` was called.
    pub started: Instant,
    /// The state directory (removed when dropped).
    pub _dir: tempfile::TempDir,
}

/// A daemon running against its own in-process simulator.
pub struct Daemon {
    /// The daemon.
    pub daemon: App,
    /// The simulator it talks to.
    pub sim: SimHandle,
}

impl std::ops::Deref for Daemon {
    type Target = App;
    fn deref(&self) -> &App {
        &self.daemon
    }
}

/// Starts a simulator with `sim_config`, then the real daemon against it (durable SQLite
/// outbox, one file sink). `extra` is appended to the TOML (debounce, fetch...).
pub async fn start(sim_config: SimConfig, extra: &str) -> anyhow::Result<Daemon> {
    let (sim, started_sim) = start_sim(sim_config).await?;
    let _ = started_sim;
    start_against(sim, extra).await
}

/// Starts only the simulator (for the sim-alone baselines).
pub async fn start_sim(sim_config: SimConfig) -> anyhow::Result<(SimHandle, Instant)> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let sim = genesys_sim::start(sim_config, listener).await?;
    Ok((sim, Instant::now()))
}

/// Starts the daemon against an already running in-process simulator.
pub async fn start_against(sim: SimHandle, extra: &str) -> anyhow::Result<Daemon> {
    let daemon = start_app(&sim.base_url(), &sim.client_id(), &sim.client_secret(), extra).await?;
    Ok(Daemon { daemon, sim })
}

/// Starts the daemon against the simulator (or platform) at `base` with these client
/// credentials: durable SQLite outbox and one file sink in a temporary directory.
pub async fn start_app(base: &str, id: &str, secret: &str, extra: &str) -> anyhow::Result<App> {
    let dir = tempfile::tempdir()?;
    let text = format!(
        r#"
[genesys]
region = "simulator"
api_url = "{base}"
login_url = "{base}"
client_id = "{id}"
client_secret = "{secret}"

[watch]
business_units = ["*"]

[state]
path = "{state}"

[admin]
listen = ""

[[sinks]]
type = "file"
path = "{events}"
{extra}
"#,
        state = dir.path().join("state.db").display(),
        events = dir.path().join("events.ndjson").display(),
    );
    let config = Config::from_toml_str(&text)?;
    let problems = config.validate();
    anyhow::ensure!(problems.is_empty(), "bench config invalid: {problems:?}");
    let started = Instant::now();
    let app = app::start(config, Listeners::default()).await?;
    Ok(App {
        app,
        started,
        _dir: dir,
    })
}

impl Daemon {
    /// Waits until every channel is connected and the union of their topics has `topics`
    /// entries; returns when that happened.
    pub async fn subscribed(&self, topics: usize, timeout: Duration) -> anyhow::Result<Instant> {
        let ok = self
            .sim
            .wait_for_channels(timeout, |chs| {
                !chs.is_empty()
                    && chs.iter().all(|c| c.connected)
                    && chs.iter().map(|c| c.topics.len()).sum::<usize>() >= topics
            })
            .await;
        anyhow::ensure!(ok, "not subscribed to {topics} topics within {timeout:?}");
        Ok(Instant::now())
    }
}

impl App {
    /// The file sink's NDJSON file (one committed event per line).
    pub fn events_path(&self) -> std::path::PathBuf {
        self._dir.path().join("events.ndjson")
    }

    /// Waits for the first reconcile to finish.
    pub async fn first_reconcile(&self, timeout: Duration) -> anyhow::Result<Instant> {
        let mut rx = self.app.reactor.first_reconcile_done.clone();
        tokio::time::timeout(timeout, rx.wait_for(|d| *d))
            .await
            .map_err(|_| {
                anyhow::anyhow!(
                    "first reconcile not done within {timeout:?} (pending {}, committed {})",
                    *self.app.reactor.pending.borrow(),
                    *self.app.store.committed().borrow()
                )
            })??;
        Ok(Instant::now())
    }

    /// The file sink's cursor.
    pub fn sink_cursor(&self) -> u64 {
        self.app
            .delivery
            .statuses()
            .values()
            .map(|s| s.cursor)
            .min()
            .unwrap_or(0)
    }

    /// Waits until nothing is pending, nothing new was committed for `quiet`, and the file
    /// sink caught up; returns the last committed sequence.
    pub async fn settle(&self, quiet: Duration, timeout: Duration) -> anyhow::Result<u64> {
        let deadline = Instant::now() + timeout;
        let mut last = u64::MAX;
        let mut since = Instant::now();
        loop {
            let committed = *self.app.store.committed().borrow();
            let pending = *self.app.reactor.pending.borrow();
            if committed != last || pending > 0 || self.sink_cursor() < committed {
                last = committed;
                since = Instant::now();
            } else if since.elapsed() >= quiet {
                return Ok(committed);
            }
            anyhow::ensure!(
                Instant::now() < deadline,
                "daemon did not settle within {timeout:?}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// Requests logged at or after `since`.
pub fn requests_since(sim: &SimHandle, since: Instant) -> Vec<LoggedRequest> {
    sim.request_log().into_iter().filter(|r| r.at >= since).collect()
}

/// The most requests in any `window` (sliding over request arrival times).
pub fn max_in_window(reqs: &[LoggedRequest], window: Duration) -> usize {
    let mut at: Vec<Instant> = reqs.iter().map(|r| r.at).collect();
    at.sort();
    let mut best = 0;
    let mut j = 0;
    for i in 0..at.len() {
        while at[i] - at[j] >= window {
            j += 1;
        }
        best = best.max(i + 1 - j);
    }
    best
}

/// True for requests counted against the platform's per-token rate limit (the REST API,
/// not OAuth nor the pre-signed result downloads).
pub fn is_api(r: &LoggedRequest) -> bool {
    r.path.starts_with("/api/v2/")
}
