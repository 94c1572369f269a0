//! Admin access (contract, second tranche): with a token, `/v1/*` and `/` answer 401
//! without it and the probes and the scrape stay open; a sign-in sets an `HttpOnly`,
//! `SameSite=Strict` cookie; without a token a foreign `Host` or `Origin` gets 403; a
//! second resync within the cooldown gets 429 with `Retry-After`; the live feed is capped.

use reqwest::header;
use std::time::Duration;
use wfm_reactor::config::Secret;
use wfm_testkit::eventually::poll;
use wfm_testkit::{DaemonBuilder, SimBuilder};

const TOKEN: &str = "t0ken-for-tests";

async fn status(req: reqwest::RequestBuilder) -> u16 {
    req.send().await.expect("admin request").status().as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_token_v1_and_the_board_need_it_and_the_probes_stay_open() {
    let d = DaemonBuilder::ops()
        .tweak(|c| c.admin.token = Secret::new(TOKEN))
        .start(SimBuilder::ops().start().await)
        .await;
    let url = |p: &str| format!("{}{p}", d.admin);
    for path in ["/v1/state", "/", "/v1/anything-added-later"] {
        assert_eq!(status(d.http.get(url(path))).await, 401, "{path} without a token");
        let wrong = d.http.get(url(path)).bearer_auth("t0ken-for-test");
        assert_eq!(status(wrong).await, 401, "{path} with a wrong token");
    }
    assert_eq!(status(d.http.post(url("/v1/resync"))).await, 401);
    assert_eq!(status(d.http.get(url("/v1/events"))).await, 401);
    let r = d.http.get(url("/v1/state")).send().await.unwrap();
    assert_eq!(
        r.headers()[header::WWW_AUTHENTICATE],
        "Bearer realm=\"wfm-reactor\""
    );
    let authed = d.http.get(url("/v1/state")).bearer_auth(TOKEN);
    assert_eq!(status(authed).await, 200);
    assert_eq!(status(d.http.get(url("/livez"))).await, 200);
    assert_eq!(status(d.http.get(url("/metrics"))).await, 200);
    assert!(matches!(status(d.http.get(url("/readyz"))).await, 200 | 503));
    // Probes come from the kubelet with the pod IP as Host: open whatever the Host.
    let probe = d.http.get(url("/livez")).header(header::HOST, "10.1.2.3:9464");
    assert_eq!(status(probe).await, 200);

    // Sign-in: bearer header -> 204 and the cookie; the cookie then stands for the token.
    let r = d
        .http
        .post(url("/v1/session"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let cookie = r.headers()[header::SET_COOKIE].to_str().unwrap().to_string();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    assert!(
        !cookie.contains(TOKEN),
        "the cookie is a session id, not the token: {cookie}"
    );
    let pair = cookie.split(';').next().unwrap().to_string();
    let with_cookie = d.http.get(url("/v1/state")).header(header::COOKIE, &pair);
    assert_eq!(status(with_cookie).await, 200);
    let forged = d
        .http
        .get(url("/v1/state"))
        .header(header::COOKIE, "wfm_reactor_session=00");
    assert_eq!(status(forged).await, 401);
    // A form sign-in (what a page posts) -> 303 to the board; a wrong one -> 401.
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let form = no_redirects.post(url("/v1/session")).form(&[("token", TOKEN)]);
    let r = form.send().await.unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()[header::LOCATION], "/");
    assert!(r.headers().contains_key(header::SET_COOKIE));
    let bad = no_redirects.post(url("/v1/session")).form(&[("token", "nope")]);
    assert_eq!(status(bad).await, 401);
    d.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_token_foreign_host_and_origin_get_403() {
    let d = DaemonBuilder::ops().start(SimBuilder::ops().start().await).await;
    let port = d.admin.rsplit(':').next().unwrap().to_string();
    let url = |p: &str| format!("{}{p}", d.admin);
    let with_host = |p: &str, host: &str| d.http.get(url(p)).header(header::HOST, host);
    for host in [
        format!("localhost:{port}"),
        format!("127.0.0.1:{port}"),
        "[::1]:1".into(),
    ] {
        assert_eq!(status(with_host("/v1/state", &host)).await, 200, "{host}");
    }
    for host in [
        format!("evil.example:{port}"),
        "evil.example".into(),
        format!("10.0.0.7:{port}"),
    ] {
        assert_eq!(status(with_host("/v1/state", &host)).await, 403, "{host}");
        assert_eq!(status(with_host("/", &host)).await, 403, "{host}");
    }
    let own = format!("http://127.0.0.1:{port}");
    let same_origin = d.http.get(url("/v1/state")).header(header::ORIGIN, &own);
    assert_eq!(status(same_origin).await, 200);
    // The cross-site "simple" request (text/plain, no preflight) a foreign page can send.
    let cross = d
        .http
        .post(url("/v1/resync"))
        .header(header::ORIGIN, "http://evil.example")
        .header(header::CONTENT_TYPE, "text/plain")
        .body("x");
    let r = cross.send().await.unwrap();
    assert_eq!(r.status(), 403);
    let body = r.text().await.unwrap();
    assert!(body.contains("Origin"), "{body}");
    let null_origin = d.http.get(url("/v1/state")).header(header::ORIGIN, "null");
    assert_eq!(status(null_origin).await, 403);
    d.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_resync_within_the_cooldown_gets_429_with_retry_after() {
    let d = DaemonBuilder::ops().start(SimBuilder::ops().start().await).await;
    let resync = || d.http.post(format!("{}/v1/resync", d.admin)).send();
    assert_eq!(resync().await.unwrap().status(), 202);
    let r = resync().await.unwrap();
    assert_eq!(r.status(), 429);
    let secs: u64 = r.headers()[header::RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .expect("Retry-After in seconds");
    assert!((1..=60).contains(&secs), "default cooldown 1m: {secs}");
    d.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_live_feed_is_capped_and_a_freed_slot_is_reused() {
    let d = DaemonBuilder::ops()
        .tweak(|c| c.admin.max_sse_clients = 2)
        .start(SimBuilder::ops().start().await)
        .await;
    let feed = || d.http.get(format!("{}/v1/events", d.admin)).send();
    let first = feed().await.unwrap();
    let second = feed().await.unwrap();
    assert_eq!((first.status().as_u16(), second.status().as_u16()), (200, 200));
    let third = feed().await.unwrap();
    assert_eq!(third.status(), 503);
    let body = third.text().await.unwrap();
    assert!(body.contains("admin.max_sse_clients"), "{body}");
    drop(first);
    let reused = poll(
        Duration::from_secs(10),
        || async { feed().await.unwrap() },
        |r| r.status() == 200,
    )
    .await;
    assert!(reused.is_ok(), "the slot of a client that left is given back");
    drop(second);
    d.shutdown().await;
}
