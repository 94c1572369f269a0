//! One daemon harness: the real app (`app::start`) against a simulator, with its store and
//! file sink in a temp dir and, when asked, its admin server on `127.0.0.1:0`. Presets set
//! the timings a test area relies on; tests and benches read the store and outbox through
//! the handle ([`crate::outbox`]) instead of through copies of the same queries.

use crate::config::{ConfigText, Upstream};
use crate::outbox;
use genesys_sim::SimHandle;
use std::time::Duration;
use tokio::time::Instant;
use wfm_reactor::app::{self, Listeners, RunningApp};
use wfm_reactor::config::Config;

type Tweak = Box<dyn FnOnce(&mut Config)>;

/// Builds the daemon's config and starts it.
pub struct DaemonBuilder {
    /// The config text (public so a test can render it for a child process).
    pub text: ConfigText,
    tweaks: Vec<Tweak>,
    admin: bool,
    settle: bool,
}

impl DaemonBuilder {
    /// The bare template: file sink, admin off, the daemon's default timings.
    pub fn minimal() -> Self {
        Self {
            text: ConfigText::minimal(),
            tweaks: Vec::new(),
            admin: false,
            settle: false,
        }
    }

    /// Reactor end-to-end tests: every BU watched, debounce 300 ms / 2 s, a generous
    /// budget, only start and gaps reconcile, fast reconnects; `start` waits until the
    /// daemon settled (first reconcile done, subscribed, nothing pending).
    pub fn reactor() -> Self {
        let mut b = Self::minimal().watch_all().debounce("300ms", "2s");
        b.text.section(
            "fetch",
            "requests_per_minute = 6000\nconcurrency = 4\nrequest_timeout = \"5s\"",
        );
        b.text.section("reconcile", "interval = \"1h\"");
        b.text.section(
            "notifications",
            "heartbeat_timeout = \"3s\"\npong_timeout = \"1s\"\nbackoff_min = \"50ms\"\nbackoff_max = \"500ms\"",
        );
        b.text.section("shutdown", "grace = \"3s\"");
        b.settle = true;
        b
    }

    /// Operations tests: debounce 200 ms / 30 s, a generous budget, 5 s grace, admin on.
    pub fn ops() -> Self {
        let mut b = Self::minimal().debounce("200ms", "30s");
        b.text.section("fetch", "requests_per_minute = 6000");
        b.text.section("shutdown", "grace = \"5s\"");
        b.admin = true;
        b
    }

    /// Load benches: the `simulator` region, every BU watched, otherwise defaults.
    pub fn bench() -> Self {
        let mut b = Self::minimal().watch_all();
        b.text.region = "simulator".into();
        b
    }

    /// Watches every business unit.
    pub fn watch_all(mut self) -> Self {
        self.text.section("watch", "business_units = [\"*\"]");
        self
    }

    /// Sets the debounce window.
    pub fn debounce(mut self, quiet: &str, max_wait: &str) -> Self {
        let body = format!("quiet = \"{quiet}\"\nmax_wait = \"{max_wait}\"");
        self.text.section("debounce", &body);
        self
    }

    /// Sets `[watch] adherence` (off in every preset; see [`ConfigText::adherence`]).
    pub fn adherence(mut self, on: bool) -> Self {
        self.text.adherence(on);
        self
    }

    /// Appends raw TOML (whole tables not set by the preset).
    pub fn extra(mut self, toml: &str) -> Self {
        self.text.extra.push_str(toml);
        self
    }

    /// Adds `key = value` lines to the `[state]` table.
    pub fn state(mut self, lines: &str) -> Self {
        self.text.state(lines);
        self
    }

    /// Writes `addr` as `admin.listen` (for a daemon run as a child process, which binds
    /// it itself) instead of binding a listener in the harness.
    pub fn admin_listen(mut self, addr: &str) -> Self {
        self.text.admin_listen = addr.into();
        self.admin = false;
        self
    }

    /// The config text for `upstream` storing in `dir` (tweaks do not apply).
    pub fn render(&self, upstream: &Upstream, dir: &std::path::Path) -> String {
        self.text.render(upstream, dir)
    }

    /// Adjusts the parsed config.
    pub fn tweak(mut self, f: impl FnOnce(&mut Config) + 'static) -> Self {
        self.tweaks.push(Box::new(f));
        self
    }

    /// The config for `upstream` storing in `dir`, with every tweak applied.
    pub fn config(self, upstream: &Upstream, dir: &std::path::Path) -> Config {
        let mut config = self.text.parse(upstream, dir);
        for t in self.tweaks {
            t(&mut config);
        }
        config
    }

    /// Starts the daemon against an in-process simulator (panics on failure).
    pub async fn start(self, sim: SimHandle) -> Daemon {
        let upstream = Upstream::of(&sim);
        let settle = self.settle;
        let d = self.try_start(sim, &upstream).await.expect("daemon starts");
        if settle {
            outbox::settle(&d.app, &d.sim).await;
        }
        d
    }

    /// Starts the daemon against `upstream`; `sim` is whatever the caller keeps with it.
    pub async fn try_start<S>(self, sim: S, upstream: &Upstream) -> anyhow::Result<Daemon<S>> {
        crate::init_logs();
        let dir = tempfile::tempdir()?;
        let admin = self.admin;
        let config = self.config(upstream, dir.path());
        let problems = config.validate();
        anyhow::ensure!(problems.is_empty(), "test config invalid: {problems:?}");
        let (listeners, admin_url) = listeners(admin).await?;
        let started = Instant::now();
        let app = app::start(config, listeners).await?;
        Ok(Daemon {
            sim,
            app,
            dir,
            admin: admin_url,
            started,
            http: reqwest::Client::new(),
        })
    }
}

/// Starts the app on `config` (built by a [`DaemonBuilder`] for a store the test keeps,
/// e.g. to restart on it) and waits until it settled, as [`DaemonBuilder::reactor`] does.
pub async fn start_app(config: Config, sim: &SimHandle) -> RunningApp {
    crate::init_logs();
    let app = app::start(config, Listeners::default())
        .await
        .expect("app starts");
    outbox::settle(&app, sim).await;
    app
}

async fn listeners(admin: bool) -> anyhow::Result<(Listeners, String)> {
    if !admin {
        return Ok((Listeners::default(), String::new()));
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    Ok((
        Listeners {
            admin: Some(listener),
        },
        url,
    ))
}

/// A running daemon, what it talks to (`sim`), and what tests read from it.
pub struct Daemon<S = SimHandle> {
    /// The simulator (or other upstream) the daemon talks to.
    pub sim: S,
    /// The running app.
    pub app: RunningApp,
    /// The store and the file sink's file (removed when dropped).
    pub dir: tempfile::TempDir,
    /// `http://127.0.0.1:PORT` of the admin server, empty when off.
    pub admin: String,
    /// When `app::start` was called.
    pub started: Instant,
    /// HTTP client for the admin endpoints.
    pub http: reqwest::Client,
}

impl<S> Daemon<S> {
    /// The file sink's NDJSON file.
    pub fn events_path(&self) -> std::path::PathBuf {
        crate::config::events_path(self.dir.path())
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
    pub async fn readyz(&self) -> (u16, serde_json::Value) {
        let (s, body) = self.get("/readyz").await;
        (s, serde_json::from_str(&body).expect("readyz JSON"))
    }

    /// Waits until `/readyz` answers 200.
    pub async fn wait_ready(&self, within: Duration) {
        let what = "/readyz to answer 200";
        crate::eventually_value(within, what, || self.readyz(), |r| r.0 == 200).await;
    }

    /// The parsed `/metrics`.
    pub async fn metrics(&self) -> Vec<crate::prometheus::Sample> {
        let (s, text) = self.get("/metrics").await;
        assert_eq!(s, 200);
        crate::prometheus::parse(&text).unwrap_or_else(|e| panic!("metrics do not parse: {e}\n{text}"))
    }

    /// The lowest delivered cursor over the sinks.
    pub fn sink_cursor(&self) -> u64 {
        outbox::sink_cursor(&self.app)
    }
}

impl Daemon<SimHandle> {
    /// Agent ids of the simulator's first management unit.
    pub fn agents(&self) -> Vec<String> {
        crate::org::mu_agents(&self.sim)
    }

    /// Graceful shutdown of the daemon, then the simulator.
    pub async fn shutdown(self) {
        self.app.shutdown().await;
        self.sim.shutdown();
    }
}
