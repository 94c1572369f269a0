//! The simulator in its own process (`target/release/wfm-reactor sim`), driven through its
//! `/sim/` control routes, so the bench process's CPU and latency are the daemon's alone.

use serde_json::{Value, json};
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::time::Instant;

/// A running `wfm-reactor sim` child; killed when dropped.
pub struct RemoteSim {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// OAuth client id it accepts.
    pub client_id: String,
    /// OAuth client secret it accepts.
    pub client_secret: String,
    http: reqwest::Client,
}

/// The release binary (in the workspace's target directory): benches cannot ask Cargo for
/// it, so it must be built first.
pub fn binary() -> anyhow::Result<PathBuf> {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../target")));
    let path = target.join("release").join("wfm-reactor");
    anyhow::ensure!(
        path.is_file(),
        "{} is missing: run `cargo build --release` before `cargo bench --bench load`",
        path.display()
    );
    Ok(path)
}

impl RemoteSim {
    /// Spawns `wfm-reactor sim` on an ephemeral loopback port with `agents` agents in
    /// `business_units` units, and reads its address and credentials from its stdout.
    pub async fn spawn(agents: usize, business_units: usize) -> anyhow::Result<Self> {
        Self::spawn_with(agents, business_units, &[]).await
    }

    /// Like [`RemoteSim::spawn`], with more `wfm-reactor sim` options (`--rate-limit-per-minute`...).
    pub async fn spawn_with(agents: usize, business_units: usize, extra: &[&str]) -> anyhow::Result<Self> {
        let mut child = Command::new(binary()?)
            .args(["sim", "--listen", "127.0.0.1:0"])
            .args(["--agents", &agents.to_string()])
            .args(["--business-units", &business_units.to_string()])
            .args(extra)
            .env("RUST_LOG", "error")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()?;
        let stdout = child.stdout.take().ok_or_else(|| anyhow::anyhow!("no stdout"))?;
        let mut lines = BufReader::new(stdout).lines();
        let (mut base, mut id, mut secret) = (None, None, None);
        let read = async {
            while let Some(line) = lines.next_line().await? {
                if let Some((k, v)) = line.split_once(" = ") {
                    match k {
                        "base_url" => base = Some(v.to_string()),
                        "client_id" => id = Some(v.to_string()),
                        "client_secret" => secret = Some(v.to_string()),
                        _ => {}
                    }
                }
                if base.is_some() && id.is_some() && secret.is_some() {
                    break;
                }
            }
            anyhow::Ok(())
        };
        tokio::time::timeout(Duration::from_secs(30), read)
            .await
            .map_err(|_| anyhow::anyhow!("the simulator did not print its address within 30 s"))??;
        let (Some(base), Some(client_id), Some(client_secret)) = (base, id, secret) else {
            anyhow::bail!("the simulator exited before printing its address");
        };
        Ok(Self {
            child,
            base,
            client_id,
            client_secret,
            http: reqwest::Client::new(),
        })
    }

    /// The child's process id (for its CPU time).
    pub fn pid(&self) -> u32 {
        self.child.id().unwrap_or(0)
    }

    /// Every agent id, in the org's order.
    pub async fn agents(&self) -> anyhow::Result<Vec<String>> {
        let r = self.http.get(format!("{}/sim/agents", self.base)).send().await?;
        Ok(r.error_for_status()?.json().await?)
    }

    /// Sends `total` presence changes round-robin over `users` (`None` = every agent),
    /// paced by the simulator at `per_second` (1 ms ticks; `None` = as fast as the sockets
    /// drain), so no request per tick is paid in the measured process; returns the frames
    /// delivered once they are all handed to the sockets.
    pub async fn flood_paced(
        &self,
        users: Option<&[String]>,
        total: usize,
        per_second: Option<u32>,
    ) -> anyhow::Result<usize> {
        let r = self
            .http
            .post(format!("{}/sim/flood", self.base))
            .json(&json!({"users": users, "total": total, "per_second": per_second}))
            .send()
            .await?;
        let v: Value = r.error_for_status()?.json().await?;
        v["delivered"]
            .as_u64()
            .map(|n| n as usize)
            .ok_or_else(|| anyhow::anyhow!("flood answer without delivered: {v}"))
    }

    /// Every published schedule with its business unit and first management unit
    /// (`GET /sim/schedules`), as the burst route takes them.
    pub async fn schedule_targets(&self) -> anyhow::Result<Vec<Value>> {
        let r = self
            .http
            .get(format!("{}/sim/schedules", self.base))
            .send()
            .await?;
        Ok(r.error_for_status()?.json().await?)
    }

    /// `events` one-agent edits of every target at once, each announced by a `Complete`
    /// (`POST /sim/schedule-bursts`); per `"{schedule}/{mu}"`, when its last event was
    /// sent (µs since the Unix epoch).
    pub async fn schedule_bursts(
        &self,
        targets: &[Value],
        events: usize,
        agents_per_event: usize,
    ) -> anyhow::Result<std::collections::HashMap<String, u64>> {
        let r = self
            .http
            .post(format!("{}/sim/schedule-bursts", self.base))
            .json(&json!({"targets": targets, "events": events, "agentsPerEvent": agents_per_event}))
            .send()
            .await?;
        let v: Value = r.error_for_status()?.json().await?;
        Ok(serde_json::from_value(v["last"].clone())?)
    }

    /// Channels the simulator has (connected or not).
    pub async fn channel_count(&self) -> anyhow::Result<usize> {
        Ok(self.channels().await?.len())
    }

    /// The simulator's view of every channel (`GET /sim/channels`).
    async fn channels(&self) -> anyhow::Result<Vec<Value>> {
        let r = self
            .http
            .get(format!("{}/sim/channels", self.base))
            .send()
            .await?;
        Ok(r.error_for_status()?.json().await?)
    }

    /// Waits until the connected channels hold `topics` topics in total (others may be
    /// left behind by a client that stopped).
    pub async fn connected_topics(&self, topics: usize, timeout: Duration) -> anyhow::Result<()> {
        let deadline = Instant::now() + timeout;
        loop {
            let chs = self.channels().await?;
            let sum: u64 = chs
                .iter()
                .filter(|c| c["connected"] == true)
                .filter_map(|c| c["topics"].as_u64())
                .sum();
            if sum >= topics as u64 {
                return Ok(());
            }
            anyhow::ensure!(
                Instant::now() < deadline,
                "connected channels hold {sum} of {topics} topics after {timeout:?}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Waits until every channel is connected and they hold `topics` topics in total.
    pub async fn subscribed(&self, topics: usize, timeout: Duration) -> anyhow::Result<()> {
        let deadline = Instant::now() + timeout;
        loop {
            let chs = self.channels().await?;
            let sum: u64 = chs.iter().filter_map(|c| c["topics"].as_u64()).sum();
            if !chs.is_empty() && chs.iter().all(|c| c["connected"] == true) && sum >= topics as u64 {
                return Ok(());
            }
            anyhow::ensure!(
                Instant::now() < deadline,
                "not subscribed to {topics} topics within {timeout:?} (have {sum})"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}
