//! Signals on the real binary: SIGTERM during a debounce window exits 0 and the pending
//! schedule change reaches the file sink (before exit or after one more start); a second
//! signal while the graceful shutdown waits on a dead sink exits at once with 1.

use genesys_sim::{AgentPick, Emit, ScheduleChange};
use std::path::Path;
use std::time::Duration;
use wfm_testkit::eventually::poll;
use wfm_testkit::process::{admin_url, await_log, exit_code, sigterm};
use wfm_testkit::prometheus::{parse as parse_prometheus, value};
use wfm_testkit::{DaemonBuilder, SimBuilder, Upstream, file_events};

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
    let sim = SimBuilder::ops().start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let config_path = dir.path().join("config.toml");
    let text = DaemonBuilder::ops()
        .debounce("5s", "30s")
        .admin_listen("127.0.0.1:0")
        .extra("")
        .render(&Upstream::of(&sim), dir.path());
    std::fs::write(&config_path, text).expect("write config");

    let mut child =
        wfm_testkit::process::spawn(env!("CARGO_BIN_EXE_wfm-reactor"), &config_path, dir.path(), 1);
    let admin = admin_url(dir.path(), 1).await;
    let ready = poll(
        Duration::from_secs(10),
        || async { matches!(get(&format!("{admin}/readyz")).await, Some((200, _))) },
        |held| *held,
    )
    .await
    .is_ok();
    assert!(
        ready,
        "daemon not ready; log:\n{}",
        std::fs::read_to_string(dir.path().join("run-1.log")).unwrap_or_default()
    );

    // A schedule the daemon watches (it was in the snapshot).
    // Ready means committed; the file sink writes a moment later, so wait for it.
    let snapshot_schedule = || async {
        file_events(dir.path())
            .iter()
            .find(|e| e["type"] == "wfm.schedule.changed")
            .and_then(|e| e["data"]["scheduleId"].as_str().map(str::to_string))
    };
    let schedule = poll(Duration::from_secs(5), snapshot_schedule, Option::is_some)
        .await
        .ok()
        .flatten()
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
    let received = poll(
        Duration::from_secs(3),
        || async { bu_schedule_notifications(&admin).await > before },
        |held| *held,
    )
    .await
    .is_ok();
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
        let mut again =
            wfm_testkit::process::spawn(env!("CARGO_BIN_EXE_wfm-reactor"), &config_path, dir.path(), 2);
        let arrived = poll(
            Duration::from_secs(10),
            || async { delivered(dir.path(), &schedule, outcome.version) },
            |held| *held,
        )
        .await
        .is_ok();
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_signal_during_a_stuck_drain_exits_at_once_with_one() {
    let sim = SimBuilder::ops().start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    // A webhook that accepts connections (the kernel's backlog) but never answers: each
    // delivery hangs within its 60 s timeout, so the graceful shutdown waits on it for the
    // whole (long) grace. The listener lives until the end of the test.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("port");
    let addr = silent.local_addr().expect("addr");
    let extra =
        format!("\n[[sinks]]\ntype = \"webhook\"\nurl = \"http://{addr}/events\"\ntimeout = \"60s\"\n");
    let text = DaemonBuilder::ops()
        .debounce("1s", "30s")
        .admin_listen("127.0.0.1:0")
        .extra(&extra)
        .render(&Upstream::of(&sim), dir.path())
        .replace("grace = \"5s\"", "grace = \"120s\"");
    let config_path = dir.path().join("config.toml");
    std::fs::write(&config_path, text).expect("write config");

    let mut child =
        wfm_testkit::process::spawn(env!("CARGO_BIN_EXE_wfm-reactor"), &config_path, dir.path(), 1);
    let admin = admin_url(dir.path(), 1).await;
    // The snapshot reached the file sink, so the webhook has a backlog it cannot deliver.
    let committed = poll(
        Duration::from_secs(10),
        || async { !file_events(dir.path()).is_empty() },
        |held| *held,
    )
    .await
    .is_ok();
    assert!(committed, "no events committed");
    assert!(matches!(get(&format!("{admin}/livez")).await, Some((200, _))));

    sigterm(&child);
    await_log(dir.path(), 1, "shutdown 3/4", Duration::from_secs(10)).await;
    sigterm(&child);
    assert_eq!(
        exit_code(&mut child, Duration::from_secs(10)).await,
        Some(1),
        "a second signal exits at once with 1 (a graceful exit would be 0, after 120 s)"
    );
    await_log(dir.path(), 1, "second signal", Duration::from_secs(1)).await;
    drop(silent);
    sim.shutdown();
}
