//! Retry timing and shutdown of a sink task, in paused time (no network: a flaky writer).

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::AsyncWrite;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use wfm_reactor::backoff::BackoffPolicy;
use wfm_reactor::sinks::{Sink, WriterSink, spawn_sinks};
use wfm_reactor::store::Store;
use wfm_testkit::delivery::*;

/// Fails the first `failures` writes, then accepts everything into `lines`.
struct Flaky {
    failures: Arc<AtomicUsize>,
    written: Arc<std::sync::Mutex<Vec<u8>>>,
}

impl AsyncWrite for Flaky {
    fn poll_write(self: Pin<&mut Self>, _: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        if self.failures.load(Ordering::SeqCst) > 0 {
            self.failures.fetch_sub(1, Ordering::SeqCst);
            return Poll::Ready(Err(std::io::Error::other("disk on fire")));
        }
        self.written.lock().unwrap().extend_from_slice(buf);
        Poll::Ready(Ok(buf.len()))
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

fn flaky(failures: usize) -> (Sink, Arc<std::sync::Mutex<Vec<u8>>>, Arc<AtomicUsize>) {
    let written = Arc::default();
    let left = Arc::new(AtomicUsize::new(failures));
    let w = Flaky {
        failures: left.clone(),
        written: Arc::clone(&written),
    };
    (Sink::Writer(WriterSink::new(Box::new(w))), written, left)
}

#[tokio::test(start_paused = true)]
async fn failures_are_retried_with_the_backoff_policy_then_delivered() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("s.db")).unwrap();
    let (sink, written, _) = flaky(3);
    let mut options = fast_options();
    options.backoff = BackoffPolicy::webhook();
    let (cancel, tracker) = (CancellationToken::new(), TaskTracker::new());
    let started = tokio::time::Instant::now();
    spawn_sinks(
        store.clone(),
        vec![("out".into(), sink)],
        options,
        cancel.clone(),
        &tracker,
    )
    .await
    .unwrap();
    commit_presence(&store, 0, 3).await;
    wait_cursor(&store, "out", 3).await;
    // Three failures wait at least 250 + 500 + 1000 ms (equal jitter: half the base).
    assert!(
        started.elapsed() >= Duration::from_millis(1750),
        "{:?}",
        started.elapsed()
    );
    let text = String::from_utf8(written.lock().unwrap().clone()).unwrap();
    assert_eq!(
        text.lines().count(),
        3,
        "each event written once, after the retries"
    );
    cancel.cancel();
}

#[tokio::test(start_paused = true)]
async fn cancel_interrupts_a_retry_wait_and_keeps_the_cursor() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("s.db")).unwrap();
    let (sink, _, left) = flaky(usize::MAX);
    let mut options = fast_options();
    options.backoff =
        BackoffPolicy::try_new(Duration::from_secs(3600), Duration::from_secs(3600), 1.0).unwrap();
    let (cancel, tracker) = (CancellationToken::new(), TaskTracker::new());
    spawn_sinks(
        store.clone(),
        vec![("out".into(), sink)],
        options,
        cancel.clone(),
        &tracker,
    )
    .await
    .unwrap();
    commit_presence(&store, 0, 2).await;
    let attempts = || usize::MAX - left.load(Ordering::SeqCst);
    while attempts() == 0 {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    // The first write failed: the sink is now inside an hour-long retry wait.
    cancel.cancel();
    tracker.close();
    // Paused time auto-advances while the store's OS threads work, so a timeout would
    // fire spuriously; instead fail if the sink keeps attempting writes after the cancel.
    let at_cancel = attempts();
    tokio::select! {
        _ = tracker.wait() => {}
        _ = async {
            while attempts() <= at_cancel + 2 {
                tokio::time::sleep(Duration::from_secs(60)).await;
            }
        } => panic!("the sink kept retrying after cancel"),
    }
    assert_eq!(attempts(), at_cancel, "no attempt after the cancel");
    assert_eq!(
        store.cursor("out").await.unwrap(),
        Some(0),
        "nothing acknowledged"
    );
}
