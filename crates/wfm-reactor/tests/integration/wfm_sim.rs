//! The WFM client against the embedded simulator: delivery modes, 429 pause, 403, 404,
//! presence and routing status.

use genesys_sim::SimHandle;
use std::time::Duration;
use wfm_reactor::backoff::BackoffPolicy;
use wfm_reactor::diff::CanonicalAgentSchedule;
use wfm_reactor::wfm::{ClientSettings, Credentials, RateBudget, WfmClient, WfmError};
use wfm_testkit::{FirstSchedule, SimBuilder};

/// The simulator and a WFM client with a static bearer of its own and fast retries.
async fn start(sim: SimBuilder) -> (SimHandle, WfmClient) {
    let sim = sim.start().await;
    let bearer = wfm_testkit::api::token(&sim).await;
    let settings = ClientSettings {
        retry: BackoffPolicy::try_new(Duration::from_millis(10), Duration::from_millis(50), 2.0).unwrap(),
        ..ClientSettings::default()
    };
    let client = WfmClient::new(
        &sim.base_url(),
        Credentials::Static(bearer),
        RateBudget::new(6000, 4),
        settings,
    )
    .unwrap();
    (sim, client)
}

async fn canonical(c: &WfmClient, key: &FirstSchedule) -> Vec<(String, CanonicalAgentSchedule)> {
    let r = c
        .agent_schedules(
            &key.business_unit,
            &key.week,
            &key.schedule,
            &key.management_unit,
            None,
        )
        .await
        .unwrap();
    let mut v: Vec<_> = r
        .agent_schedules
        .iter()
        .filter_map(CanonicalAgentSchedule::from_api)
        .collect();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
}

#[tokio::test]
async fn inline_download_and_async_answers_give_identical_schedules() {
    let (inline_sim, inline_client) = start(SimBuilder::wfm(1000)).await;
    let (dl_sim, dl_client) = start(SimBuilder::wfm(0)).await;
    let key = FirstSchedule::of(&inline_sim);
    assert_eq!(key, FirstSchedule::of(&dl_sim), "same seed, same org");
    let inline = canonical(&inline_client, &key).await;
    assert!(!inline.is_empty());
    assert!(
        inline.iter().any(|(_, s)| !s.shifts.is_empty()),
        "the sim schedules shifts"
    );
    let downloaded = canonical(&dl_client, &key).await;
    assert_eq!(inline, downloaded);
    assert!(
        !inline_sim
            .request_log()
            .iter()
            .any(|r| r.path.starts_with("/downloads/")),
        "inline stayed inline"
    );
    assert!(
        dl_sim
            .request_log()
            .iter()
            .any(|r| r.path.starts_with("/downloads/")),
        "large answer used downloadUrl"
    );
    inline_sim.set_async_only(true);
    let forced = canonical(&inline_client, &key).await;
    assert_eq!(inline, forced);
    let log = inline_sim.request_log();
    assert!(log.iter().any(|r| {
        r.query
            .as_deref()
            .is_some_and(|q| q.contains("forceDownloadService=true"))
    }));
    let downloads: Vec<_> = log.iter().filter(|r| r.path.starts_with("/downloads/")).collect();
    assert!(!downloads.is_empty());
    assert!(
        downloads.iter().all(|r| r.token.is_none()),
        "no bearer on the download URL"
    );
}

#[tokio::test]
async fn a_429_is_retried_no_sooner_than_retry_after() {
    let (sim, c) = start(SimBuilder::wfm(1000)).await;
    let key = FirstSchedule::of(&sim);
    sim.fail_next("/agentschedules/query", 1, 429, Some(1));
    let got = canonical(&c, &key).await;
    assert!(!got.is_empty());
    let log: Vec<_> = sim
        .request_log()
        .into_iter()
        .filter(|r| r.path.ends_with("/agentschedules/query"))
        .collect();
    assert_eq!(log.iter().map(|r| r.status).collect::<Vec<_>>(), [429, 200]);
    let gap = log[1].at - log[0].at;
    assert!(gap >= Duration::from_secs(1), "retried after {gap:?}");
}

#[tokio::test]
async fn forbidden_names_the_permission_and_missing_is_not_found() {
    let (sim, c) = start(SimBuilder::wfm(1000)).await;
    let key = FirstSchedule::of(&sim);
    sim.deny_permission("wfm:schedule:view");
    sim.deny_permission("wfm:publishedSchedule:view");
    match c
        .schedule_metadata(&key.business_unit, &key.week, &key.schedule)
        .await
    {
        Err(WfmError::Forbidden { permission, route }) => {
            assert_eq!(route, "schedules.get");
            assert!(permission.contains("wfm:schedule:view"), "{permission}");
            assert!(permission.contains("wfm:publishedSchedule:view"), "{permission}");
        }
        other => panic!("{other:?}"),
    }
    sim.allow_permission("wfm:schedule:view");
    let meta = c
        .schedule_metadata(&key.business_unit, &key.week, &key.schedule)
        .await
        .unwrap();
    assert_eq!(meta.id.as_deref(), Some(key.schedule.as_str()));
    assert!(
        meta.management_units.iter().any(|m| !m.agents.is_empty()),
        "expand=managementUnits.agents"
    );
    match c
        .schedule_metadata(
            &key.business_unit,
            &key.week,
            "00000000-0000-4000-8000-00000000dead",
        )
        .await
    {
        Err(WfmError::NotFound { route }) => assert_eq!(route, "schedules.get"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn listings_presence_and_routing_status() {
    let (sim, c) = start(SimBuilder::wfm(1000)).await;
    let org = sim.org();
    let bus = c.business_units().await.unwrap();
    assert_eq!(bus.len(), 1);
    let bu = bus[0].id.clone().unwrap();
    let detail = c.business_unit(&bu).await.unwrap();
    assert_eq!(
        detail.settings.and_then(|s| s.time_zone),
        Some(org.business_units[0].time_zone.clone())
    );
    let mus = c.management_units(&bu).await.unwrap();
    assert_eq!(mus.len(), org.business_units[0].management_units.len());
    let mut users = Vec::new();
    for mu in &mus {
        users.extend(c.management_unit_users(mu.id.as_deref().unwrap()).await.unwrap());
    }
    assert_eq!(users.len(), 20);
    let schedules = c
        .schedules(
            &bu,
            wfm_reactor::wfm::Weeks::Week(&org.schedules[0].week_date.to_string()),
            true,
        )
        .await
        .unwrap();
    assert!(
        schedules
            .iter()
            .any(|s| s.id.as_deref() == Some(org.schedules[0].id.as_str()))
    );
    let codes = c.activity_codes(&bu).await.unwrap();
    assert!(!codes.is_empty());

    sim.set_presence(&users[3], "Break", false).unwrap();
    let bulk = c.presences(&users).await.unwrap();
    assert_eq!(bulk.len(), 20);
    let p3 = bulk
        .iter()
        .find(|p| p.user_id.as_deref() == Some(users[3].as_str()))
        .unwrap();
    assert_eq!(
        p3.presence_definition
            .as_ref()
            .unwrap()
            .system_presence
            .as_deref(),
        Some("Break")
    );
    let single = c.presence(&users[3]).await.unwrap();
    assert_eq!(single.presence_definition, p3.presence_definition);
    sim.set_routing_status(&users[0], "INTERACTING", false).unwrap();
    assert_eq!(
        c.routing_status(&users[0]).await.unwrap().status.as_deref(),
        Some("INTERACTING")
    );
}

#[tokio::test]
async fn concurrent_activity_code_reads_and_refreshes_of_one_bu_list_once() {
    let (sim, c) = start(SimBuilder::wfm(1000).tweak(|c| c.business_units = 2)).await;
    let org = sim.org();
    let (bu, other) = (&org.business_units[0].id, &org.business_units[1].id);
    let listings = |bu: &str| {
        sim.request_log()
            .iter()
            .filter(|r| r.path.ends_with(&format!("/businessunits/{bu}/activitycodes")))
            .count()
    };
    // Ten fetches of one BU miss the empty cache together: one listing serves them all,
    // and a second BU gets its own.
    let reads = (0..10).map(|i| c.activity_codes(if i == 9 { other } else { bu }));
    let answers = futures::future::join_all(reads).await;
    assert!(answers.iter().all(|a| a.as_ref().is_ok_and(|c| !c.is_empty())));
    assert_eq!((listings(bu), listings(other)), (1, 1));
    // Later reads come from the cache.
    c.activity_codes(bu).await.unwrap();
    assert_eq!(listings(bu), 1);
    // Ten refreshes at once (ten diffs met the same unknown code): one more listing.
    let refreshes = (0..10).map(|_| c.refresh_activity_codes(bu));
    let answers = futures::future::join_all(refreshes).await;
    assert!(answers.iter().all(Result::is_ok));
    assert_eq!(listings(bu), 2);
    // A refresh after those completed really lists again.
    c.refresh_activity_codes(bu).await.unwrap();
    assert_eq!((listings(bu), listings(other)), (3, 1));
}
