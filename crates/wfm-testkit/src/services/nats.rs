//! NATS JetStream for the tests: the shared server (`WFM_REACTOR_TEST_NATS`, default
//! `nats://127.0.0.1:4222`), a private server process for outage tests, stream helpers.

use super::{reachable, unavailable};
use async_nats::jetstream::{self, stream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The shared server's URL.
pub fn url() -> String {
    std::env::var("WFM_REACTOR_TEST_NATS").unwrap_or_else(|_| "nats://127.0.0.1:4222".into())
}

/// A JetStream context on the shared server, or `None` (skipped) when it is away.
pub async fn jetstream_or_skip(test: &str) -> Option<jetstream::Context> {
    let url = url();
    let hostport = url.trim_start_matches("nats://").to_string();
    if !reachable(&hostport).await {
        return unavailable(test, format!("NATS not reachable at {url}"));
    }
    let client = async_nats::connect(&url).await.expect("connect to NATS");
    Some(jetstream::new(client))
}

/// Creates a file-backed stream `name` on `subjects` with a 2-minute duplicate window.
pub async fn create_stream(js: &jetstream::Context, name: &str, subjects: Vec<String>) -> stream::Stream {
    js.create_stream(stream::Config {
        name: name.to_string(),
        subjects,
        duplicate_window: Duration::from_secs(120),
        ..Default::default()
    })
    .await
    .expect("create stream")
}

/// Every message of a stream, in stream order.
pub async fn messages(js: &jetstream::Context, name: &str) -> Vec<jetstream::message::StreamMessage> {
    let mut s = js.get_stream(name).await.expect("stream");
    let state = s.info().await.expect("stream info").state.clone();
    let mut out = Vec::new();
    if state.messages == 0 {
        return out;
    }
    for seq in state.first_sequence..=state.last_sequence {
        if let Ok(m) = s.get_raw_message(seq).await {
            out.push(m);
        }
    }
    out
}

/// A `nats-server -js` of the test's own, on a fixed port so it can be restarted there.
pub struct PrivateServer {
    child: Option<Child>,
    port: u16,
    dir: PathBuf,
}

impl PrivateServer {
    /// Starts one (store in `dir`) and waits until it accepts connections, or `None`
    /// (skipped) when no `nats-server` binary is installed.
    pub async fn start(test: &str, dir: &Path) -> Option<Self> {
        let binary = server_binary();
        if !binary.exists() {
            return unavailable(test, format!("no nats-server binary at {}", binary.display()));
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut s = Self {
            child: None,
            port,
            dir: dir.to_path_buf(),
        };
        s.restart().await;
        Some(s)
    }

    /// The client URL.
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// SIGKILLs the server (its JetStream store stays on disk).
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts the server again on the same port and store, waiting until it listens.
    pub async fn restart(&mut self) {
        self.kill();
        let child = Command::new(server_binary())
            .args(["-a", "127.0.0.1", "-p", &self.port.to_string(), "-js", "-sd"])
            .arg(&self.dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn nats-server");
        self.child = Some(child);
        let addr = format!("127.0.0.1:{}", self.port);
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        while !reachable(&addr).await {
            assert!(
                tokio::time::Instant::now() < deadline,
                "nats-server did not listen on {addr}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for PrivateServer {
    fn drop(&mut self) {
        self.kill();
    }
}

fn server_binary() -> PathBuf {
    std::env::var_os("WFM_REACTOR_NATS_SERVER")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/sbin/nats-server"))
}
