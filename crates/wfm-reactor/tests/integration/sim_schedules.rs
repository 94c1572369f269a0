//! Simulator: agent-schedule query delivery modes (inline, downloadUrl gzip, async).

use genesys_sim::SimConfig;
use reqwest::Method;
use serde_json::{Value, json};
use std::io::Read;
use wfm_testkit::api::*;
use wfm_testkit::ws::*;
use wfm_testkit::{FirstSchedule, SimBuilder};

pub(crate) fn query_path(bu: &str, week: &str, sched: &str, flags: &str) -> String {
    format!("{WFM}/businessunits/{bu}/weeks/{week}/schedules/{sched}/agentschedules/query{flags}")
}

#[tokio::test]
async fn inline_query_has_realistic_shifts_and_is_deterministic() {
    let sim = SimBuilder::small().start().await;
    let api = Api::login(&sim).await;
    let FirstSchedule {
        business_unit: bu,
        management_unit: mu,
        schedule: sched,
        week,
        ..
    } = FirstSchedule::of(&sim);
    let (s, body) = api
        .send(
            Method::POST,
            &query_path(&bu, &week, &sched, ""),
            &json!({"managementUnitId": mu}),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(body["status"], "Complete");
    let result = &body["result"];
    assert_eq!(result["businessUnitTimeZone"], "America/Chicago");
    let scheds = result["agentSchedules"].as_array().unwrap();
    assert_eq!(scheds.len(), 20);
    for a in scheds {
        let shifts = a["shifts"].as_array().unwrap().len();
        let off = a["fullDayTimeOffMarkers"].as_array().unwrap().len();
        assert_eq!(shifts + off, 5, "five working days");
        for sh in a["shifts"].as_array().unwrap() {
            assert_eq!(sh["lengthMinutes"], 480);
            let acts = sh["activities"].as_array().unwrap();
            let minutes: i64 = acts.iter().map(|x| x["lengthMinutes"].as_i64().unwrap()).sum();
            assert_eq!(minutes, 480);
            assert_eq!(
                acts.iter().filter(|x| x["activityCodeId"] == "1").count(),
                2,
                "two breaks"
            );
            assert_eq!(
                acts.iter().filter(|x| x["activityCodeId"] == "2").count(),
                1,
                "one meal"
            );
            assert_eq!(sh["schedule"]["id"], sched.as_str());
        }
    }
    // userIds narrows; the same seed renders the same shifts.
    let user = scheds[3]["user"]["id"].as_str().unwrap();
    let (_, narrow) = api
        .send(
            Method::POST,
            &query_path(&bu, &week, &sched, ""),
            &json!({"managementUnitId": mu, "userIds": [user]}),
        )
        .await;
    assert_eq!(narrow["result"]["agentSchedules"].as_array().unwrap().len(), 1);
    assert_eq!(narrow["result"]["agentSchedules"][0], scheds[3]);
    let (s, _) = api
        .send(Method::POST, &query_path(&bu, &week, &sched, ""), &json!({}))
        .await;
    assert_eq!(s, 400);
}

fn gunzip(bytes: &[u8]) -> Value {
    let mut s = String::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_string(&mut s)
        .expect("gzip");
    serde_json::from_str(&s).expect("json")
}

#[tokio::test]
async fn download_url_serves_gzip_without_bearer() {
    let sim = SimBuilder::from(SimConfig {
        download_threshold_agents: 5,
        ..SimBuilder::small().config()
    })
    .start()
    .await;
    let api = Api::login(&sim).await;
    let FirstSchedule {
        business_unit: bu,
        management_unit: mu,
        schedule: sched,
        week,
        ..
    } = FirstSchedule::of(&sim);
    for flags in ["", "?forceDownloadService=true"] {
        let (_, body) = api
            .send(
                Method::POST,
                &query_path(&bu, &week, &sched, flags),
                &json!({"managementUnitId": mu}),
            )
            .await;
        assert_eq!(body["status"], "Complete");
        assert!(body.get("result").is_none_or(Value::is_null));
        let url = body["downloadUrl"].as_str().unwrap();
        let raw = reqwest::Client::builder()
            .no_gzip()
            .build()
            .unwrap()
            .get(url)
            .send()
            .await
            .unwrap();
        assert_eq!(raw.status(), 200);
        assert_eq!(raw.headers()["content-encoding"], "gzip");
        let v = gunzip(&raw.bytes().await.unwrap());
        assert_eq!(v["agentSchedules"].as_array().unwrap().len(), 20);
        assert!(v.get("downloadUrl").is_none());
    }
}

#[tokio::test]
async fn force_async_answers_processing_then_publishes_result_topic() {
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
        api.subscribe(&ch, &["v2.workforcemanagement.users.sim-client.schedules.query"])
            .await
            .0,
        200
    );
    let mut ws = connect(&uri).await;
    assert!(sim.wait_for_channels(T, |c| c[0].connected).await);
    let (_, body) = api
        .send(
            Method::POST,
            &query_path(&bu, &week, &sched, "?forceAsync=true"),
            &json!({"managementUnitId": mu}),
        )
        .await;
    assert_eq!(body["status"], "Processing");
    assert!(body.get("result").is_none_or(Value::is_null));
    let op = body["operationId"].as_str().unwrap();
    let ev = next_event(&mut ws, T).await.unwrap();
    assert_eq!(
        ev["topicName"],
        "v2.workforcemanagement.users.sim-client.schedules.query"
    );
    assert_eq!(ev["eventBody"]["operationId"], op);
    assert_eq!(ev["eventBody"]["businessUnitId"], bu.as_str());
    let got = reqwest::get(ev["eventBody"]["downloadUrl"].as_str().unwrap())
        .await
        .unwrap();
    let v: Value = got.json().await.unwrap();
    assert_eq!(v["agentSchedules"].as_array().unwrap().len(), 20);
    // The async-only fault answers Processing without forceAsync, unless forceDownloadService.
    sim.set_async_only(true);
    let (_, body) = api
        .send(
            Method::POST,
            &query_path(&bu, &week, &sched, ""),
            &json!({"managementUnitId": mu}),
        )
        .await;
    assert_eq!(body["status"], "Processing");
    let (_, body) = api
        .send(
            Method::POST,
            &query_path(&bu, &week, &sched, "?forceDownloadService=true"),
            &json!({"managementUnitId": mu}),
        )
        .await;
    assert_eq!(body["status"], "Complete");
    assert!(body["downloadUrl"].is_string());
}
