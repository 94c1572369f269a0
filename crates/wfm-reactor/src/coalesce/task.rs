//! The thin task around the pure [`Coalescer`]: owns the timer, emits due keys on a
//! channel and takes `finished` reports back (handle + actor, like mini-redis).

use super::Coalescer;
use std::hash::Hash;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio::time::{Instant, sleep_until};
use tokio_util::sync::CancellationToken;

enum Msg<K> {
    Offer(K),
    Finished(K, bool),
    Pending(oneshot::Sender<Vec<K>>),
}

/// Cheap-to-clone handle to a running coalescer task.
#[derive(Debug)]
pub struct CoalescerHandle<K> {
    tx: mpsc::Sender<Msg<K>>,
}

impl<K> Clone for CoalescerHandle<K> {
    fn clone(&self) -> Self {
        Self { tx: self.tx.clone() }
    }
}

impl<K> std::fmt::Debug for Msg<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("coalescer message")
    }
}

/// The task has stopped (cancelled or every receiver dropped).
#[derive(Debug, thiserror::Error)]
#[error("the coalescer task has stopped")]
pub struct Stopped;

impl<K: Send + 'static> CoalescerHandle<K> {
    /// Records a schedule event for `key` (the task stamps it with the tokio clock).
    pub async fn offer(&self, key: K) -> Result<(), Stopped> {
        self.tx.send(Msg::Offer(key)).await.map_err(|_| Stopped)
    }

    /// Reports that the fetch of a key received from the due channel ended.
    pub async fn finished(&self, key: K, ok: bool) -> Result<(), Stopped> {
        self.tx.send(Msg::Finished(key, ok)).await.map_err(|_| Stopped)
    }

    /// The keys with work not yet done (waiting, retrying or in flight).
    pub async fn pending_keys(&self) -> Result<Vec<K>, Stopped> {
        let (tx, rx) = oneshot::channel();
        self.tx.send(Msg::Pending(tx)).await.map_err(|_| Stopped)?;
        rx.await.map_err(|_| Stopped)
    }
}

/// Starts a coalescer with the default retry policy. Returns the handle, the channel of
/// due keys (each must be answered with [`CoalescerHandle::finished`]) and the task,
/// which yields the pending keys when `cancel` fires (persist them as dirty).
pub fn spawn_coalescer<K>(
    quiet: Duration,
    max_wait: Duration,
    cancel: CancellationToken,
) -> (CoalescerHandle<K>, mpsc::UnboundedReceiver<K>, JoinHandle<Vec<K>>)
where
    K: Clone + Ord + Hash + Eq + Send + 'static,
{
    spawn_with(Coalescer::new(quiet, max_wait), cancel)
}

/// Like [`spawn_coalescer`] for a coalescer built by the caller (custom retry policy).
///
/// The due channel is unbounded on purpose: a key is in flight at most once, so its
/// length is bounded by the number of distinct keys, and the timer loop never blocks
/// on a slow consumer.
pub fn spawn_with<K>(
    coalescer: Coalescer<K>,
    cancel: CancellationToken,
) -> (CoalescerHandle<K>, mpsc::UnboundedReceiver<K>, JoinHandle<Vec<K>>)
where
    K: Clone + Ord + Hash + Eq + Send + 'static,
{
    let (tx, rx) = mpsc::channel(1024);
    let (due_tx, due_rx) = mpsc::unbounded_channel();
    let task = tokio::spawn(run(coalescer, rx, due_tx, cancel));
    (CoalescerHandle { tx }, due_rx, task)
}

async fn run<K>(
    mut c: Coalescer<K>,
    mut rx: mpsc::Receiver<Msg<K>>,
    due_tx: mpsc::UnboundedSender<K>,
    cancel: CancellationToken,
) -> Vec<K>
where
    K: Clone + Ord + Hash + Eq + Send + 'static,
{
    loop {
        let next = c.next_deadline();
        tokio::select! {
            biased;
            _ = cancel.cancelled() => break,
            msg = rx.recv() => match msg {
                None => break,
                Some(Msg::Offer(key)) => c.offer(key, Instant::now()),
                Some(Msg::Finished(key, ok)) => {
                    if !c.finished(&key, Instant::now(), ok) {
                        crate::telemetry::reactor::coalescer_unexpected_finished();
                    }
                }
                Some(Msg::Pending(reply)) => {
                    let _ = reply.send(c.pending_keys());
                }
            },
            _ = sleep_until(next.unwrap_or_else(Instant::now)), if next.is_some() => {
                for key in c.take_due(Instant::now()) {
                    crate::telemetry::reactor::coalescer_fired();
                    if due_tx.send(key).is_err() {
                        return c.pending_keys();
                    }
                }
            }
        }
    }
    c.pending_keys()
}
