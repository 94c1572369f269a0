//! `doctor` as a library against the test's own simulator: all checks pass on a healthy
//! org; a rejected topic and a 403 route are each named with their permission, exit 1.

use wfm_reactor::config::Config;
use wfm_reactor::doctor::{self, Outcome};
use wfm_testkit::{DaemonBuilder, SimBuilder, Upstream};

fn config_for(sim: &genesys_sim::SimHandle, dir: &std::path::Path, extra: &str) -> Config {
    Config::from_toml_str(
        &DaemonBuilder::ops()
            .debounce("1s", "30s")
            .admin_listen("")
            .extra(extra)
            .render(&Upstream::of(sim), dir),
    )
    .expect("config parses")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthy_org_passes_every_check() {
    let sim = SimBuilder::ops().start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let report = doctor::run(&config_for(&sim, dir.path(), "[watch]\nrouting_status = true\n")).await;
    let text = report.render();
    assert!(report.ok(), "{text}");
    assert_eq!(report.exit_code(), 0);
    assert!(text.contains("All checks passed."), "{text}");
    for route in [
        "businessunits.list",
        "businessunits.get",
        "managementunits.list",
        "managementunits.users",
        "activitycodes.list",
        "schedules.list",
        "schedules.get",
        "agentschedules.query",
        "presence.bulk",
        "routingstatus.get",
    ] {
        let row = report
            .checks
            .iter()
            .find(|c| c.name.contains(route))
            .unwrap_or_else(|| panic!("no {route} row:\n{text}"));
        assert_eq!(row.outcome, Outcome::Pass, "{text}");
    }
    assert!(
        report
            .checks
            .iter()
            .any(|c| c.name.starts_with("topic v2.users.{id}")),
        "{text}"
    );
    // The temporary channel's subscriptions were deleted.
    assert!(
        sim.channels().iter().all(|c| c.topics.is_empty()),
        "doctor left subscriptions behind: {:?}",
        sim.channels()
    );
    sim.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rejected_topic_and_forbidden_route_name_both_permissions() {
    let sim = SimBuilder::ops().start().await;
    // presence: the bulk route answers 403; routing: the combined topic is rejected.
    sim.deny_permission("presence:userPresence:view");
    sim.deny_permission("routing:agent:view");
    let dir = tempfile::tempdir().expect("tempdir");
    let report = doctor::run(&config_for(&sim, dir.path(), "[watch]\nrouting_status = true\n")).await;
    let text = report.render();
    assert!(!report.ok(), "{text}");
    assert_eq!(report.exit_code(), 1);

    let bulk = report
        .checks
        .iter()
        .find(|c| c.name == "REST presence.bulk")
        .expect("presence.bulk row");
    assert_eq!(bulk.outcome, Outcome::Fail, "{text}");
    assert_eq!(
        bulk.missing_permissions,
        vec!["presence:userPresence:view"],
        "{text}"
    );

    let topic = report
        .checks
        .iter()
        .find(|c| c.name.starts_with("topic v2.users.{id}"))
        .expect("presence topic row");
    assert_eq!(topic.outcome, Outcome::Fail, "{text}");
    assert!(
        topic
            .missing_permissions
            .iter()
            .any(|p| p == "routing:agent:view"),
        "{text}"
    );
    // The schedule routes still pass: only what is missing is reported.
    assert!(
        report
            .checks
            .iter()
            .filter(|c| c.name.contains("schedules"))
            .all(|c| c.outcome == Outcome::Pass),
        "{text}"
    );
    for p in ["presence:userPresence:view", "routing:agent:view"] {
        assert!(
            text.lines()
                .any(|l| l.starts_with("- ") && l.contains("grant") && l.contains(p)),
            "{p} not named with how to grant it:\n{text}"
        );
    }
    assert!(
        text.contains("Admin > Integrations > OAuth > client > Roles"),
        "{text}"
    );
    assert!(text.contains("FAIL"), "{text}");
    sim.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_secret_fails_the_token_check_and_stops() {
    let sim = SimBuilder::ops().start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = config_for(&sim, dir.path(), "");
    config.genesys.client_secret = wfm_reactor::config::Secret::new("wrong".to_string());
    let report = doctor::run(&config).await;
    assert_eq!(report.exit_code(), 1);
    assert_eq!(report.checks.len(), 1, "{}", report.render());
    assert_eq!(report.checks[0].outcome, Outcome::Fail);
    assert!(report.render().contains("client_secret"));
    sim.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn realtime_adherence_permission_is_checked_on_the_route_and_the_unit_topic() {
    let sim = SimBuilder::ops().start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let config = || {
        Config::from_toml_str(
            &DaemonBuilder::ops()
                .adherence(true)
                .admin_listen("")
                .extra("\n[adherence]\nmode = \"genesys\"\n")
                .render(&Upstream::of(&sim), dir.path()),
        )
        .expect("config parses")
    };
    let adherence_rows = |report: &doctor::DoctorReport| -> Vec<(String, Outcome, Vec<String>)> {
        report
            .checks
            .iter()
            .filter(|c| c.name.contains("adherence"))
            .map(|c| (c.name.clone(), c.outcome.clone(), c.missing_permissions.clone()))
            .collect()
    };
    let healthy = doctor::run(&config()).await;
    let rows = adherence_rows(&healthy);
    assert_eq!(rows.len(), 2, "route and topic rows: {}", healthy.render());
    assert!(rows.iter().all(|r| r.1 == Outcome::Pass), "{}", healthy.render());
    assert!(
        rows.iter()
            .any(|r| r.0 == "topic v2.workforcemanagement.managementunits.{id}.adherence"),
        "{rows:?}"
    );

    sim.deny_permission("wfm:realtimeAdherence:view");
    let denied = doctor::run(&config()).await;
    let rows = adherence_rows(&denied);
    assert_eq!(rows.len(), 2, "{}", denied.render());
    for (name, outcome, missing) in rows {
        assert_eq!(outcome, Outcome::Fail, "{name}: {}", denied.render());
        assert_eq!(missing, vec!["wfm:realtimeAdherence:view"], "{name}");
    }
    assert!(!denied.ok());
    sim.shutdown();
}
