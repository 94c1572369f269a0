//! stdout-style and file sinks write exactly the outbox, in order; shutdown is clean.

use std::time::Duration;
use tokio::io::AsyncBufReadExt;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use wfm_reactor::sinks::{FileSink, Sink, WriterSink, spawn_sinks};
use wfm_reactor::store::Store;
use wfm_testkit::delivery::*;

#[tokio::test]
async fn writer_and_file_sinks_produce_exactly_the_outbox_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("s.db")).unwrap();
    let (ours, theirs) = tokio::io::duplex(1 << 16);
    let file_path = dir.path().join("out/deep/events.ndjson");
    let sinks = vec![
        (
            "stdout".to_string(),
            Sink::Writer(WriterSink::new(Box::new(ours))),
        ),
        (
            "file".to_string(),
            Sink::File(FileSink::open(&file_path).await.unwrap()),
        ),
    ];
    let (cancel, tracker) = (CancellationToken::new(), TaskTracker::new());
    // No pruning during the test: it reads the outbox back as the expected output, and
    // a prune after both sinks acknowledged would remove rows from under it.
    let options = wfm_reactor::sinks::DeliveryOptions {
        prune_interval: Duration::from_secs(3600),
        ..fast_options()
    };
    let handle = spawn_sinks(store.clone(), sinks, options, cancel.clone(), &tracker)
        .await
        .unwrap();
    commit_presence(&store, 0, 50).await;
    let outbox: Vec<String> = store
        .read_outbox(0, 1000)
        .await
        .unwrap()
        .iter()
        .map(|e| e.json.to_string())
        .collect();
    assert_eq!(outbox.len(), 50);

    let mut lines = tokio::io::BufReader::new(theirs).lines();
    let mut got = Vec::new();
    while got.len() < 50 {
        let line = tokio::time::timeout(Duration::from_secs(5), lines.next_line())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        got.push(line);
    }
    assert_eq!(got, outbox, "writer sink output == outbox");

    wait_cursor(&store, "file", 50).await;
    let text = std::fs::read_to_string(&file_path).unwrap();
    let file_lines: Vec<String> = text.lines().map(str::to_string).collect();
    assert_eq!(file_lines, outbox, "file sink output == outbox");
    wait_cursor(&store, "stdout", 50).await;
    assert_eq!(handle.statuses()["file"].cursor, 50);

    // Both acknowledged everything: a prune empties the outbox.
    assert_eq!(store.prune().await.unwrap(), 50);
    assert_eq!(store.outbox_depth().await.unwrap(), 0);
    cancel.cancel();
    tracker.close();
    tokio::time::timeout(Duration::from_secs(5), tracker.wait())
        .await
        .expect("sinks stop on cancel");
}

/// With a long `cursor_persist_interval` the file sink delivers everything while the
/// durable cursor stays where it was (one write per interval, not per batch); shutdown
/// syncs the file and writes the cursor, so a restart repeats nothing.
#[tokio::test]
async fn the_durable_cursor_waits_for_its_interval_and_shutdown_writes_it() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("s.db")).unwrap();
    let file_path = dir.path().join("events.ndjson");
    let sinks = vec![(
        "file".to_string(),
        Sink::File(FileSink::open(&file_path).await.unwrap()),
    )];
    store.sync_cursors(vec!["file".into()]).await.unwrap();
    let (cancel, tracker) = (CancellationToken::new(), TaskTracker::new());
    let options = wfm_reactor::sinks::DeliveryOptions {
        prune_interval: Duration::from_secs(3600),
        cursor_persist_interval: Duration::from_secs(3600),
        ..fast_options()
    };
    let handle = spawn_sinks(store.clone(), sinks, options, cancel.clone(), &tracker)
        .await
        .unwrap();
    commit_presence(&store, 0, 30).await;
    wfm_testkit::eventually!(
        within = Duration::from_secs(5),
        handle.statuses()["file"].cursor == 30,
        "the file sink delivers everything"
    );
    let lines = std::fs::read_to_string(&file_path).unwrap().lines().count();
    assert_eq!(lines, 30, "every event is in the file");
    assert_eq!(
        store.cursor("file").await.unwrap(),
        Some(0),
        "the cursor is not written before its interval"
    );
    cancel.cancel();
    tracker.close();
    tokio::time::timeout(Duration::from_secs(5), tracker.wait())
        .await
        .expect("sinks stop on cancel");
    assert_eq!(
        store.cursor("file").await.unwrap(),
        Some(30),
        "shutdown writes the delivered cursor"
    );
}

/// An `AsyncWrite` that keeps what is written and counts flushes (one per sink batch).
#[derive(Clone, Default)]
struct Batches {
    bytes: std::sync::Arc<std::sync::Mutex<Vec<u8>>>,
    flushes: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl Batches {
    fn lines(&self) -> usize {
        self.bytes.lock().unwrap().iter().filter(|b| **b == b'\n').count()
    }
    fn flushes(&self) -> usize {
        self.flushes.load(std::sync::atomic::Ordering::SeqCst)
    }
}

impl tokio::io::AsyncWrite for Batches {
    fn poll_write(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        self.bytes.lock().unwrap().extend_from_slice(buf);
        std::task::Poll::Ready(Ok(buf.len()))
    }
    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        self.flushes.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        std::task::Poll::Ready(Ok(()))
    }
    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }
}

/// Adaptive batching (`delivery_linger`): an event after a quiet goes at once; within
/// the linger of that delivery the next ones wait for a full batch (8 here) and go in
/// one write. The linger is an hour, so only a full batch can end the wait.
#[tokio::test]
async fn after_a_delivery_the_next_events_wait_for_a_full_batch_within_the_linger() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("s.db")).unwrap();
    let out = Batches::default();
    let sinks = vec![(
        "stdout".to_string(),
        Sink::Writer(WriterSink::new(Box::new(out.clone()))),
    )];
    let (cancel, tracker) = (CancellationToken::new(), TaskTracker::new());
    let options = wfm_reactor::sinks::DeliveryOptions {
        linger: Duration::from_secs(3600),
        ..fast_options()
    };
    spawn_sinks(store.clone(), sinks, options, cancel.clone(), &tracker)
        .await
        .unwrap();
    commit_presence(&store, 0, 1).await;
    wfm_testkit::eventually!(out.lines() == 1, "the first event goes at once");
    commit_presence(&store, 1, 8).await;
    wfm_testkit::eventually!(out.lines() == 9, "a full batch of 8 goes");
    assert_eq!(out.flushes(), 2, "one write for the event, one for the batch");
    commit_presence(&store, 9, 3).await;
    cancel.cancel();
    tracker.close();
    tokio::time::timeout(Duration::from_secs(5), tracker.wait())
        .await
        .expect("a lingering sink stops on cancel");
    assert_eq!(out.lines(), 9, "the partial batch was still lingering");
}
