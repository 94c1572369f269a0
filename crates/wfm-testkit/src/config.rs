//! The daemon's configuration in tests: one TOML template (credentials and URLs of the
//! simulator, store and file sink in the test's temp dir, admin off) plus named sections a
//! preset or a test replaces. Presets are the timings each test area relies on.

use genesys_sim::SimHandle;
use std::path::{Path, PathBuf};
use wfm_reactor::config::Config;

/// Where the daemon finds Genesys Cloud: an in-process simulator or another process.
#[derive(Debug, Clone)]
pub struct Upstream {
    /// API and login base URL.
    pub base: String,
    /// OAuth client id.
    pub client_id: String,
    /// OAuth client secret.
    pub client_secret: String,
}

impl Upstream {
    /// The upstream of an in-process simulator.
    pub fn of(sim: &SimHandle) -> Self {
        Self {
            base: sim.base_url(),
            client_id: sim.client_id(),
            client_secret: sim.client_secret(),
        }
    }
}

/// Where the file sink of every test daemon writes, inside its directory.
pub fn events_path(dir: &Path) -> PathBuf {
    dir.join("events.ndjson")
}

/// The config text: the template, `sections` (table name, body) and raw `extra` text.
#[derive(Debug, Clone)]
pub struct ConfigText {
    /// `genesys.region` (`mypurecloud.com`, or `simulator` for the benches).
    pub region: String,
    /// `admin.listen` written into the file (empty: off, or bound by the harness).
    pub admin_listen: String,
    /// Whole tables by name, replaced by a later [`ConfigText::section`] of the same name.
    pub sections: Vec<(String, String)>,
    /// Appended verbatim (must not repeat a table of `sections`).
    pub extra: String,
    /// Extra lines of the `[state]` table ([`ConfigText::state`]).
    pub state_extra: String,
    /// `[watch] adherence`. Off unless a test asks ([`ConfigText::adherence`]): tests of
    /// the schedule and presence paths count events exactly, and adherence events would
    /// interleave with them.
    pub adherence: bool,
}

impl ConfigText {
    /// The bare template: no optional tables.
    pub fn minimal() -> Self {
        Self {
            region: "mypurecloud.com".into(),
            admin_listen: String::new(),
            sections: Vec::new(),
            extra: String::new(),
            state_extra: String::new(),
            adherence: false,
        }
    }

    /// Adds `key = value` lines to the `[state]` table (which holds the test's path).
    pub fn state(&mut self, lines: &str) {
        self.state_extra.push_str(lines);
        if !lines.ends_with('\n') {
            self.state_extra.push('\n');
        }
    }

    /// Turns adherence on (`[watch] adherence = true`).
    pub fn adherence(&mut self, on: bool) {
        self.adherence = on;
    }

    /// Sets (or replaces) the table `name` with `body`.
    pub fn section(&mut self, name: &str, body: &str) {
        self.sections.retain(|(n, _)| n != name);
        self.sections.push((name.into(), body.into()));
    }

    /// The TOML for `upstream`, storing in `dir`.
    pub fn render(&self, upstream: &Upstream, dir: &Path) -> String {
        let mut text = format!(
            "[genesys]\nregion = \"{region}\"\napi_url = \"{base}\"\nlogin_url = \"{base}\"\n\
             client_id = \"{id}\"\nclient_secret = \"{secret}\"\n\n\
             [state]\npath = \"{state}\"\n{state_extra}\n[admin]\nlisten = \"{admin}\"\n\n",
            region = self.region,
            base = upstream.base,
            id = upstream.client_id,
            secret = upstream.client_secret,
            state = dir.join("state.db").display(),
            state_extra = self.state_extra,
            admin = self.admin_listen,
        );
        for (name, body) in &self.sections {
            text.push_str(&format!("[{name}]\n{body}\n\n"));
        }
        let events = events_path(dir);
        text.push_str(&format!(
            "[[sinks]]\ntype = \"file\"\npath = \"{}\"\n",
            events.display()
        ));
        text.push_str(&self.extra);
        with_adherence(text, self.adherence)
    }

    /// Parses [`render`](Self::render) without reading the environment.
    pub fn parse(&self, upstream: &Upstream, dir: &Path) -> Config {
        let text = self.render(upstream, dir);
        Config::from_toml_str_with_env(&text, &|_| None)
            .unwrap_or_else(|e| panic!("test config does not parse: {e}\n{text}"))
    }
}

/// Writes `adherence = {on}` into the `[watch]` table (adding the table when absent).
fn with_adherence(text: String, on: bool) -> String {
    let line = format!("adherence = {on}\n");
    match text.find("[watch]\n") {
        Some(i) => {
            let at = i + "[watch]\n".len();
            format!("{}{line}{}", &text[..at], &text[at..])
        }
        None => format!("{text}\n[watch]\n{line}"),
    }
}

/// The events in the file sink of the daemon storing in `dir` (a missing file: none).
pub fn file_events(dir: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(events_path(dir))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}
