//! Hostile or broken upstream numbers and bodies (contract, second tranche): against a
//! scripted server on port 0, none panics or stalls, each is refused with a clear error.

use flate2::{Compression, write::GzEncoder};
use std::io::Write;
use std::time::Duration;
use wfm_reactor::auth::TokenProvider;
use wfm_reactor::backoff::BackoffPolicy;
use wfm_reactor::config::Secret;
use wfm_reactor::wfm::{ClientSettings, Credentials, RateBudget, WfmClient, WfmError};
use wfm_testkit::fake_http::*;

const HOUR: Duration = Duration::from_secs(3600);

/// A client that gives up after the first 429 (so a test never waits out the pause).
fn one_429_client(base: &str) -> WfmClient {
    let settings = ClientSettings {
        request_timeout: Duration::from_secs(5),
        retry: BackoffPolicy::try_new(Duration::from_millis(10), Duration::from_millis(40), 2.0).unwrap(),
        max_attempts: 3,
        max_rate_limited_attempts: 1,
        max_download_bytes: 1 << 20,
    };
    WfmClient::new(
        base,
        Credentials::Static("t".into()),
        RateBudget::new(6000, 4),
        settings,
    )
    .unwrap()
}

#[tokio::test]
async fn a_huge_retry_after_counts_as_an_hour_and_garbage_as_absent() {
    for (value, expected) in [
        ("1e19", Some(HOUR)),
        ("1e18", Some(HOUR)),
        ("soon", None),
        ("-5", None),
    ] {
        let (fake, base) = start().await;
        script(
            &fake,
            &format!("{BU}/b1/managementunits"),
            vec![Answer(429, vec![("retry-after", value.into())], b"{}".to_vec())],
        );
        let c = one_429_client(&base);
        let before = tokio::time::Instant::now();
        match c.management_units("b1").await {
            Err(WfmError::RateLimited { retry_after, .. }) => assert_eq!(retry_after, expected, "{value}"),
            other => panic!("{value}: {other:?}"),
        }
        let until = c.budget().paused_until().expect("the budget pauses");
        assert!(
            until <= before + HOUR + Duration::from_secs(5),
            "{value}: paused too long"
        );
    }
}

fn bomb(decoded: usize) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::best());
    e.write_all(br#"{"agentSchedules":[{"user":{"id":""#).unwrap();
    let chunk = vec![b'a'; 1 << 20];
    for _ in 0..decoded >> 20 {
        e.write_all(&chunk).unwrap();
    }
    e.write_all(br#""}}]}"#).unwrap();
    e.finish().unwrap()
}

#[tokio::test]
async fn a_gzip_bomb_download_is_refused_with_and_without_content_encoding() {
    let (fake, base) = start().await;
    let bomb = bomb(8 << 20);
    let query = format!("{BU}/b/weeks/2026-08-17/schedules/sch/agentschedules/query");
    script(
        &fake,
        "/dl/enc",
        vec![Answer(
            200,
            vec![("content-encoding", "gzip".into())],
            bomb.clone(),
        )],
    );
    script(&fake, "/dl/raw", vec![Answer(200, vec![], bomb)]);
    let ok = serde_json::json!({"agentSchedules": [], "businessUnitTimeZone": "UTC"});
    script(
        &fake,
        "/dl/fine",
        vec![Answer(
            200,
            vec![("content-encoding", "gzip".into())],
            gz(ok.to_string().as_bytes()),
        )],
    );
    script(
        &fake,
        &query,
        ["/dl/enc", "/dl/raw", "/dl/fine"]
            .iter()
            .map(|dl| {
                json(
                    200,
                    serde_json::json!({"status": "Complete", "downloadUrl": format!("{base}{dl}")}),
                )
            })
            .collect(),
    );
    let c = client(&base);
    for mu in ["mu-enc", "mu-raw"] {
        let err = c
            .agent_schedules("b", "2026-08-17", "sch", mu, None)
            .await
            .expect_err("the bomb is refused");
        let text = err.to_string();
        assert!(text.contains("max_download_bytes = 1048576"), "{text}");
        assert!(text.contains(mu), "names the unit: {text}");
    }
    let fine = c.agent_schedules("b", "2026-08-17", "sch", "mu-fine", None).await;
    assert!(fine.is_ok(), "other work goes on: {fine:?}");
}

#[tokio::test]
async fn a_download_redirect_to_another_host_is_not_followed() {
    let (fake, base) = start().await;
    let (other, other_base) = start().await;
    script(
        &other,
        "/dl",
        vec![json(200, serde_json::json!({"agentSchedules": []}))],
    );
    let elsewhere = format!("{}/dl", other_base.replace("127.0.0.1", "localhost"));
    script(
        &fake,
        "/dl/moved",
        vec![Answer(302, vec![("location", elsewhere)], vec![])],
    );
    script(
        &fake,
        &format!("{BU}/b/weeks/2026-08-17/schedules/sch/agentschedules/query"),
        vec![json(
            200,
            serde_json::json!({"status": "Complete", "downloadUrl": format!("{base}/dl/moved")}),
        )],
    );
    let r = client(&base)
        .agent_schedules("b", "2026-08-17", "sch", "mu", None)
        .await;
    assert!(matches!(r, Err(WfmError::Http { status: 302, .. })), "{r:?}");
    assert!(
        other.log.lock().unwrap().is_empty(),
        "the other host saw no request"
    );
}

#[tokio::test]
async fn a_token_living_forever_counts_as_a_day_and_a_huge_token_answer_is_refused() {
    let (fake, base) = start().await;
    script(
        &fake,
        "/oauth/token",
        vec![
            json(
                200,
                serde_json::json!({"access_token": "a", "token_type": "bearer", "expires_in": u64::MAX}),
            ),
            Answer(200, vec![], vec![b' '; 1 << 20]),
        ],
    );
    let tokens = TokenProvider::new(
        base.clone(),
        "id".into(),
        Secret::new("s"),
        reqwest::Client::new(),
    );
    let before = tokio::time::Instant::now();
    let t = tokens.token().await.expect("a token");
    assert!(t.expires_at <= before + 24 * HOUR + Duration::from_secs(5));
    tokens.invalidate(&t).await;
    let err = tokens.token().await.expect_err("a 1 MiB token answer is refused");
    assert!(err.to_string().contains("larger than"), "{err}");
}

#[tokio::test]
async fn a_huge_retry_after_on_the_notifications_route_does_not_kill_the_channel_worker() {
    use wfm_reactor::topics::presence_topics;
    use wfm_testkit::manager::{agents, manager, notifications};
    let sim = wfm_testkit::SimBuilder::closing_grace().start().await;
    sim.fail_next("POST /api/v2/notifications/channels", 1, 429, Some(u64::MAX));
    let users = agents(&sim);
    let (m, _rx) = manager(&sim, notifications());
    m.set_topics(presence_topics(&users[..1], false).into_iter().collect())
        .await
        .unwrap();
    let creates = || {
        sim.request_log()
            .iter()
            .filter(|r| r.method == "POST" && r.path == "/api/v2/notifications/channels")
            .count()
    };
    wfm_testkit::eventually!(creates() == 1, "the channel create was refused once");
    // a panicking worker would be restarted (and create again) within its backoff
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(creates(), 1, "the worker waits out the clamped Retry-After");
    assert_eq!(m.status().not_live(), None, "still live");
    m.shutdown().await;
}
