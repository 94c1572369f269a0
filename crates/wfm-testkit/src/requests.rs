//! Reading what happened on the simulator side: budgeted requests, agent-schedule queries
//! and request rates in its request log, agent ids in an event, and the schedules the
//! simulator itself serves, to compare an emitted event with the API.

use genesys_sim::{LoggedRequest, SimHandle};
use serde_json::Value;
use std::time::Duration;
use tokio::time::Instant;

/// Agent-schedule queries in the log (first attempts and forced re-queries alike).
pub fn agent_queries(log: &[LoggedRequest]) -> Vec<&LoggedRequest> {
    log.iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("/agentschedules/query"))
        .collect()
}

/// Requests that spend the REST budget (every WFM, user and download call; not login or
/// notification channel management, which do not go through the budget).
pub fn budgeted(log: &[LoggedRequest]) -> Vec<&LoggedRequest> {
    log.iter()
        .filter(|r| {
            r.path.starts_with("/api/v2/workforcemanagement/")
                || r.path.starts_with("/api/v2/users/")
                || r.path.starts_with("/downloads/")
        })
        .collect()
}

/// The sorted user ids of a `wfm.schedule.changed` event.
pub fn agent_ids(event: &Value) -> Vec<String> {
    let mut ids: Vec<String> = event["data"]["agents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["userId"].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    ids
}

/// The agent schedules the simulator serves now for (schedule, MU), by user id, read over
/// REST with a token of the test's own (so it never counts as the app's request).
pub async fn sim_agent_schedules(
    sim: &SimHandle,
    bu: &str,
    week: &str,
    schedule: &str,
    mu: &str,
) -> std::collections::HashMap<String, Value> {
    let http = reqwest::Client::new();
    let token = crate::api::token(sim).await;
    let url = format!(
        "{}/api/v2/workforcemanagement/businessunits/{bu}/weeks/{week}/schedules/{schedule}/agentschedules/query",
        sim.base_url()
    );
    let body: Value = http
        .post(url)
        .bearer_auth(token)
        .json(&serde_json::json!({"managementUnitId": mu}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["result"]["agentSchedules"]
        .as_array()
        .expect("inline result")
        .iter()
        .map(|a| (a["user"]["id"].as_str().unwrap().to_string(), a.clone()))
        .collect()
}

/// Asserts that an event's agent entry carries exactly the shifts the API serves
/// (ids, starts, lengths, and every activity's start, length and code).
pub fn assert_same_shifts(event_agent: &Value, api_agent: &Value) {
    let ev = event_agent["shifts"].as_array().unwrap();
    let api = api_agent["shifts"].as_array().unwrap();
    assert_eq!(ev.len(), api.len(), "shift count of {}", event_agent["userId"]);
    for (e, a) in ev.iter().zip(api) {
        assert_eq!(e["id"], a["id"]);
        assert_eq!(e["startDate"], a["startDate"]);
        assert_eq!(e["lengthMinutes"], a["lengthMinutes"]);
        let (ea, aa) = (
            e["activities"].as_array().unwrap(),
            a["activities"].as_array().unwrap(),
        );
        assert_eq!(ea.len(), aa.len());
        for (x, y) in ea.iter().zip(aa) {
            assert_eq!(x["startDate"], y["startDate"]);
            assert_eq!(x["lengthMinutes"], y["lengthMinutes"]);
            assert_eq!(x["activityCodeId"], y["activityCodeId"]);
            assert!(x["activityCode"]["name"].is_string(), "activity code resolved");
        }
    }
}

/// Requests logged at or after `since`.
pub fn requests_since(sim: &SimHandle, since: Instant) -> Vec<LoggedRequest> {
    sim.request_log().into_iter().filter(|r| r.at >= since).collect()
}

/// The most requests in any `window` (sliding over request arrival times).
pub fn max_in_window(reqs: &[LoggedRequest], window: Duration) -> usize {
    let mut at: Vec<Instant> = reqs.iter().map(|r| r.at).collect();
    at.sort();
    let mut best = 0;
    let mut j = 0;
    for i in 0..at.len() {
        while at[i] - at[j] >= window {
            j += 1;
        }
        best = best.max(i + 1 - j);
    }
    best
}

/// True for requests counted against the platform's per-token rate limit (the REST API,
/// not OAuth nor the pre-signed result downloads).
pub fn is_api(r: &LoggedRequest) -> bool {
    r.path.starts_with("/api/v2/")
}
