//! The Python peer (`scripts/peer-notifications.py`: the `genesys-notifications` 1.3
//! client from PyPI) in its own process, consuming the same simulator stream as the daemon,
//! so the bench reports peer CPU / daemon CPU measured on one machine in one run.
//!
//! The peer is optional: if Python or PyPI is unavailable `scripts/peer-setup.sh` fails
//! and the scenario reports the peer as skipped instead of failing.

use crate::remote::RemoteSim;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout, Command};

/// A running peer; killed when dropped.
pub struct Peer {
    /// The peer's own CPU seconds (`time.process_time()`) when it was subscribed.
    pub ready_cpu: f64,
    /// Held so the process is killed when the peer is dropped.
    _child: Child,
    lines: Lines<BufReader<ChildStdout>>,
}

/// The repository root (benches run with the crate as working directory).
fn root() -> std::path::PathBuf {
    std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

/// The peer's Python (the venv `scripts/peer-setup.sh` made), or why there is none.
async fn python() -> Result<String, String> {
    let out = Command::new("sh")
        .arg(root().join("scripts/peer-setup.sh"))
        .stderr(Stdio::inherit())
        .output()
        .await
        .map_err(|e| format!("cannot run scripts/peer-setup.sh: {e}"))?;
    if !out.status.success() {
        return Err(format!("scripts/peer-setup.sh failed ({})", out.status));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

impl Peer {
    /// Starts the peer on `sim` for `users`; it reports each cumulative count in `marks`.
    /// Returns once its channels hold every user's topic; `Err` with the reason to skip.
    pub async fn start(sim: &RemoteSim, users: &[String], marks: &[usize]) -> Result<Self, String> {
        let python = python().await?;
        let file = std::env::temp_dir().join(format!("wfm-peer-users-{}", std::process::id()));
        std::fs::write(&file, users.join("\n")).map_err(|e| e.to_string())?;
        let mut child = Command::new(python)
            .arg(root().join("scripts/peer-notifications.py"))
            .args([&sim.base, &sim.client_id, &sim.client_secret])
            .arg(&file)
            .args(marks.iter().map(|m| m.to_string()))
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("cannot start the peer: {e}"))?;
        let stdout = child.stdout.take().ok_or("the peer has no stdout")?;
        let mut peer = Self {
            ready_cpu: 0.0,
            _child: child,
            lines: BufReader::new(stdout).lines(),
        };
        let ready = peer.expect("ready", Duration::from_secs(60)).await?;
        peer.ready_cpu = cpu_field(&ready, 1)?;
        sim.connected_topics(users.len(), Duration::from_secs(30))
            .await
            .map_err(|e| e.to_string())?;
        Ok(peer)
    }

    /// Waits for the peer's next `mark N CPU` line; returns its CPU seconds so far.
    pub async fn mark(&mut self, within: Duration) -> Result<f64, String> {
        let line = self.expect("mark", within).await?;
        cpu_field(&line, 2)
    }

    /// Waits for the peer's next line, which must start with `word`.
    async fn expect(&mut self, word: &str, within: Duration) -> Result<String, String> {
        match tokio::time::timeout(within, self.lines.next_line()).await {
            Ok(Ok(Some(line))) if line.starts_with(word) => Ok(line),
            Ok(Ok(Some(line))) => Err(format!("the peer said {line:?}, expected {word}")),
            Ok(Ok(None)) => Err("the peer exited".into()),
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err(format!("no {word} from the peer within {within:?}")),
        }
    }
}

/// The `i`th word of a peer line, as CPU seconds.
fn cpu_field(line: &str, i: usize) -> Result<f64, String> {
    line.split_whitespace()
        .nth(i)
        .and_then(|w| w.parse().ok())
        .ok_or_else(|| format!("the peer said {line:?}, without CPU seconds"))
}
