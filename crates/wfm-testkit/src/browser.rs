//! A headless Chromium driven over W3C WebDriver (Debian's `chromium` + `chromium-driver`),
//! for tests of the intraday board in a real browser.
//!
//! The protocol is four JSON-over-HTTP calls (new session, navigate, execute script,
//! screenshot), spoken with the `reqwest` client the kit already has, so the browser tests
//! add no dependency tree. Without chromium the tests skip with a printed reason, unless
//! `WFM_TEST_REQUIRE_SERVICES=1` (CI), where its absence is a failure.

use anyhow::{Context, bail};
use base64::Engine;
use serde_json::{Value, json};
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;
use tokio::process::{Child, Command};

/// Where Debian installs them.
pub const CHROMIUM: &str = "/usr/bin/chromium";
/// Debian's `chromium-driver`.
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// `Ok(())` when chromium and chromedriver are installed; otherwise the reason to skip
/// (a panic instead under `WFM_TEST_REQUIRE_SERVICES=1`).
pub fn available() -> Result<(), String> {
    let missing: Vec<&str> = [CHROMIUM, CHROMEDRIVER]
        .into_iter()
        .filter(|p| !Path::new(p).exists())
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let reason = format!(
        "{} not installed (apt-get install -y chromium chromium-driver)",
        missing.join(" and ")
    );
    if std::env::var("WFM_TEST_REQUIRE_SERVICES").as_deref() == Ok("1") {
        panic!("WFM_TEST_REQUIRE_SERVICES=1 but {reason}");
    }
    Err(reason)
}

/// One chromedriver process with one headless session. Call [`Browser::close`]: killing
/// chromedriver alone (on drop) leaves its chromium running, re-parented to init.
pub struct Browser {
    http: reqwest::Client,
    session: String,
    base: String,
    _driver: Child,
    _profile: tempfile::TempDir,
}

/// A WebDriver session, asked for up to three times: on a loaded machine chromium can
/// fail its first start (its DevTools port not ready in time) and succeed the next.
async fn new_session(http: &reqwest::Client, base: &str, caps: &Value) -> anyhow::Result<String> {
    let mut last = String::new();
    for _ in 0..3 {
        let answer = http.post(format!("{base}/session")).json(caps).send().await;
        let v: Value = match answer {
            Ok(r) => r.json().await?,
            Err(e) => {
                last = e.to_string();
                continue;
            }
        };
        match v["value"]["sessionId"].as_str() {
            Some(id) => return Ok(id.to_string()),
            None => last = v.to_string(),
        }
    }
    bail!("no WebDriver session after 3 attempts: {last}")
}

impl Browser {
    /// Starts chromedriver on a free port and opens a headless session.
    pub async fn start() -> anyhow::Result<Browser> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .context("starting chromedriver")?;
        let base = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()?;
        let deadline = tokio::time::Instant::now() + crate::patience(Duration::from_secs(10));
        loop {
            let ready = http.get(format!("{base}/status")).send().await;
            if let Ok(r) = ready
                && r.json::<Value>().await.is_ok_and(|v| v["value"]["ready"] == true)
            {
                break;
            }
            if tokio::time::Instant::now() > deadline {
                bail!("chromedriver not ready on port {port}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let profile = tempfile::tempdir()?;
        let args = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--window-size=1280,800",
        ];
        let mut args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        args.push(format!("--user-data-dir={}", profile.path().display()));
        let caps = json!({"capabilities": {"alwaysMatch": {"browserName": "chrome",
            "goog:chromeOptions": {"binary": CHROMIUM, "args": args}}}});
        let session = new_session(&http, &base, &caps).await?;
        Ok(Browser {
            http,
            session,
            base,
            _driver: driver,
            _profile: profile,
        })
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Value) -> anyhow::Result<Value> {
        let url = format!("{}/session/{}/{path}", self.base, self.session);
        let mut req = self.http.request(method, url);
        if !body.is_null() {
            req = req.json(&body);
        }
        let v: Value = req.send().await?.json().await?;
        if v["value"].get("error").is_some() {
            bail!("webdriver {path}: {}", v["value"]);
        }
        Ok(v["value"].clone())
    }

    /// Loads `url`.
    pub async fn goto(&self, url: &str) -> anyhow::Result<()> {
        self.call(reqwest::Method::POST, "url", json!({"url": url}))
            .await
            .map(|_| ())
    }

    /// Runs `script` (a function body; `return` gives the value) in the page.
    pub async fn eval(&self, script: &str) -> anyhow::Result<Value> {
        self.call(
            reqwest::Method::POST,
            "execute/sync",
            json!({"script": script, "args": []}),
        )
        .await
    }

    /// Ends the session (chromedriver quits its chromium), then the driver.
    pub async fn close(self) -> anyhow::Result<()> {
        let url = format!("{}/session/{}", self.base, self.session);
        self.http.delete(url).send().await?.error_for_status()?;
        Ok(())
    }

    /// A PNG of the viewport.
    pub async fn screenshot(&self) -> anyhow::Result<Vec<u8>> {
        let v = self.call(reqwest::Method::GET, "screenshot", Value::Null).await?;
        let b64 = v.as_str().context("screenshot is base64 text")?;
        Ok(base64::engine::general_purpose::STANDARD.decode(b64)?)
    }
}
