//! SIGTERM during a debounce window, on the real binary: the process exits 0 and the
//! pending schedule change reaches the file sink, before exit or after one more start.

use crate::ops_support;

use ops_support::{config_toml, file_events, parse_prometheus, poll_until, small_sim, start_sim, value};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use wfm_reactor::sim::{AgentPick, Emit, ScheduleChange};

/// Starts the binary with `config`, logs into `dir/run-N.log`.
fn spawn(config: &Path, dir: &Path, n: usize) -> Child {
    let log = std::fs::File::create(dir.join(format!("run-{n}.log"))).expect("log file");
    Command::new(env!("CARGO_BIN_EXE_wfm-reactor"))
        .args(["run", "--config"])
        .arg(config)
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("spawn wfm-reactor")
}

fn sigterm(child: &Child) {
    let ok = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(ok.success(), "kill -TERM failed");
}

/// Waits for the process to exit (deadline), returning its exit code.
async fn exit_code(child: &mut Child, timeout: Duration) -> Option<i32> {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return status.code();
        }
        if tokio::time::Instant::now() >= deadline {
            let _ = child.kill();
            panic!("wfm-reactor did not exit within {timeout:?}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn get(url: &str) -> Option<(u16, String)> {
    let r = reqwest::get(url).await.ok()?;
    let s = r.status().as_u16();
    Some((s, r.text().await.ok()?))
}

async fn bu_schedule_notifications(admin: &str) -> f64 {
    let Some((200, text)) = get(&format!("{admin}/metrics")).await else {
        return -1.0;
    };
    let samples = parse_prometheus(&text).expect("metrics parse");
    value(
        &samples,
        "wfm_reactor_notifications_received_total",
        &[("kind", "bu_schedule")],
    )
}

fn delivered(dir: &Path, schedule: &str, version: u32) -> bool {
    file_events(dir).iter().any(|e| {
        e["type"] == "wfm.schedule.changed"
            && e["data"]["scheduleId"] == schedule
            && e["data"]["version"].as_u64() == Some(u64::from(version))
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_in_a_debounce_window_exits_zero_and_keeps_the_change() {
    let sim = start_sim(small_sim()).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("free port");
        l.local_addr().expect("addr").port()
    };
    let admin = format!("http://127.0.0.1:{port}");
    let config_path = dir.path().join("config.toml");
    let text = config_toml(&sim, dir.path(), &format!("127.0.0.1:{port}"), "5s", "");
    std::fs::write(&config_path, text).expect("write config");

    let mut child = spawn(&config_path, dir.path(), 1);
    let ready = poll_until(Duration::from_secs(10), Duration::from_millis(50), || async {
        matches!(get(&format!("{admin}/readyz")).await, Some((200, _)))
    })
    .await;
    assert!(
        ready,
        "daemon not ready; log:\n{}",
        std::fs::read_to_string(dir.path().join("run-1.log")).unwrap_or_default()
    );

    // A schedule the daemon watches (it was in the snapshot).
    let schedule = file_events(dir.path())
        .iter()
        .find(|e| e["type"] == "wfm.schedule.changed")
        .and_then(|e| e["data"]["scheduleId"].as_str().map(str::to_string))
        .expect("snapshot events in the file sink");
    let bu = sim.org().business_units[0].id.clone();
    let before = bu_schedule_notifications(&admin).await;
    let outcome = sim
        .change_schedule(ScheduleChange {
            business_unit_id: bu,
            schedule_id: schedule.clone(),
            management_unit_id: None,
            agents: AgentPick::Count(1),
            emit: Emit::Complete,
        })
        .expect("schedule change");
    let received = poll_until(Duration::from_secs(3), Duration::from_millis(20), || async {
        bu_schedule_notifications(&admin).await > before
    })
    .await;
    assert!(received, "the schedule notification never reached the daemon");
    assert!(
        !delivered(dir.path(), &schedule, outcome.version),
        "the change must still be pending (quiet = 5s)"
    );

    sigterm(&child);
    assert_eq!(
        exit_code(&mut child, Duration::from_secs(8)).await,
        Some(0),
        "exit code after SIGTERM"
    );

    if !delivered(dir.path(), &schedule, outcome.version) {
        // Persisted as pending: the next start fetches it.
        let mut again = spawn(&config_path, dir.path(), 2);
        let arrived = poll_until(Duration::from_secs(10), Duration::from_millis(50), || async {
            delivered(dir.path(), &schedule, outcome.version)
        })
        .await;
        sigterm(&again);
        assert_eq!(exit_code(&mut again, Duration::from_secs(8)).await, Some(0));
        assert!(
            arrived,
            "the pending change was lost; log:\n{}",
            std::fs::read_to_string(dir.path().join("run-2.log")).unwrap_or_default()
        );
    }
    let changed: Vec<_> = file_events(dir.path())
        .into_iter()
        .filter(|e| {
            e["data"]["scheduleId"] == schedule.as_str()
                && e["data"]["version"].as_u64() == Some(u64::from(outcome.version))
        })
        .collect();
    let agents: Vec<&str> = changed
        .iter()
        .flat_map(|e| e["data"]["agents"].as_array().into_iter().flatten())
        .filter_map(|a| a["userId"].as_str())
        .collect();
    assert!(
        outcome
            .changed_agents
            .iter()
            .all(|a| agents.contains(&a.as_str())),
        "changed agents {:?} not all in {agents:?}",
        outcome.changed_agents
    );
    sim.shutdown();
}
