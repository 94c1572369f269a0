//! Crash mid-delivery (the runtime is dropped with a batch half acknowledged), restart:
//! every event is delivered at least once, none is missing, repeats carry the same id.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use wfm_reactor::config::{Secret, SinkConfig};
use wfm_reactor::sinks::spawn_delivery;
use wfm_reactor::store::Store;
use wfm_testkit::delivery::*;
use wfm_testkit::eventually;
use wfm_testkit::webhook::*;

const EVENTS: u64 = 120;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn restart_after_crash_redelivers_from_the_durable_cursor() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    // The endpoint outlives the crashing daemon: its own runtime on its own thread.
    let up = Arc::new(AtomicBool::new(false));
    let u = up.clone();
    // Accept 43 requests, then fail until "up": the batch 41..=48 is half acknowledged.
    let rec = Recorder::new(move |_, n| {
        if n < 43 || u.load(Ordering::SeqCst) {
            200
        } else {
            503
        }
    });
    let rec_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let url = rec_rt.block_on(rec.start());
    let sink = |url: &str| SinkConfig::Webhook {
        name: None,
        url: url.into(),
        secret: Secret::default(),
        timeout: Duration::from_secs(5),
        concurrency: 1,
    };

    let first = runtime();
    first.block_on(async {
        let store = Store::open(&path).unwrap();
        // Committed before delivery starts, so batches are exactly 1..=8, 9..=16, ...
        // (the cursor exists first: a sink new to the store would start at the end).
        store.sync_cursors(vec!["hook".into()]).await.unwrap();
        commit_presence(&store, 0, EVENTS as u32).await;
        let tracker = TaskTracker::new();
        spawn_delivery(
            store.clone(),
            vec![("hook".into(), sink(&url))],
            fast_options(),
            CancellationToken::new(),
            &tracker,
        )
        .await
        .unwrap();
        eventually!(
            within = Duration::from_secs(5),
            rec.snapshot().len() > 45,
            "stuck retrying"
        );
    });
    drop(first); // the crash: every task dropped at its await point, nothing flushed
    assert_eq!(rec.accepted().len(), 43);

    up.store(true, Ordering::SeqCst);
    let second = runtime();
    second.block_on(async {
        let store = Store::open(&path).unwrap();
        assert_eq!(
            store.cursor("hook").await.unwrap(),
            Some(40),
            "cursor moved only per acknowledged batch"
        );
        let tracker = TaskTracker::new();
        spawn_delivery(
            store.clone(),
            vec![("hook".into(), sink(&url))],
            fast_options(),
            CancellationToken::new(),
            &tracker,
        )
        .await
        .unwrap();
        wait_cursor(&store, "hook", EVENTS).await;
    });

    let mut by_seq: BTreeMap<u64, Vec<serde_json::Value>> = BTreeMap::new();
    for r in rec.accepted() {
        by_seq.entry(r.seq()).or_default().push(r.json());
    }
    assert_eq!(
        by_seq.keys().copied().collect::<Vec<_>>(),
        (1..=EVENTS).collect::<Vec<_>>(),
        "none missing"
    );
    let repeated: Vec<u64> = by_seq
        .iter()
        .filter(|(_, v)| v.len() > 1)
        .map(|(s, _)| *s)
        .collect();
    assert_eq!(
        repeated,
        vec![41, 42, 43],
        "the half-acknowledged batch is repeated"
    );
    for bodies in by_seq.values() {
        assert!(
            bodies.iter().all(|b| b == &bodies[0]),
            "a repeat is the identical event (same id)"
        );
    }
}
