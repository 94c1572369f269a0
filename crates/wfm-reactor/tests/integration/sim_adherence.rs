//! Simulator: real-time adherence on the unit topic and the unit REST route, computed from
//! the simulated org's presence and schedules; denying `wfm:realtimeAdherence:view`
//! rejects both.

use std::time::Duration;
use wfm_testkit::SimBuilder;
use wfm_testkit::api::*;
use wfm_testkit::ws::*;

const T: Duration = Duration::from_secs(5);

#[tokio::test]
async fn a_presence_change_is_published_on_the_unit_topic_and_listed_over_rest() {
    let sim = SimBuilder::small().start().await;
    let org = sim.org();
    let mu = org.business_units[0].management_units[0].clone();
    let user = mu.agent_ids[0].clone();
    let topic = format!("v2.workforcemanagement.managementunits.{}.adherence", mu.id);
    let api = Api::login(&sim).await;
    let (ch, uri) = api.channel().await;
    assert_eq!(api.subscribe(&ch, &[&topic]).await.0, 200);
    let mut ws = connect(&uri).await;
    assert!(
        sim.wait_for_channels(T, |c| c.iter().any(|c| c.id == ch && c.connected))
            .await
    );

    sim.set_presence(&user, "Offline", true).unwrap();
    let ev = loop {
        let f = next_json(&mut ws, T).await.expect("a frame");
        if f["topicName"] == topic.as_str() {
            break f["eventBody"].clone();
        }
    };
    assert_eq!(ev["user"]["id"], user.as_str());
    assert_eq!(ev["managementUnitId"], mu.id.as_str());
    assert_eq!(ev["actualActivityCategory"], "Unavailable");
    assert!(
        ev["adherenceState"].is_string() && ev["adherenceChangeTime"].is_string(),
        "{ev}"
    );

    let (status, listing) = api
        .get(&format!("{WFM}/managementunits/{}/adherence", mu.id))
        .await;
    assert_eq!(status, 200);
    let entities = listing["entities"].as_array().unwrap();
    assert_eq!(entities.len(), mu.agent_ids.len(), "every agent of the unit");
    let mine = entities
        .iter()
        .find(|e| e["user"]["id"] == user.as_str())
        .unwrap();
    assert_eq!(mine["actualActivityCategory"], "Unavailable");
    assert!(
        mine["timeOfAdherenceChange"].is_string(),
        "the REST model's name: {mine}"
    );

    sim.deny_permission("wfm:realtimeAdherence:view");
    let (status, _) = api
        .get(&format!("{WFM}/managementunits/{}/adherence", mu.id))
        .await;
    assert_eq!(status, 403);
    let (_, sub) = api.subscribe(&ch, &[&topic]).await;
    assert!(
        sub.to_string().contains("realtimeAdherence"),
        "rejected naming the permission: {sub}"
    );
}
