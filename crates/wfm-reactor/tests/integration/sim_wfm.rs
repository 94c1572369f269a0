//! Simulator: WFM REST org structure and schedule lists, presence REST, scale and
//! activity mode.

use genesys_sim::SimConfig;
use std::time::Duration;
use wfm_testkit::api::*;
use wfm_testkit::ws::*;
use wfm_testkit::{FirstSchedule, SimBuilder};

#[tokio::test]
async fn org_structure_routes() {
    let sim = SimBuilder::from(SimConfig {
        business_units: 2,
        agents: 450,
        ..SimBuilder::small().config()
    })
    .start()
    .await;
    let api = Api::login(&sim).await;
    let (s, bus) = api.get(&format!("{WFM}/businessunits")).await;
    assert_eq!(s, 200);
    assert_eq!(bus["entities"].as_array().unwrap().len(), 2);
    let bu = bus["entities"][0]["id"].as_str().unwrap().to_string();
    let (_, one) = api
        .get(&format!("{WFM}/businessunits/{bu}?expand=settings"))
        .await;
    assert_eq!(one["settings"]["timeZone"], "America/Chicago");
    assert_eq!(one["settings"]["startDayOfWeek"], "Monday");
    let (_, mus) = api
        .get(&format!("{WFM}/businessunits/{bu}/managementunits"))
        .await;
    let mus = mus["entities"].as_array().unwrap().clone();
    assert_eq!(mus.len(), 2, "225 agents need two MUs of at most 200");
    let mut total = 0;
    for mu in &mus {
        assert_eq!(mu["businessUnit"]["id"], bu.as_str());
        let (_, users) = api
            .get(&format!(
                "{WFM}/managementunits/{}/users",
                mu["id"].as_str().unwrap()
            ))
            .await;
        let n = users["entities"].as_array().unwrap().len();
        assert!(n <= 200);
        total += n;
    }
    assert_eq!(total, 225);
    let (_, codes) = api.get(&format!("{WFM}/businessunits/{bu}/activitycodes")).await;
    let cats: Vec<&str> = codes["entities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["category"].as_str().unwrap())
        .collect();
    for c in ["OnQueueWork", "Break", "Meal", "Meeting", "Training", "TimeOff"] {
        assert!(cats.contains(&c), "{c} missing");
    }
    assert_eq!(codes["entities"][0]["id"], "0");
    assert_eq!(api.get(&format!("{WFM}/businessunits/nope")).await.0, 404);
}

#[tokio::test]
async fn schedule_lists_and_metadata() {
    let sim = SimBuilder::small().start().await;
    let api = Api::login(&sim).await;
    let FirstSchedule {
        business_unit: bu,
        management_unit: mu,
        schedule: sched,
        week,
        ..
    } = FirstSchedule::of(&sim);
    let (_, recent) = api
        .get(&format!("{WFM}/businessunits/{bu}/weeks/recent/schedules"))
        .await;
    let all = recent["entities"].as_array().unwrap();
    assert_eq!(all.len(), 6, "5 published weeks + 1 draft");
    assert_eq!(all.iter().filter(|s| s["published"] == false).count(), 1);
    let (_, published) = api
        .get(&format!(
            "{WFM}/businessunits/{bu}/weeks/recent/schedules?includeOnlyPublished=true"
        ))
        .await;
    assert_eq!(published["entities"].as_array().unwrap().len(), 5);
    let (_, week_list) = api
        .get(&format!("{WFM}/businessunits/{bu}/weeks/{week}/schedules"))
        .await;
    assert_eq!(week_list["entities"][0]["id"], sched.as_str());
    assert_eq!(week_list["entities"][0]["weekDate"], week.as_str());
    let (_, bounded) = api
        .get(&format!(
            "{WFM}/businessunits/{bu}/weeks/recent/schedules?earliestWeekDate={week}&latestWeekDate={week}"
        ))
        .await;
    assert_eq!(bounded["entities"].as_array().unwrap().len(), 1);
    assert_eq!(
        api.get(&format!("{WFM}/businessunits/{bu}/weeks/2026-13-01/schedules"))
            .await
            .0,
        400
    );
    let (_, meta) = api
        .get(&format!(
            "{WFM}/businessunits/{bu}/weeks/{week}/schedules/{sched}"
        ))
        .await;
    assert_eq!(meta["managementUnits"][0]["managementUnit"]["id"], mu.as_str());
    assert_eq!(meta["managementUnits"][0]["agentCount"], 20);
    assert!(meta["managementUnits"][0].get("agents").is_none());
    let (_, meta) = api
        .get(&format!(
            "{WFM}/businessunits/{bu}/weeks/{week}/schedules/{sched}?expand=managementUnits.agents"
        ))
        .await;
    assert_eq!(meta["managementUnits"][0]["agents"].as_array().unwrap().len(), 20);
    assert_eq!(meta["metadata"]["version"], 1);
}

#[tokio::test]
async fn presence_routes_and_bulk_limit() {
    let sim = SimBuilder::from(SimConfig {
        agents: 60,
        ..SimBuilder::small().config()
    })
    .start()
    .await;
    let api = Api::login(&sim).await;
    let ids = sim.org().agent_ids();
    let when = sim.set_presence(&ids[0], "Meal", false).unwrap();
    let (s, p) = api
        .get(&format!("/api/v2/users/{}/presences/purecloud", ids[0]))
        .await;
    assert_eq!(s, 200);
    assert_eq!(p["presenceDefinition"]["systemPresence"], "Meal");
    assert_eq!(
        p["presenceDefinition"]["id"],
        "3fd96123-badb-4f69-bc03-1b1ccc6d8014"
    );
    assert_eq!(p["modifiedDate"], when.as_str());
    let q: Vec<String> = ids[..50].iter().map(|i| format!("id={i}")).collect();
    let (s, bulk) = api
        .get(&format!("/api/v2/users/presences/purecloud/bulk?{}", q.join("&")))
        .await;
    assert_eq!(s, 200);
    let bulk = bulk.as_array().unwrap();
    assert_eq!(bulk.len(), 50);
    assert_eq!(bulk[0]["userId"], ids[0].as_str());
    assert!(
        bulk.iter()
            .all(|b| b["presenceDefinition"]["systemPresence"].is_string())
    );
    let q: Vec<String> = ids[..51].iter().map(|i| format!("id={i}")).collect();
    assert_eq!(
        api.get(&format!("/api/v2/users/presences/purecloud/bulk?{}", q.join("&")))
            .await
            .0,
        400
    );
    sim.set_routing_status(&ids[1], "INTERACTING", false).unwrap();
    let (_, r) = api.get(&format!("/api/v2/users/{}/routingstatus", ids[1])).await;
    assert_eq!(r["userId"], ids[1].as_str());
    assert_eq!(r["status"], "INTERACTING");
    sim.deny_permission("presence:userPresence:view");
    assert_eq!(
        api.get(&format!("/api/v2/users/{}/presences/purecloud", ids[0]))
            .await
            .0,
        403
    );
}

#[tokio::test]
async fn twenty_thousand_agents_start_fast_and_same_seed_same_org() {
    let started = tokio::time::Instant::now();
    let big = SimBuilder::from(SimConfig {
        business_units: 4,
        agents: 20_000,
        ..SimBuilder::small().config()
    })
    .start()
    .await;
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "start took {:?}",
        started.elapsed()
    );
    let org = big.org();
    assert_eq!(org.agent_ids().len(), 20_000);
    assert!(
        org.business_units
            .iter()
            .flat_map(|b| &b.management_units)
            .all(|m| m.agent_ids.len() <= 200)
    );
    let again = SimBuilder::from(SimConfig {
        business_units: 4,
        agents: 20_000,
        ..SimBuilder::small().config()
    })
    .start()
    .await
    .org();
    assert_eq!(again.agent_ids(), org.agent_ids());
    assert_eq!(again.schedules[0].id, org.schedules[0].id);
}

#[tokio::test]
async fn activity_mode_emits_presence_changes() {
    let sim = SimBuilder::from(SimConfig {
        activity: true,
        agents: 4,
        ..SimBuilder::small().config()
    })
    .start()
    .await;
    let api = Api::login(&sim).await;
    let (ch, uri) = api.channel().await;
    let topics: Vec<String> = sim
        .org()
        .agent_ids()
        .iter()
        .map(|id| format!("v2.users.{id}?presence&routingStatus"))
        .collect();
    let refs: Vec<&str> = topics.iter().map(String::as_str).collect();
    assert_eq!(api.subscribe(&ch, &refs).await.0, 200);
    let mut ws = connect(&uri).await;
    assert!(sim.wait_for_channels(T, |c| c[0].connected).await);
    let ev = next_event(&mut ws, T).await.unwrap();
    let topic = ev["topicName"].as_str().unwrap();
    assert!(
        topic.ends_with(".presence") || topic.ends_with(".routingStatus"),
        "{topic}"
    );
    sim.shutdown();
}
