//! Shared plumbing of the load scenarios: start the simulator and the real daemon over
//! loopback sockets, read process CPU and RSS from /proc, read the latency histogram from
//! the Prometheus recorder, and count the simulator's request log.

use std::collections::BTreeMap;
use std::time::Duration;
use tokio::time::Instant;
use wfm_reactor::app::{self, Listeners, RunningApp};
use wfm_reactor::config::Config;
use wfm_reactor::sim::{self, LoggedRequest, SimConfig, SimHandle};

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
        Self { scenario, figures: Vec::new() }
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

/// A daemon running against its own simulator, with its temporary state directory.
pub struct Daemon {
    /// The running daemon.
    pub app: RunningApp,
    /// The simulator it talks to.
    pub sim: SimHandle,
    /// When `app::start` was called.
    pub started: Instant,
    _dir: tempfile::TempDir,
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
    let sim = sim::start(sim_config, listener).await?;
    Ok((sim, Instant::now()))
}

/// Starts the daemon against an already running simulator.
pub async fn start_against(sim: SimHandle, extra: &str) -> anyhow::Result<Daemon> {
    let dir = tempfile::tempdir()?;
    let base = sim.base_url();
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
        id = sim.client_id(),
        secret = sim.client_secret(),
        state = dir.path().join("state.db").display(),
        events = dir.path().join("events.ndjson").display(),
    );
    let config = Config::from_toml_str(&text)?;
    let problems = config.validate();
    anyhow::ensure!(problems.is_empty(), "bench config invalid: {problems:?}");
    let started = Instant::now();
    let app = app::start(config, Listeners::default()).await?;
    Ok(Daemon {
        app,
        sim,
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
        self.app.delivery.statuses().values().map(|s| s.cursor).min().unwrap_or(0)
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
            anyhow::ensure!(Instant::now() < deadline, "daemon did not settle within {timeout:?}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// User + system CPU seconds of this process so far.
pub fn cpu_seconds() -> f64 {
    stat_cpu("/proc/self/stat")
}

/// User + system CPU seconds of the calling thread so far.
pub fn thread_cpu_seconds() -> f64 {
    stat_cpu("/proc/thread-self/stat")
}

fn stat_cpu(path: &str) -> f64 {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    let rest = text.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // f[0] is field 3 (state), so field n is f[n - 3]. Linux reports in USER_HZ = 100.
    (ticks(11) + ticks(12)) / 100.0
}

/// Resident set size of this process in MiB (VmRSS).
pub fn rss_mib() -> f64 {
    let text = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    text.lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

/// Cumulative bucket counts (`le` → count) of a Prometheus histogram, summed over labels.
pub fn histogram(metric: &str) -> BTreeMap<String, f64> {
    let text = wfm_reactor::telemetry::prometheus::handle().render();
    let prefix = format!("{metric}_bucket{{");
    let mut out = BTreeMap::new();
    for line in text.lines().filter(|l| l.starts_with(&prefix)) {
        let Some((labels, value)) = line.rsplit_once(' ') else { continue };
        let Some(le) = labels.split("le=\"").nth(1).and_then(|s| s.split('"').next()) else {
            continue;
        };
        *out.entry(le.to_string()).or_insert(0.0) += value.parse::<f64>().unwrap_or(0.0);
    }
    out
}

/// The `q` quantile (0..1) of the observations between two histogram snapshots, linearly
/// interpolated inside its bucket (so it is an estimate bounded by the bucket edges).
pub fn quantile(before: &BTreeMap<String, f64>, after: &BTreeMap<String, f64>, q: f64) -> Option<f64> {
    let mut buckets: Vec<(f64, f64)> = after
        .iter()
        .map(|(le, n)| {
            let bound = if le == "+Inf" { f64::INFINITY } else { le.parse().unwrap_or(f64::INFINITY) };
            (bound, n - before.get(le).copied().unwrap_or(0.0))
        })
        .collect();
    buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
    let total = buckets.last()?.1;
    if total <= 0.0 {
        return None;
    }
    let rank = q * total;
    let (mut lo, mut below) = (0.0, 0.0);
    for (bound, cum) in buckets {
        if cum >= rank {
            if bound.is_infinite() {
                return Some(lo);
            }
            let share = if cum > below { (rank - below) / (cum - below) } else { 1.0 };
            return Some(lo + (bound - lo) * share);
        }
        lo = bound;
        below = cum;
    }
    None
}

/// Exact `q` quantile of a sample (sorted in place).
pub fn sample_quantile(v: &mut [f64], q: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    v[((v.len() - 1) as f64 * q).round() as usize]
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
