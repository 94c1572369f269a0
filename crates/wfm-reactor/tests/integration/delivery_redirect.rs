//! A webhook receiver answering `302 -> /ok` (contract, hostile input): the redirect is
//! never followed, nothing is counted delivered and the cursor stays put; the failure is
//! reported with the `Location` redacted; once the receiver is fixed every event arrives.

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;
use wfm_reactor::config::{Secret, SinkConfig};
use wfm_reactor::store::Store;
use wfm_testkit::delivery::{OneSink, spawn_one_sink};
use wfm_testkit::delivery::{commit_presence, wait_cursor};
use wfm_testkit::eventually;

#[derive(Default)]
struct Receiver {
    fixed: AtomicBool,
    hook_posts: AtomicUsize,
    delivered: AtomicUsize,
    ok_hits: AtomicUsize,
}

async fn hook(State(r): State<Arc<Receiver>>) -> Response {
    r.hook_posts.fetch_add(1, Ordering::SeqCst);
    if r.fixed.load(Ordering::SeqCst) {
        r.delivered.fetch_add(1, Ordering::SeqCst);
        return StatusCode::OK.into_response();
    }
    let mut h = HeaderMap::new();
    h.insert(header::LOCATION, "/ok?token=s3cret-in-location".parse().unwrap());
    (StatusCode::FOUND, h).into_response()
}

async fn ok(State(r): State<Arc<Receiver>>) -> StatusCode {
    r.ok_hits.fetch_add(1, Ordering::SeqCst);
    StatusCode::OK
}

#[tokio::test]
async fn a_302_is_a_failed_attempt_until_the_receiver_is_fixed() {
    let receiver = Arc::new(Receiver::default());
    let app = Router::new()
        .route("/hook", axum::routing::post(hook))
        .route("/ok", axum::routing::any(ok))
        .with_state(receiver.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("s.db")).unwrap();
    let sink = SinkConfig::Webhook {
        name: None,
        url,
        secret: Secret::default(),
        timeout: Duration::from_secs(5),
        concurrency: 1,
    };
    let OneSink {
        handle,
        cancel,
        tracker,
    } = spawn_one_sink(&store, "hook", sink).await;
    commit_presence(&store, 0, 10).await;

    eventually!(
        within = Duration::from_secs(5),
        receiver.hook_posts.load(Ordering::SeqCst) >= 5,
        "the 302 retried"
    );
    assert_eq!(
        receiver.ok_hits.load(Ordering::SeqCst),
        0,
        "the redirect was followed"
    );
    assert_eq!(
        store.cursor("hook").await.unwrap(),
        Some(0),
        "nothing counted delivered"
    );
    let error = handle.statuses()["hook"].last_error.clone().expect("failing");
    assert!(error.contains("HTTP 302"), "{error}");
    assert!(
        error.contains("/ok?[redacted]"),
        "Location named, redacted: {error}"
    );
    assert!(!error.contains("s3cret"), "{error}");
    assert!(
        store.dead_letters().await.unwrap().is_empty(),
        "a 3xx is retried, not dead-lettered"
    );

    receiver.fixed.store(true, Ordering::SeqCst);
    wait_cursor(&store, "hook", 10).await;
    assert_eq!(receiver.delivered.load(Ordering::SeqCst), 10, "every event, once");
    assert_eq!(receiver.ok_hits.load(Ordering::SeqCst), 0);
    assert_eq!(handle.statuses()["hook"].last_error, None);
    cancel.cancel();
    tracker.close();
    tokio::time::timeout(Duration::from_secs(5), tracker.wait())
        .await
        .unwrap();
}
