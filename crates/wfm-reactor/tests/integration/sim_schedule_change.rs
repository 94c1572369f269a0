//! Simulator: a schedule change emits Processing then Complete on the BU topic and really
//! changes the changed agents' shifts in the next query.

use crate::sim_schedules::query_path;
use genesys_sim::{AgentPick, Emit, ScheduleChange};
use reqwest::Method;
use serde_json::{Value, json};
use wfm_testkit::api::*;
use wfm_testkit::ws::*;
use wfm_testkit::{FirstSchedule, SimBuilder};

#[tokio::test]
async fn schedule_change_emits_processing_then_complete_and_changes_shifts() {
    let sim = SimBuilder::small().start().await;
    let api = Api::login(&sim).await;
    let FirstSchedule {
        business_unit: bu,
        management_unit: mu,
        schedule: sched,
        week,
        ..
    } = FirstSchedule::of(&sim);
    let (ch, uri) = api.channel().await;
    assert_eq!(
        api.subscribe(
            &ch,
            &[&format!("v2.workforcemanagement.businessunits.{bu}.schedules")]
        )
        .await
        .0,
        200
    );
    let mut ws = connect(&uri).await;
    assert!(sim.wait_for_channels(T, |c| c[0].connected).await);
    let path = query_path(&bu, &week, &sched, "");
    let (_, before) = api
        .send(Method::POST, &path, &json!({"managementUnitId": mu}))
        .await;
    let out = sim
        .change_schedule(ScheduleChange {
            business_unit_id: bu.clone(),
            schedule_id: sched.clone(),
            management_unit_id: Some(mu.clone()),
            agents: AgentPick::Count(3),
            emit: Emit::ProcessingThenComplete {
                duplicate_complete: 1,
            },
        })
        .unwrap();
    assert_eq!(out.changed_agents.len(), 3);
    assert_eq!(out.version, 2);
    let p = next_event(&mut ws, T).await.unwrap();
    assert_eq!(p["eventBody"]["status"], "Processing");
    assert_eq!(p["eventBody"]["operationId"], out.operation_id.as_str());
    for _ in 0..2 {
        let c = next_event(&mut ws, T).await.unwrap();
        assert_eq!(c["eventBody"]["status"], "Complete");
        assert_eq!(c["eventBody"]["eventType"], "Update");
        assert_eq!(c["eventBody"]["operationId"], out.operation_id.as_str());
        let r = &c["eventBody"]["result"];
        assert_eq!(r["id"], sched.as_str());
        assert_eq!(r["metadata"]["version"], 2);
        assert_eq!(r["managementUnits"][0]["managementUnit"]["id"], mu.as_str());
        let agents: Vec<&str> = r["managementUnits"][0]["agents"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["id"].as_str().unwrap())
            .collect();
        assert_eq!(
            agents,
            out.changed_agents.iter().map(String::as_str).collect::<Vec<_>>()
        );
    }
    let (_, after) = api
        .send(Method::POST, &path, &json!({"managementUnitId": mu}))
        .await;
    let by_user = |v: &Value, id: &str| {
        v["result"]["agentSchedules"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["user"]["id"] == id)
            .cloned()
            .unwrap()
    };
    for id in &out.changed_agents {
        assert_ne!(
            by_user(&before, id)["shifts"],
            by_user(&after, id)["shifts"],
            "changed agent {id}"
        );
    }
    let unchanged = before["result"]["agentSchedules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["user"]["id"].as_str().unwrap())
        .find(|id| !out.changed_agents.iter().any(|c| c == id))
        .unwrap();
    assert_eq!(by_user(&before, unchanged), by_user(&after, unchanged));
    // Silent change: no event, state still moves on.
    let silent = sim
        .change_schedule(ScheduleChange {
            business_unit_id: bu.clone(),
            schedule_id: sched.clone(),
            management_unit_id: None,
            agents: AgentPick::Ids(vec![unchanged.to_string()]),
            emit: Emit::Silent,
        })
        .unwrap();
    assert_eq!(silent.version, 3);
    let (_, meta) = api
        .get(&format!(
            "{WFM}/businessunits/{bu}/weeks/{week}/schedules/{sched}"
        ))
        .await;
    assert_eq!(meta["metadata"]["version"], 3);
    let late = sim
        .change_schedule(ScheduleChange {
            business_unit_id: bu.clone(),
            schedule_id: sched.clone(),
            management_unit_id: None,
            agents: AgentPick::Count(1),
            emit: Emit::CompleteThenLateProcessing,
        })
        .unwrap();
    let c = next_event(&mut ws, T).await.unwrap();
    let p = next_event(&mut ws, T).await.unwrap();
    assert_eq!(
        (
            c["eventBody"]["status"].as_str(),
            p["eventBody"]["status"].as_str()
        ),
        (Some("Complete"), Some("Processing"))
    );
    assert_eq!(p["eventBody"]["operationId"], late.operation_id.as_str());
    sim.delete_schedule(&bu, &sched, Emit::Complete).unwrap();
    let d = next_event(&mut ws, T).await.unwrap();
    assert_eq!(d["eventBody"]["eventType"], "Delete");
    assert_eq!(
        api.get(&format!(
            "{WFM}/businessunits/{bu}/weeks/{week}/schedules/{sched}"
        ))
        .await
        .0,
        404
    );
}
