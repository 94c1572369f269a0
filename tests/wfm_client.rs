//! The WFM client against a small scripted HTTP server on port 0 (the simulator covers
//! the full API; this pins the retry rules and the three delivery modes exactly).

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use flate2::{Compression, write::GzEncoder};
use std::collections::VecDeque;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;
use wfm_reactor::backoff::BackoffPolicy;
use wfm_reactor::diff::CanonicalAgentSchedule;
use wfm_reactor::wfm::{ClientSettings, Credentials, RateBudget, WfmClient, WfmError};

/// One scripted answer: status, extra headers, body.
#[derive(Clone)]
struct Answer(u16, Vec<(&'static str, String)>, Vec<u8>);

#[derive(Default)]
struct Fake {
    /// Answers by path prefix, consumed in order; the last one repeats.
    script: Mutex<Vec<(String, VecDeque<Answer>)>>,
    /// (when, path+query, had Authorization)
    log: Mutex<Vec<(Instant, String, bool)>>,
}

async fn handle(State(f): State<Arc<Fake>>, _m: Method, uri: Uri, headers: HeaderMap, _b: Bytes) -> Response {
    let pq = uri.path_and_query().map(|p| p.to_string()).unwrap_or_default();
    f.log
        .lock()
        .unwrap()
        .push((Instant::now(), pq.clone(), headers.contains_key("authorization")));
    let mut script = f.script.lock().unwrap();
    let found = script
        .iter_mut()
        .find(|(prefix, _)| pq.starts_with(prefix.as_str()));
    let Some((_, answers)) = found else {
        return (StatusCode::NOT_FOUND, "{}").into_response();
    };
    let a = if answers.len() > 1 {
        answers.pop_front().unwrap()
    } else {
        answers[0].clone()
    };
    let mut resp = (StatusCode::from_u16(a.0).unwrap(), a.2).into_response();
    for (k, v) in a.1 {
        resp.headers_mut().insert(k, v.parse().unwrap());
    }
    resp
}

async fn start() -> (Arc<Fake>, String) {
    let fake = Arc::new(Fake::default());
    let app = Router::new().fallback(handle).with_state(fake.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (fake, base)
}

fn script(f: &Fake, prefix: &str, answers: Vec<Answer>) {
    f.script
        .lock()
        .unwrap()
        .push((prefix.to_string(), answers.into()));
}

fn json(status: u16, body: serde_json::Value) -> Answer {
    Answer(
        status,
        vec![("content-type", "application/json".into())],
        body.to_string().into_bytes(),
    )
}

fn client(base: &str) -> WfmClient {
    let settings = ClientSettings {
        request_timeout: Duration::from_secs(5),
        retry: BackoffPolicy::try_new(Duration::from_millis(10), Duration::from_millis(40), 2.0).unwrap(),
        max_attempts: 3,
        max_rate_limited_attempts: 4,
    };
    WfmClient::new(
        base,
        Credentials::Static("t0k".into()),
        RateBudget::new(6000, 4),
        settings,
    )
    .unwrap()
}

const BU: &str = "/api/v2/workforcemanagement/businessunits";

#[tokio::test]
async fn a_429_pauses_every_call_for_retry_after() {
    let (fake, base) = start().await;
    script(
        &fake,
        &format!("{BU}/b1/managementunits"),
        vec![
            Answer(429, vec![("retry-after", "1".into())], b"{}".to_vec()),
            json(200, serde_json::json!({"entities": [{"id": "m1"}]})),
        ],
    );
    script(
        &fake,
        BU,
        vec![json(200, serde_json::json!({"entities": [{"id": "b1"}]}))],
    );
    let c = client(&base);
    let mus = c.management_units("b1").await.unwrap();
    assert_eq!(mus[0].id.as_deref(), Some("m1"));
    let log = fake.log.lock().unwrap().clone();
    assert_eq!(log.len(), 2);
    let gap = log[1].0 - log[0].0;
    assert!(gap >= Duration::from_secs(1), "retried after {gap:?}");
    assert!(log.iter().all(|(_, _, auth)| *auth), "API calls carry the bearer");
}

#[tokio::test]
async fn a_429_blocks_a_concurrent_caller_too() {
    let (fake, base) = start().await;
    script(
        &fake,
        &format!("{BU}/b1/managementunits"),
        vec![
            Answer(429, vec![("retry-after", "1".into())], b"{}".to_vec()),
            json(200, serde_json::json!({"entities": []})),
        ],
    );
    script(&fake, BU, vec![json(200, serde_json::json!({"entities": []}))]);
    let c = client(&base);
    let first = tokio::spawn({
        let c = c.clone();
        async move { c.management_units("b1").await }
    });
    // wait (bounded) until the 429 has been served, then call another route
    let deadline = Instant::now() + Duration::from_secs(5);
    while c.budget().paused_until().is_none() {
        assert!(Instant::now() < deadline, "no 429 seen");
        tokio::task::yield_now().await;
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    c.business_units().await.unwrap();
    first.await.unwrap().unwrap();
    let log = fake.log.lock().unwrap().clone();
    let limited_at = log[0].0;
    for (at, path, _) in &log[1..] {
        assert!(
            *at - limited_at >= Duration::from_secs(1),
            "{path} sent during the pause"
        );
    }
}

#[tokio::test]
async fn errors_are_classified() {
    let (fake, base) = start().await;
    script(
        &fake,
        &format!("{BU}/b403"),
        vec![json(
            403,
            serde_json::json!({
                "message": "You are missing the following permission(s): [wfm:schedule:view, wfm:publishedSchedule:view]",
                "code": "missing.any.permissions",
                "messageParams": {"permissions": "[wfm:schedule:view, wfm:publishedSchedule:view]"}
            }),
        )],
    );
    script(
        &fake,
        &format!("{BU}/bare403"),
        vec![Answer(403, vec![], b"".to_vec())],
    );
    script(
        &fake,
        &format!("{BU}/b503"),
        vec![
            Answer(503, vec![], b"down".to_vec()),
            Answer(503, vec![], b"down".to_vec()),
            json(200, serde_json::json!({"entities": [{"id": "m"}]})),
        ],
    );
    script(
        &fake,
        &format!("{BU}/b500"),
        vec![Answer(500, vec![], b"boom".to_vec())],
    );
    script(
        &fake,
        &format!("{BU}/b401"),
        vec![Answer(401, vec![], b"{}".to_vec())],
    );
    script(
        &fake,
        &format!("{BU}/bad"),
        vec![json(200, serde_json::json!({"entities": "nope"}))],
    );
    let c = client(&base);
    match c
        .schedules("b403", wfm_reactor::wfm::Weeks::Week("2026-08-10"), true)
        .await
    {
        Err(WfmError::Forbidden { permission, route }) => {
            assert_eq!(permission, "wfm:schedule:view or wfm:publishedSchedule:view");
            assert_eq!(route, "schedules.list");
        }
        other => panic!("{other:?}"),
    }
    match c.schedule_metadata("bare403", "2026-08-10", "s").await {
        Err(WfmError::Forbidden { permission, .. }) => {
            assert!(permission.contains("wfm:publishedSchedule:view"))
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        c.schedule_metadata("nobody", "2026-08-10", "s").await,
        Err(WfmError::NotFound { .. })
    ));
    assert_eq!(c.management_units("b503").await.unwrap().len(), 1);
    match c.management_units("b500").await {
        Err(WfmError::Http {
            status: 500, body, ..
        }) => assert_eq!(body, "boom"),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        c.management_units("b401").await,
        Err(WfmError::Unauthorized { .. })
    ));
    assert!(matches!(
        c.management_units("bad").await,
        Err(WfmError::Decode { .. })
    ));
    let log = fake.log.lock().unwrap();
    assert_eq!(log.iter().filter(|(_, p, _)| p.contains("b503")).count(), 3);
    assert_eq!(
        log.iter().filter(|(_, p, _)| p.contains("b500")).count(),
        3,
        "bounded attempts"
    );
}

fn result_body() -> serde_json::Value {
    serde_json::json!({
        "businessUnitTimeZone": "Europe/Paris",
        "agentSchedules": [
            {"user": {"id": "u1"}, "shifts": [{"id": "s1", "startDate": "2026-08-17T13:00:00Z", "lengthMinutes": 480,
              "activities": [{"startDate": "2026-08-17T13:00:00Z", "lengthMinutes": 480, "activityCodeId": "0"}]}],
             "fullDayTimeOffMarkers": []},
            {"user": {"id": "u2"}, "shifts": [], "fullDayTimeOffMarkers": [{"businessUnitDate": "2026-08-18", "lengthMinutes": 480}]}
        ]
    })
}

fn gz(data: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn canonical(
    r: &wfm_reactor::genesys::wfm::BuAgentSchedulesQueryResponse,
) -> Vec<(String, CanonicalAgentSchedule)> {
    r.agent_schedules
        .iter()
        .filter_map(CanonicalAgentSchedule::from_api)
        .collect()
}

#[tokio::test]
async fn inline_download_and_processing_answers_give_the_same_schedules() {
    let (fake, base) = start().await;
    let body = result_body();
    let bytes = body.to_string().into_bytes();
    let q = |s: &str| format!("{BU}/{s}/weeks/2026-08-17/schedules/sch/agentschedules/query");
    script(
        &fake,
        &q("inline"),
        vec![json(
            200,
            serde_json::json!({"status": "Complete", "result": body}),
        )],
    );
    for (bu, dl) in [
        ("rawgz", "/dl/rawgz"),
        ("encgz", "/dl/encgz"),
        ("plain", "/dl/plain"),
    ] {
        script(
            &fake,
            &q(bu),
            vec![json(
                200,
                serde_json::json!({"status": "Complete", "downloadUrl": format!("{base}{dl}")}),
            )],
        );
    }
    script(
        &fake,
        &format!("{}?forceDownloadService=true", q("async")),
        vec![json(
            200,
            serde_json::json!({"status": "Complete", "downloadUrl": format!("{base}/dl/plain")}),
        )],
    );
    script(
        &fake,
        &q("async"),
        vec![json(
            200,
            serde_json::json!({"status": "Processing", "operationId": "op1"}),
        )],
    );
    script(
        &fake,
        &q("never"),
        vec![json(
            200,
            serde_json::json!({"status": "Processing", "operationId": "op2"}),
        )],
    );
    script(
        &fake,
        "/dl/rawgz",
        vec![Answer(
            200,
            vec![("content-type", "application/octet-stream".into())],
            gz(&bytes),
        )],
    );
    script(
        &fake,
        "/dl/encgz",
        vec![Answer(200, vec![("content-encoding", "gzip".into())], gz(&bytes))],
    );
    script(&fake, "/dl/plain", vec![Answer(200, vec![], bytes.clone())]);

    let c = client(&base);
    let inline = c
        .agent_schedules("inline", "2026-08-17", "sch", "mu", None)
        .await
        .unwrap();
    assert_eq!(inline.business_unit_time_zone.as_deref(), Some("Europe/Paris"));
    let want = canonical(&inline);
    assert_eq!(want.len(), 2);
    for bu in ["rawgz", "encgz", "plain", "async"] {
        let got = c
            .agent_schedules(bu, "2026-08-17T00:00:00Z", "sch", "mu", None)
            .await
            .unwrap();
        assert_eq!(canonical(&got), want, "{bu}");
    }
    match c.agent_schedules("never", "2026-08-17", "sch", "mu", None).await {
        Err(WfmError::NoResult { operation_id, .. }) => assert_eq!(operation_id.as_deref(), Some("op2")),
        other => panic!("a missing result must never read as empty: {other:?}"),
    }
    let log = fake.log.lock().unwrap();
    assert!(
        log.iter()
            .filter(|(_, p, _)| p.starts_with("/dl/"))
            .all(|(_, _, auth)| !auth),
        "no bearer on downloads"
    );
    assert!(
        log.iter()
            .any(|(_, p, _)| p.contains("async") && p.ends_with("forceDownloadService=true"))
    );
}

#[tokio::test]
async fn activity_codes_are_cached_and_follow_download_urls() {
    let (fake, base) = start().await;
    script(
        &fake,
        &format!("{BU}/b1/activitycodes"),
        vec![json(
            200,
            serde_json::json!({"downloadUrl": format!("{base}/dl/codes")}),
        )],
    );
    script(&fake, "/dl/codes", vec![Answer(200, vec![], gz(serde_json::json!({"entities": [
        {"id": "0", "name": "On Queue Work", "category": "OnQueueWork"}, {"id": "5", "name": "Vacation", "category": "TimeOff"}
    ]}).to_string().as_bytes()))]);
    let c = client(&base);
    let codes = c.activity_codes("b1").await.unwrap();
    assert_eq!(codes["5"].category.as_deref(), Some("TimeOff"));
    c.activity_codes("b1").await.unwrap();
    assert_eq!(
        fake.log.lock().unwrap().len(),
        2,
        "second read served from the cache"
    );
    c.refresh_activity_codes("b1").await.unwrap();
    assert_eq!(fake.log.lock().unwrap().len(), 4);
}
