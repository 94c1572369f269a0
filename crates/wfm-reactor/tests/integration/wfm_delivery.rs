//! The three delivery modes of agent-schedule queries (inline, downloadUrl in its three
//! encodings, processing) and the activity-code cache, against a scripted server.

use wfm_reactor::diff::CanonicalAgentSchedule;
use wfm_reactor::wfm::WfmError;
use wfm_testkit::fake_http::*;

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

#[tokio::test]
async fn an_expired_download_url_is_a_plain_error_not_a_permission_or_deletion() {
    let (fake, base) = start().await;
    let q = format!("{BU}/b/weeks/2026-08-17/schedules/sch/agentschedules/query");
    script(
        &fake,
        &q,
        vec![json(
            200,
            serde_json::json!({"status": "Complete", "downloadUrl": format!("{base}/dl/expired")}),
        )],
    );
    script(
        &fake,
        "/dl/expired",
        vec![Answer(403, vec![], b"<Error>AccessDenied</Error>".to_vec())],
    );
    match client(&base)
        .agent_schedules("b", "2026-08-17", "sch", "mu", None)
        .await
    {
        Err(WfmError::Http {
            status: 403, route, ..
        }) => assert_eq!(route, "agentschedules.download"),
        other => panic!("{other:?}"),
    }
}
