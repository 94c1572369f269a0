//! Webhook delivery: retries in order, signatures, dead letters and replay.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use wfm_reactor::config::{Secret, SinkConfig};
use wfm_reactor::store::Store;
use wfm_testkit::delivery::*;
use wfm_testkit::delivery::{OneSink, spawn_one_sink};
use wfm_testkit::eventually;
use wfm_testkit::webhook::*;

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

fn webhook(url: &str) -> SinkConfig {
    SinkConfig::Webhook {
        name: None,
        url: url.into(),
        secret: Secret::new(SECRET),
        timeout: Duration::from_secs(5),
        concurrency: 1,
    }
}

#[tokio::test]
async fn retries_503_then_delivers_every_event_once_in_order_and_signed() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("s.db")).unwrap();
    let rec = Recorder::new(|_, n| if n < 5 { 503 } else { 200 });
    let url = rec.start().await;
    let OneSink {
        handle,
        cancel,
        tracker,
    } = spawn_one_sink(&store, "hook", webhook(&url)).await;
    let seqs = commit_presence(&store, 0, 20).await;
    eventually!(
        within = Duration::from_secs(5),
        rec.accepted().len() == 20,
        "20 accepted"
    );
    wait_cursor(&store, "hook", 20).await;

    let all = rec.snapshot();
    assert_eq!(all.iter().filter(|r| r.status == 503).count(), 5);
    assert_eq!(
        handle.statuses()["hook"].last_error,
        None,
        "success clears the error"
    );
    assert!(
        all[..5].iter().all(|r| r.seq() == 1),
        "the first event is retried in place"
    );
    let first_ids: Vec<_> = all[..6].iter().map(|r| r.headers["webhook-id"].clone()).collect();
    assert!(
        first_ids.windows(2).all(|w| w[0] == w[1]),
        "webhook-id stable across retries"
    );
    let accepted: Vec<u64> = rec.accepted().iter().map(|r| r.seq()).collect();
    assert_eq!(accepted, seqs, "each event acknowledged once, in sequence order");
    for r in &all {
        assert_eq!(r.headers["content-type"], "application/cloudevents+json");
        assert_eq!(
            r.headers["webhook-id"].to_str().unwrap(),
            r.json()["id"].as_str().unwrap()
        );
        assert!(
            verify_standard_webhook(SECRET, &r.headers, &r.body),
            "signature verifies"
        );
    }
    assert!(!verify_standard_webhook(
        "whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        &all[0].headers,
        &all[0].body
    ));
    cancel.cancel();
    tracker.close();
    tokio::time::timeout(Duration::from_secs(5), tracker.wait())
        .await
        .unwrap();
}

#[tokio::test]
async fn a_400_is_dead_lettered_later_events_flow_and_replay_delivers_it() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("s.db")).unwrap();
    let healed = Arc::new(AtomicBool::new(false));
    let h = healed.clone();
    let rec = Recorder::new(move |ev, _| {
        if ev["sequence"] == "3" && !h.load(Ordering::SeqCst) {
            400
        } else {
            200
        }
    });
    let url = rec.start().await;
    let OneSink {
        cancel,
        tracker: _tracker,
        ..
    } = spawn_one_sink(&store, "hook", webhook(&url)).await;
    commit_presence(&store, 0, 6).await;
    eventually!(
        within = Duration::from_secs(5),
        rec.accepted().len() == 5,
        "5 accepted"
    );
    let accepted: Vec<u64> = rec.accepted().iter().map(|r| r.seq()).collect();
    assert_eq!(accepted, vec![1, 2, 4, 5, 6]);

    let dead_letters = || async { store.dead_letters().await.unwrap() };
    let dead = wfm_testkit::eventually::poll(Duration::from_secs(1), dead_letters, |d| !d.is_empty())
        .await
        .unwrap_or_else(|last| last);
    assert_eq!(dead.len(), 1);
    assert_eq!(
        (dead[0].sink.as_str(), dead[0].sequence, dead[0].status),
        ("hook", 3, Some(400))
    );
    assert!(dead[0].error.contains("400"), "{}", dead[0].error);
    assert_eq!(dead[0].event["sequence"], "3");

    healed.store(true, Ordering::SeqCst);
    assert_eq!(store.request_replay(vec![dead[0].id]).await.unwrap(), 1);
    eventually!(
        within = Duration::from_secs(5),
        rec.accepted().iter().any(|r| r.seq() == 3),
        "replayed"
    );
    let replayed = rec.accepted().into_iter().find(|r| r.seq() == 3).unwrap();
    assert_eq!(
        replayed.json()["id"],
        dead[0].event["id"],
        "replay sends the same event"
    );
    assert!(verify_standard_webhook(SECRET, &replayed.headers, &replayed.body));
    let _ = wfm_testkit::eventually::poll(Duration::from_secs(1), dead_letters, Vec::is_empty).await;
    assert!(
        store.dead_letters().await.unwrap().is_empty(),
        "delivered replay leaves the table"
    );
    cancel.cancel();
}
