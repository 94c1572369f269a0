//! Shared harness of the reactor end-to-end tests: a simulator on `127.0.0.1:0` with a
//! small org, a config pointing at it (tempdir store, file sink, short debounce, admin
//! off), the app started on it, and deadline-bounded polls over the outbox and the
//! simulator's request log. Nothing here sleeps to wait for readiness: every wait polls
//! a condition until a deadline.

mod observe;

use genesys_sim::{self, SimConfig, SimHandle};
pub use observe::*;
use serde_json::Value;
use std::time::Duration;
use tokio::time::Instant;
use wfm_reactor::app::{self, Listeners, RunningApp};
use wfm_reactor::config::Config;

/// How long any single wait may take before the test fails.
pub const DEADLINE: Duration = Duration::from_secs(8);
/// Poll period of every wait.
const POLL: Duration = Duration::from_millis(20);

/// Starts a simulator with `agents` agents in `business_units` BUs, a short heartbeat and
/// no background activity; `tweak` adjusts the rest.
pub async fn start_sim(
    business_units: usize,
    agents: usize,
    tweak: impl FnOnce(&mut SimConfig),
) -> SimHandle {
    init_logs();
    let mut cfg = SimConfig {
        business_units,
        agents,
        seed: 11,
        heartbeat_interval: Duration::from_millis(500),
        activity: false,
        ..SimConfig::default()
    };
    tweak(&mut cfg);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    genesys_sim::start(cfg, listener).await.unwrap()
}

/// Logs to the test output when `RUST_LOG` is set (captured per test by the harness).
pub fn init_logs() {
    if std::env::var_os("RUST_LOG").is_some() {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_test_writer()
            .try_init();
    }
}

/// A config for `sim` with its store and file sink in `dir`: debounce quiet 300 ms /
/// max wait 2 s, fast reconnects, admin disabled, long reconcile timer (so only start
/// and gaps reconcile). `tweak` adjusts it.
pub fn config(sim: &SimHandle, dir: &std::path::Path, tweak: impl FnOnce(&mut Config)) -> Config {
    let text = format!(
        r#"
[genesys]
region = "mypurecloud.com"
api_url = "{base}"
login_url = "{base}"
client_id = "{id}"
client_secret = "{secret}"

[watch]
business_units = ["*"]

[debounce]
quiet = "300ms"
max_wait = "2s"

[fetch]
requests_per_minute = 6000
concurrency = 4
request_timeout = "5s"

[reconcile]
interval = "1h"

[state]
path = "{store}"

[admin]
listen = ""

[notifications]
heartbeat_timeout = "3s"
pong_timeout = "1s"
backoff_min = "50ms"
backoff_max = "500ms"

[shutdown]
grace = "3s"

[[sinks]]
type = "file"
path = "{sink}"
"#,
        base = sim.base_url(),
        id = sim.client_id(),
        secret = sim.client_secret(),
        store = dir.join("state.db").display(),
        sink = dir.join("events.ndjson").display(),
    );
    let mut cfg = Config::from_toml_str_with_env(&text, &|_| None).expect("test config parses");
    tweak(&mut cfg);
    cfg
}

/// A started app plus what the tests read from it.
pub struct Harness {
    /// The simulator it talks to.
    pub sim: SimHandle,
    /// The running app.
    pub app: RunningApp,
    /// Keeps the store and sink files alive.
    pub dir: tempfile::TempDir,
}

/// Starts the app on `config` and waits until it is settled (see [`settle`]).
pub async fn start_app(config: Config, sim: &SimHandle) -> RunningApp {
    let app = app::start(config, Listeners::default())
        .await
        .expect("app starts");
    settle(&app, sim).await;
    app
}

/// Starts a simulator, a config and the app in one go.
pub async fn harness(
    business_units: usize,
    agents: usize,
    sim_tweak: impl FnOnce(&mut SimConfig),
    cfg_tweak: impl FnOnce(&mut Config),
) -> Harness {
    let sim = start_sim(business_units, agents, sim_tweak).await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(&sim, dir.path(), cfg_tweak);
    let app = start_app(cfg, &sim).await;
    Harness { sim, app, dir }
}

/// Polls `cond` every 20 ms until it holds; panics with `what` after [`DEADLINE`].
pub async fn wait_until<F, Fut>(what: &str, mut cond: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + DEADLINE;
    loop {
        if cond().await {
            return;
        }
        assert!(Instant::now() < deadline, "timed out waiting for: {what}");
        tokio::time::sleep(POLL).await;
    }
}

/// Waits until the first reconcile (and every fetch it caused) finished, a channel is
/// connected with its topics (the org is small: one channel), and no schedule key is pending.
pub async fn settle(app: &RunningApp, sim: &SimHandle) {
    let mut done = app.reactor.first_reconcile_done.clone();
    wait_until("first reconcile done", || {
        let v = *done.borrow_and_update();
        async move { v }
    })
    .await;
    assert!(
        sim.wait_for_channels(DEADLINE, |chs| chs
            .iter()
            .any(|c| c.connected && !c.topics.is_empty()))
            .await,
        "channels connected and subscribed"
    );
    idle(app).await;
}

/// Waits until no schedule key is waiting or in flight.
pub async fn idle(app: &RunningApp) {
    let pending = app.reactor.pending.clone();
    wait_until("no pending schedule keys", || {
        let v = *pending.borrow();
        async move { v == 0 }
    })
    .await;
}

/// Every outbox event after `after`, as (sequence, parsed CloudEvent).
pub async fn events_after(app: &RunningApp, after: u64) -> Vec<(u64, Value)> {
    let mut out = Vec::new();
    let mut cursor = after;
    loop {
        let page = app.store.read_outbox(cursor, 1000).await.unwrap();
        if page.is_empty() {
            return out;
        }
        for e in page {
            cursor = e.seq;
            out.push((e.seq, serde_json::from_str(&e.json).unwrap()));
        }
    }
}

/// The sequence of the last committed outbox event (0 when empty).
pub async fn last_seq(app: &RunningApp) -> u64 {
    events_after(app, 0).await.last().map_or(0, |(s, _)| *s)
}

/// Waits until the events after `after` satisfy `pred`; returns them.
pub async fn wait_events(
    app: &RunningApp,
    after: u64,
    what: &str,
    pred: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    let deadline = Instant::now() + DEADLINE;
    loop {
        let evs: Vec<Value> = events_after(app, after)
            .await
            .into_iter()
            .map(|(_, v)| v)
            .collect();
        if pred(&evs) {
            return evs;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for events: {what}; got {evs:#?}"
        );
        tokio::time::sleep(POLL).await;
    }
}

/// Events of one CloudEvent `type`.
pub fn of_type<'a>(evs: &'a [Value], ty: &str) -> Vec<&'a Value> {
    evs.iter().filter(|e| e["type"] == ty).collect()
}
