//! The WFM client's retry and error rules against a scripted HTTP server on port 0.

use std::time::Duration;
use wfm_reactor::wfm::WfmError;
use wfm_testkit::fake_http::*;

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
    wfm_testkit::eventually!(
        within = Duration::from_secs(5),
        c.budget().paused_until().is_some(),
        "a 429 to pause the budget"
    );
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

#[tokio::test]
async fn a_failed_download_names_its_url_without_the_presigned_query() {
    let (fake, base) = start().await;
    // A download host that refuses connections: the error quotes the URL.
    let dead = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let dead_addr = dead.local_addr().unwrap();
    drop(dead);
    let url = format!(
        "http://{dead_addr}/dl/agents.json.gz?X-Amz-Credential=AKIASECRETCRED&X-Amz-Signature=deadbeefsig"
    );
    script(
        &fake,
        &format!("{BU}/b1/weeks/2026-08-10/schedules/s1/agentschedules/query"),
        vec![json(200, serde_json::json!({"downloadUrl": url}))],
    );
    let err = client(&base)
        .agent_schedules("b1", "2026-08-10", "s1", "m1", None)
        .await
        .expect_err("the download host is down");
    let shown = format!("{err} {err:?}");
    assert!(matches!(err, WfmError::Transport { .. }), "{shown}");
    assert!(
        !shown.contains("AKIASECRETCRED") && !shown.contains("deadbeefsig"),
        "{shown}"
    );
}
