//! The daemon of a soak run: a real `wfm-reactor run` process on one store directory, its
//! timings scaled so a simulated hour lasts `hour` of wall time, killed with SIGKILL and
//! started again on the same store once a simulated day.

use crate::process;
use genesys_sim::SimHandle;
use std::path::{Path, PathBuf};
use std::process::Child;
use std::time::Duration;

/// One running daemon process and the number of its run (its log is `run-<n>.log`).
pub struct Process {
    child: Child,
    run: usize,
    /// Its admin base URL.
    pub admin: String,
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Milliseconds of `hours` simulated hours, as a humantime string.
fn scaled(hour: Duration, hours: f64) -> String {
    format!("{}ms", ((hour.as_secs_f64() * hours * 1000.0) as u64).max(1))
}

/// The config: every slow setting scaled to the simulated hour.
pub fn config(sim: &SimHandle, dir: &Path, hook: &str, hour: Duration) -> PathBuf {
    let text = format!(
        r#"[genesys]
region = "mypurecloud.com"
client_id = "{id}"
client_secret = "{secret}"
api_url = "{base}"
login_url = "{base}"

[watch]
adherence = false
membership_refresh = "{membership}"

[debounce]
quiet = "100ms"
max_wait = "1s"

[fetch]
requests_per_minute = 6000
request_timeout = "5s"

[reconcile]
interval = "{reconcile}"

[state]
path = "{state}"
prune_interval = "{prune}"

[admin]
listen = "127.0.0.1:0"

[notifications]
max_topics_per_channel = 10
heartbeat_timeout = "2s"
pong_timeout = "1s"
expiry_margin = "{margin}"
backoff_min = "50ms"
backoff_max = "1s"

[shutdown]
grace = "2s"

[[sinks]]
type = "file"
path = "{events}"

[[sinks]]
type = "webhook"
url = "{hook}"
timeout = "2s"
"#,
        id = sim.client_id(),
        secret = sim.client_secret(),
        base = sim.base_url(),
        membership = scaled(hour, 2.0),
        reconcile = scaled(hour, 3.0),
        prune = scaled(hour, 1.0),
        margin = scaled(hour, 1.0),
        state = dir.join("state.db").display(),
        events = crate::events_path(dir).display(),
    );
    let path = dir.join("soak.toml");
    std::fs::write(&path, text).expect("write soak config");
    path
}

impl Process {
    /// Starts run `run` and waits for its admin address.
    pub async fn start(bin: &str, config: &Path, dir: &Path, run: usize) -> Self {
        let child = process::spawn(bin, config, dir, run);
        let mut p = Self {
            child,
            run,
            admin: String::new(),
        };
        p.admin = process::admin_url(dir, run).await;
        p
    }

    /// The process id (for `/proc`).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGKILL, reaped: nothing flushed, nothing shut down.
    pub fn kill(mut self) -> usize {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.run
    }

    /// A gauge of its `/metrics` (0 when the scrape fails).
    pub async fn gauge(&self, name: &str) -> u64 {
        let text = match reqwest::get(format!("{}/metrics", self.admin)).await {
            Ok(r) => r.text().await.unwrap_or_default(),
            Err(_) => return 0,
        };
        crate::prometheus::parse(&text)
            .map(|s| crate::prometheus::value(&s, name, &[]) as u64)
            .unwrap_or(0)
    }
}
