//! The real `wfm-reactor` binary as a child process: spawn with JSON logs, find the admin
//! address it bound (so tests use `127.0.0.1:0`, no port race), signal it, await its exit.

use serde_json::Value;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// Starts `<bin> run --config <config>`, JSON logs into `dir/run-<n>.log` (`bin` is the
/// test's `env!("CARGO_BIN_EXE_wfm-reactor")`, known only to the daemon's own tests).
pub fn spawn(bin: &str, config: &Path, dir: &Path, n: usize) -> Child {
    let log = std::fs::File::create(log_path(dir, n)).expect("log file");
    Command::new(bin)
        .args(["run", "--config"])
        .arg(config)
        .env("RUST_LOG", "info")
        .env("WFM_REACTOR_LOG_FORMAT", "json")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("spawn wfm-reactor")
}

/// As [`spawn`], with the process umask set to `umask` first (through `sh`), to show
/// that modes the daemon sets do not depend on it.
pub fn spawn_with_umask(bin: &str, config: &Path, dir: &Path, n: usize, umask: &str) -> Child {
    let log = std::fs::File::create(log_path(dir, n)).expect("log file");
    Command::new("sh")
        .arg("-c")
        .arg(format!("umask {umask} && exec \"$0\" run --config \"$1\""))
        .arg(bin)
        .arg(config)
        .env("RUST_LOG", "info")
        .env("WFM_REACTOR_LOG_FORMAT", "json")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("spawn sh")
}

/// Runs `<bin> ARGS...` to completion: (exit code, stdout, stderr).
pub fn run_to_end(bin: &str, args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(bin).args(args).output().expect("run wfm-reactor");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
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

/// Waits until run `n`'s log has a line starting with `prefix` and returns it; panics
/// (with the whole log) after `timeout` (scaled by the patience multiplier).
pub async fn await_log(dir: &Path, n: usize, prefix: &str, timeout: Duration) -> Value {
    let fetch = || async { log_lines(dir, n, prefix).into_iter().next() };
    let what = format!("log line {prefix:?}");
    let found = crate::eventually::poll(timeout, fetch, Option::is_some).await;
    found
        .unwrap_or_else(|_| {
            let log = std::fs::read_to_string(log_path(dir, n)).unwrap_or_default();
            panic!("no {what} within {timeout:?}; log:\n{log}")
        })
        .expect("a line")
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

/// Waits for the process to exit (killing it and panicking after `timeout`, scaled by the
/// patience multiplier); its exit code.
pub async fn exit_code(child: &mut Child, timeout: Duration) -> Option<i32> {
    let exited = crate::eventually::poll(
        timeout,
        || std::future::ready(child.try_wait().expect("try_wait")),
        Option::is_some,
    )
    .await;
    match exited {
        Ok(status) => status.expect("exited").code(),
        Err(_) => {
            let _ = child.kill();
            panic!("wfm-reactor did not exit within {timeout:?}");
        }
    }
}
