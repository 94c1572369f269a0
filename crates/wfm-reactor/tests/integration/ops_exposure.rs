//! What the daemon shows and creates, on the real binary: `--config` is global; a
//! non-loopback admin `listen` without a token is exit 78 naming `admin.token` for `check`
//! and `run`; URL secrets are `[redacted]` in `check`, in the logs and in `/readyz`; a
//! failing sink leaves the daemon ready (listed under `degraded`); directories it creates
//! are 0700 and the store, its WAL files and the file sink's output 0600, even under
//! umask 000.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::Duration;
use wfm_testkit::eventually::poll;
use wfm_testkit::process::{admin_url, exit_code, log_path, run_to_end, sigterm, spawn_with_umask};
use wfm_testkit::{DaemonBuilder, SimBuilder, Upstream};

const BIN: &str = env!("CARGO_BIN_EXE_wfm-reactor");
/// Secrets a webhook URL carries: user-info and a query token.
const WEBHOOK: &str = "http://hookuser:hookpw@127.0.0.1:9/hooks/wfm?token=s3cret-query";

fn assert_no_url_secret(what: &str, text: &str) {
    for secret in ["hookpw", "s3cret-query", "hookuser"] {
        assert!(!text.contains(secret), "{what} shows {secret:?}:\n{text}");
    }
}

fn exposed_config(dir: &Path) -> std::path::PathBuf {
    let text = format!(
        "[genesys]\nregion = \"mypurecloud.com\"\napi_url = \"https://api.example.test\"\n\
         login_url = \"http://login.example.test\"\nclient_id = \"id\"\nclient_secret = \"secret\"\n\n\
         [state]\npath = \"{}\"\n\n[admin]\nlisten = \"0.0.0.0:0\"\n\n\
         [[sinks]]\ntype = \"webhook\"\nurl = \"{WEBHOOK}\"\n",
        dir.join("s.db").display()
    );
    let path = dir.join("exposed.toml");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn a_non_loopback_listen_without_a_token_is_exit_78_naming_admin_token() {
    let dir = tempfile::tempdir().unwrap();
    let config = exposed_config(dir.path());
    let config = config.to_str().unwrap();
    for args in [
        vec!["check", "--config", config],
        vec!["--config", config, "check"],
        vec!["run", "--config", config],
        vec!["--config", config],
    ] {
        let (code, stdout, stderr) = run_to_end(BIN, &args);
        assert_eq!(code, Some(78), "{args:?}: {stderr}");
        assert!(stderr.contains("admin.token"), "{args:?} names the key: {stderr}");
        assert_no_url_secret("check/run output", &format!("{stdout}{stderr}"));
    }
    assert!(!dir.path().join("s.db").exists(), "a bad config starts nothing");
    let (_, stdout, stderr) = run_to_end(BIN, &["check", "--config", config]);
    assert!(
        stdout.contains("http://[redacted]@127.0.0.1:9/hooks/wfm?[redacted]"),
        "check shows the redacted URL: {stdout}"
    );
    assert!(
        stderr.contains("warning: genesys.login_url") && stderr.contains("plain http"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("warning: genesys.api_url"),
        "api_url is https: {stderr}"
    );
    // With a token the same listen is fine.
    let text = std::fs::read_to_string(config).unwrap().replace(
        "listen = \"0.0.0.0:0\"",
        "listen = \"0.0.0.0:0\"\ntoken = \"${WFM_TEST_ADMIN_TOKEN:-x}\"",
    );
    std::fs::write(config, text).unwrap();
    let (code, _, stderr) = run_to_end(BIN, &["check", "--config", config]);
    assert_eq!(code, Some(0), "{stderr}");
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_stay_out_of_logs_and_readyz_a_failing_sink_stays_ready_files_are_private() {
    let sim = SimBuilder::ops().start().await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data/nested");
    let out = dir.path().join("out/events.ndjson");
    let text = DaemonBuilder::ops()
        .admin_listen("127.0.0.1:0")
        .extra(&format!(
            "\n[[sinks]]\ntype = \"webhook\"\nname = \"hook\"\nurl = \"{WEBHOOK}\"\ntimeout = \"1s\"\n\n\
             [[sinks]]\ntype = \"file\"\nname = \"private\"\npath = \"{}\"\n",
            out.display()
        ))
        .render(&Upstream::of(&sim), dir.path())
        .replace(
            &format!("path = \"{}\"", dir.path().join("state.db").display()),
            &format!("path = \"{}\"", data.join("state.db").display()),
        );
    let config = dir.path().join("config.toml");
    std::fs::write(&config, text).unwrap();
    let mut child = spawn_with_umask(BIN, &config, dir.path(), 1, "000");
    let admin = admin_url(dir.path(), 1).await;
    let readyz = || async {
        let r = reqwest::get(format!("{admin}/readyz")).await.ok()?;
        let status = r.status().as_u16();
        Some((status, r.text().await.ok()?))
    };
    let sink_failing = |r: &Option<(u16, String)>| {
        r.as_ref()
            .is_some_and(|(s, body)| *s == 200 && body.contains("sink hook failing: "))
    };
    let seen = poll(Duration::from_secs(15), readyz, sink_failing).await;
    let log = std::fs::read_to_string(log_path(dir.path(), 1)).unwrap_or_default();
    let (_, body) = seen
        .unwrap_or_else(|last| panic!("never ready with the sink degraded: {last:?}\nlog:\n{log}"))
        .expect("answered");
    let report: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(report["ready"], true, "{report}");
    assert!(
        report["degraded"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d.as_str().is_some_and(|d| d.starts_with("sink hook failing: "))),
        "{report}"
    );
    assert_no_url_secret("/readyz", &body);
    assert!(
        log.contains("delivery failed, will retry"),
        "the failure is logged:\n{log}"
    );
    assert_no_url_secret("the log", &log);

    for d in [dir.path().join("data"), data.clone(), dir.path().join("out")] {
        assert_eq!(mode(&d), 0o700, "{}", d.display());
    }
    let wal_files = |_: &()| {
        ["state.db-wal", "state.db-shm"]
            .iter()
            .all(|f| data.join(f).exists())
    };
    let _ = poll(Duration::from_secs(5), || async {}, wal_files).await;
    for f in ["state.db", "state.db-wal", "state.db-shm"] {
        assert_eq!(mode(&data.join(f)), 0o600, "{f}");
    }
    assert_eq!(mode(&out), 0o600, "the file sink's output");
    sigterm(&child);
    assert_eq!(exit_code(&mut child, Duration::from_secs(15)).await, Some(0));
    sim.shutdown();
}

/// The contract's metric list (first tranche), each as it appears in the text format.
const CONTRACT_METRICS: [&str; 16] = [
    "wfm_reactor_notifications_received_total",
    "wfm_reactor_frames_rejected_total",
    "wfm_reactor_reconnects_total",
    "wfm_reactor_gaps_total",
    "wfm_reactor_channels",
    "wfm_reactor_topics",
    "wfm_reactor_rest_requests_total",
    "wfm_reactor_rest_rate_limited_total",
    "wfm_reactor_schedule_fetches_total",
    "wfm_reactor_events_emitted_total",
    "wfm_reactor_outbox_depth",
    "wfm_reactor_sink_deliveries_total",
    "wfm_reactor_sink_lag",
    "wfm_reactor_dead_letters",
    "wfm_reactor_event_to_outbox_seconds_count",
    "wfm_reactor_rest_request_seconds_count",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_contract_metric_is_in_the_first_scrape_before_any_event() {
    let sim = SimBuilder::ops().start().await;
    let dir = tempfile::tempdir().unwrap();
    let text = DaemonBuilder::ops()
        .admin_listen("127.0.0.1:0")
        .extra("[reconcile]\ninitial_snapshot = false\n")
        .render(&Upstream::of(&sim), dir.path());
    let config = dir.path().join("config.toml");
    std::fs::write(&config, text).unwrap();
    let mut child = wfm_testkit::process::spawn(BIN, &config, dir.path(), 1);
    let admin = admin_url(dir.path(), 1).await;
    let text = reqwest::get(format!("{admin}/metrics"))
        .await
        .expect("first scrape")
        .text()
        .await
        .unwrap();
    let samples = wfm_testkit::prometheus::parse(&text).expect("parses");
    let missing = missing_contract_metrics(&samples);
    assert!(
        missing.is_empty(),
        "missing from the first scrape: {missing:?}\n{text}"
    );
    assert!(
        samples.iter().all(|s| !s.name.starts_with("wfm_reactor_sim_")),
        "no simulator metric in the daemon's namespace"
    );
    assert!(
        wfm_testkit::file_events(dir.path()).is_empty(),
        "scraped before any event"
    );
    sigterm(&child);
    assert_eq!(exit_code(&mut child, Duration::from_secs(15)).await, Some(0));
    sim.shutdown();
}

/// Resolving the watched org can wait out a Genesys outage at start: meanwhile the admin
/// server answers (`/livez` 200, `/readyz` 503 saying why, `/metrics` with the contract
/// metrics), and once the outage ends the daemon starts and becomes ready on the same socket.
#[tokio::test]
async fn a_daemon_resolving_its_org_through_an_outage_answers_probes_and_scrapes() {
    let sim = SimBuilder::ops().start().await;
    let dir = tempfile::tempdir().unwrap();
    let config = DaemonBuilder::ops().config(&Upstream::of(&sim), dir.path());
    sim.fail_next("GET /workforcemanagement/businessunits", 100_000, 503, None);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let admin = format!("http://{}", listener.local_addr().unwrap());
    let listeners = wfm_reactor::app::Listeners {
        admin: Some(listener),
    };
    let starting = tokio::spawn(wfm_reactor::app::start(config, listeners));

    let ready = reqwest::get(format!("{admin}/readyz"))
        .await
        .expect("answered while resolving");
    assert_eq!(ready.status(), 503);
    let body = ready.text().await.unwrap();
    assert!(body.contains("resolving the watched business units"), "{body}");
    let live = reqwest::get(format!("{admin}/livez")).await.unwrap();
    assert_eq!(live.status(), 200);
    let text = reqwest::get(format!("{admin}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let samples = wfm_testkit::prometheus::parse(&text).expect("parses");
    let missing = missing_contract_metrics(&samples);
    assert!(missing.is_empty(), "missing while resolving: {missing:?}");
    assert!(!starting.is_finished(), "still resolving during the outage");

    sim.clear_faults();
    let app = starting.await.unwrap().expect("starts once the outage is over");
    wfm_testkit::eventually("ready on the same socket after the outage", || async {
        reqwest::get(format!("{admin}/readyz"))
            .await
            .is_ok_and(|r| r.status() == 200)
    })
    .await;
    app.shutdown().await;
    sim.shutdown();
}
/// The contract metrics a scrape does not have.
fn missing_contract_metrics(samples: &[wfm_testkit::prometheus::Sample]) -> Vec<&'static str> {
    CONTRACT_METRICS
        .into_iter()
        .filter(|m| !samples.iter().any(|s| s.name == *m))
        .collect()
}
