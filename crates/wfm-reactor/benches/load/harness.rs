//! Plumbing of the load scenarios on top of the test kit: the kit's simulator builder and
//! daemon harness with the bench preset, waits that report errors instead of panicking,
//! and the figures a scenario reports (process CPU and RSS, histograms in `stats`).

pub use crate::stats::*;
use genesys_sim::{SimConfig, SimHandle};
use std::time::Duration;
use tokio::time::Instant;
pub use wfm_testkit::requests::{is_api, max_in_window, requests_since};
use wfm_testkit::{DaemonBuilder, SimBuilder, Upstream, outbox};

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

/// The real daemon against a simulator in another process (only its URL is known).
pub type App = wfm_testkit::Daemon<()>;

/// The real daemon against its own in-process simulator.
pub type Daemon = wfm_testkit::Daemon<SimHandle>;

/// Starts a simulator with `sim_config`, then the real daemon against it (durable SQLite
/// outbox, one file sink). `extra` is appended to the TOML (debounce, fetch...).
pub async fn start(sim_config: SimConfig, extra: &str) -> anyhow::Result<Daemon> {
    let sim = SimBuilder::from(sim_config).try_start().await?;
    let upstream = Upstream::of(&sim);
    DaemonBuilder::bench()
        .extra(extra)
        .try_start(sim, &upstream)
        .await
}

/// Starts the daemon against the simulator (or platform) at `base` with these client
/// credentials: durable SQLite outbox and one file sink in a temporary directory.
pub async fn start_app(base: &str, id: &str, secret: &str, extra: &str) -> anyhow::Result<App> {
    start_app_on(base, id, secret, extra, None).await
}

/// [`start_app`] with `[[genesys.clients]]` instead of the single pair.
pub async fn start_app_clients(base: &str, clients: &[(String, String)], extra: &str) -> anyhow::Result<App> {
    let upstream = Upstream {
        base: base.into(),
        client_id: clients[0].0.clone(),
        client_secret: clients[0].1.clone(),
    };
    let clients: Vec<wfm_reactor::config::OAuthClient> = clients
        .iter()
        .map(|(id, secret)| wfm_reactor::config::OAuthClient {
            client_id: id.clone(),
            client_secret: wfm_reactor::config::Secret::new(secret.clone()),
        })
        .collect();
    DaemonBuilder::bench()
        .extra(extra)
        .tweak(move |c| {
            c.genesys.client_id = String::new();
            c.genesys.client_secret = wfm_reactor::config::Secret::default();
            c.genesys.clients = clients;
        })
        .try_start((), &upstream)
        .await
}

/// [`start_app`] with the store in PostgreSQL at `state_url` (`None`: the SQLite file).
pub async fn start_app_on(
    base: &str,
    id: &str,
    secret: &str,
    extra: &str,
    state_url: Option<String>,
) -> anyhow::Result<App> {
    let upstream = Upstream {
        base: base.into(),
        client_id: id.into(),
        client_secret: secret.into(),
    };
    // WFM_LOAD_STATE: extra `[state]` lines (e.g. `commit_linger = "0ms"`), to compare
    // settings in one build; the README's figures use none.
    let state = std::env::var("WFM_LOAD_STATE").unwrap_or_default();
    let mut builder = DaemonBuilder::bench().extra(extra).state(&state);
    if let Some(url) = state_url {
        builder = builder.tweak(move |c| c.state.url = Some(wfm_reactor::config::Secret::new(url)));
    }
    builder.try_start((), &upstream).await
}

/// The waits of a load scenario, as errors (a scenario reports, it does not panic).
pub trait Waits {
    /// Waits for the first reconcile to finish; returns when it did.
    async fn first_reconcile(&self, within: Duration) -> anyhow::Result<Instant>;
    /// Waits until nothing is pending, nothing new was committed for `quiet`, and the file
    /// sink caught up; returns the last committed sequence.
    async fn settle(&self, quiet: Duration, within: Duration) -> anyhow::Result<u64>;
}

impl<S> Waits for wfm_testkit::Daemon<S> {
    async fn first_reconcile(&self, within: Duration) -> anyhow::Result<Instant> {
        outbox::first_reconcile(&self.app, within).await
    }
    async fn settle(&self, quiet: Duration, within: Duration) -> anyhow::Result<u64> {
        outbox::quiesce(&self.app, quiet, within).await
    }
}

/// Waits until every channel of `sim` is connected and the union of their topics has
/// `topics` entries; returns when that happened.
pub async fn subscribed(sim: &SimHandle, topics: usize, within: Duration) -> anyhow::Result<Instant> {
    let ok = sim
        .wait_for_channels(wfm_testkit::patience(within), |chs| {
            !chs.is_empty()
                && chs.iter().all(|c| c.connected)
                && chs.iter().map(|c| c.topics.len()).sum::<usize>() >= topics
        })
        .await;
    anyhow::ensure!(ok, "not subscribed to {topics} topics within {within:?}");
    Ok(Instant::now())
}
