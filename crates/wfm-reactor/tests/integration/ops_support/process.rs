//! The real `wfm-reactor` binary as a child process: spawn with JSON logs, find the admin
//! address it bound (so tests use `127.0.0.1:0`, no port race), signal it, await its exit.

use serde_json::Value;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use tokio::time::Instant;

/// Starts `wfm-reactor run --config <config>`, JSON logs into `dir/run-<n>.log`.
pub fn spawn(config: &Path, dir: &Path, n: usize) -> Child {
    let log = std::fs::File::create(log_path(dir, n)).expect("log file");
    Command::new(env!("CARGO_BIN_EXE_wfm-reactor"))
        .args(["run", "--config"])
        .arg(config)
        .env("RUST_LOG", "info")
        .env("WFM_REACTOR_LOG_FORMAT", "json")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("spawn wfm-reactor")
}

/// Where run `n` logs.
pub fn log_path(dir: &Path, n: usize) -> std::path::PathBuf {
    dir.join(format!("run-{n}.log"))
}

/// Run `n`'s log lines whose `message` starts with `prefix`.
pub fn log_lines(dir: &Path, n: usize, prefix: &str) -> Vec<Value> {
    std::fs::read_to_string(log_path(dir, n))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["message"].as_str().is_some_and(|m| m.starts_with(prefix)))
        .collect()
}

/// Polls run `n`'s log until a line starting with `prefix` appears; panics (with the log)
/// after `timeout`.
pub async fn await_log(dir: &Path, n: usize, prefix: &str, timeout: Duration) -> Value {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(line) = log_lines(dir, n, prefix).into_iter().next() {
            return line;
        }
        assert!(
            Instant::now() < deadline,
            "no log line {prefix:?} within {timeout:?}; log:\n{}",
            std::fs::read_to_string(log_path(dir, n)).unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The admin base URL run `n` bound (its `admin endpoints` log line carries the address).
pub async fn admin_url(dir: &Path, n: usize) -> String {
    let line = await_log(dir, n, "admin endpoints", Duration::from_secs(10)).await;
    let addr = line["addr"].as_str().expect("addr field");
    format!("http://{addr}")
}

/// Sends SIGTERM.
pub fn sigterm(child: &Child) {
    let ok = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(ok.success(), "kill -TERM failed");
}

/// Waits for the process to exit (killing it and panicking after `timeout`); its exit code.
pub async fn exit_code(child: &mut Child, timeout: Duration) -> Option<i32> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return status.code();
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            panic!("wfm-reactor did not exit within {timeout:?}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
