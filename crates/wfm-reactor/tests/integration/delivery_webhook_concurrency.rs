//! A webhook with `concurrency = 4`: four POSTs in flight at once (never more), every
//! event accepted exactly once, a retried event keeps its `webhook-id`, and the cursor
//! reaches the end only when everything before it was acknowledged.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use wfm_reactor::config::{Secret, SinkConfig};
use wfm_reactor::store::{Batch, Store};
use wfm_testkit::delivery::*;
use wfm_testkit::delivery::{OneSink, spawn_one_sink};

const CONCURRENCY: usize = 4;

/// seq → (webhook-id, status answered) of each attempt.
type Attempts = BTreeMap<u64, Vec<(String, u16)>>;

/// Holds each request until `CONCURRENCY` are in flight (or 300 ms passed, for a batch's
/// tail), answers 503 to the first two attempts of event 2, 200 otherwise.
#[derive(Clone, Default)]
struct Gate {
    in_flight: Arc<AtomicUsize>,
    peak: Arc<AtomicUsize>,
    seen: Arc<Mutex<Attempts>>,
}

async fn hold(State(g): State<Gate>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let now = g.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    g.peak.fetch_max(now, Ordering::SeqCst);
    let deadline = tokio::time::Instant::now() + Duration::from_millis(300);
    while g.in_flight.load(Ordering::SeqCst) < CONCURRENCY && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let seq = v["sequence"].as_str().unwrap().parse::<u64>().unwrap();
    let id = headers["webhook-id"].to_str().unwrap().to_string();
    let status = {
        let mut seen = g.seen.lock().unwrap();
        let attempts = seen.entry(seq).or_default();
        let status = if seq == 2 && attempts.len() < 2 { 503 } else { 200 };
        attempts.push((id, status));
        status
    };
    g.in_flight.fetch_sub(1, Ordering::SeqCst);
    StatusCode::from_u16(status).unwrap()
}

/// `n` presence events in one commit, so delivery reads them in full batches.
async fn commit_at_once(store: &Store, n: u32) -> Vec<u64> {
    let events = (0..n)
        .map(|i| {
            let modified = format!("2026-02-03T04:05:06.{i:03}Z");
            presence_change(&format!("u{i}"), "Available", &modified, None).1
        })
        .collect();
    store
        .commit(Batch {
            changes: vec![],
            events,
        })
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_in_flight_every_event_once_and_the_cursor_waits_for_the_prefix() {
    let gate = Gate::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let app = Router::new()
        .route("/hook", axum::routing::post(hold))
        .with_state(gate.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("s.db")).unwrap();
    let sink = SinkConfig::Webhook {
        name: None,
        url,
        secret: Secret::default(),
        timeout: Duration::from_secs(5),
        concurrency: CONCURRENCY,
    };
    let OneSink { cancel, tracker, .. } = spawn_one_sink(&store, "hook", sink).await;
    let seqs = commit_at_once(&store, 20).await;
    wait_cursor(&store, "hook", *seqs.last().unwrap()).await;

    assert_eq!(gate.peak.load(Ordering::SeqCst), CONCURRENCY, "in flight at once");
    let seen = gate.seen.lock().unwrap().clone();
    assert_eq!(
        seen.keys().copied().collect::<Vec<_>>(),
        seqs,
        "every event arrived"
    );
    for (seq, attempts) in &seen {
        let accepted = attempts.iter().filter(|(_, s)| *s == 200).count();
        assert_eq!(accepted, 1, "event {seq} accepted exactly once: {attempts:?}");
        assert!(
            attempts.windows(2).all(|w| w[0].0 == w[1].0),
            "webhook-id stable across retries of {seq}"
        );
    }
    assert_eq!(seen[&2].len(), 3, "event 2 retried twice then accepted");
    cancel.cancel();
    tracker.close();
    tracker.wait().await;
}
