//! The delivery loop (one task per sink), replays of dead letters, and outbox pruning.

use super::{Control, Sink};
use crate::backoff::BackoffPolicy;
use crate::config::SinkConfig;
use crate::store::{OutboxEvent, Store};
use crate::telemetry::delivery as tm;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::Instrument;

/// Tuning of the delivery tasks (defaults follow the contract).
#[derive(Debug, Clone)]
pub struct DeliveryOptions {
    /// Events read from the outbox per batch.
    pub batch_size: usize,
    /// How often fully acknowledged outbox entries are deleted.
    pub prune_interval: Duration,
    /// After cancellation, how long a batch in hand may take to finish.
    pub grace: Duration,
    /// Retry policy of every sink (the contract's 500 ms → 60 s for webhooks).
    pub backoff: BackoffPolicy,
    /// How often each sink looks for dead letters flagged for replay.
    pub replay_poll: Duration,
    /// A sink's cursor is written to the store at most this often (and at shutdown, and
    /// at once with any dead letter). Between writes it lives in memory: a crash then
    /// redelivers at most this much of acknowledged events (at-least-once, same ids),
    /// and a paced stream pays one cursor transaction per interval, not per batch.
    pub cursor_persist_interval: Duration,
    /// Adaptive batching (`[state] delivery_linger`): within this of its last delivery a
    /// sink waits for a full batch (or for this to pass) before delivering again.
    pub linger: Duration,
}

impl Default for DeliveryOptions {
    fn default() -> Self {
        Self {
            batch_size: 1024,
            prune_interval: Duration::from_secs(60),
            grace: Duration::from_secs(20),
            backoff: BackoffPolicy::webhook(),
            replay_poll: Duration::from_secs(2),
            cursor_persist_interval: Duration::from_secs(1),
            linger: Duration::ZERO,
        }
    }
}

/// A sink's delivery state, for `/readyz` and `/v1/state`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SinkStatus {
    /// Last acknowledged sequence.
    pub cursor: u64,
    /// Committed events not yet acknowledged.
    pub lag: u64,
    /// Set while the sink is failing and retrying; cleared by the next success.
    pub last_error: Option<String>,
}

/// Status of every running sink; clone freely.
#[derive(Debug, Clone, Default)]
pub struct DeliveryHandle {
    // A std Mutex: held only to copy or replace a small map entry, never across await.
    status: Arc<Mutex<BTreeMap<String, SinkStatus>>>,
}

impl DeliveryHandle {
    /// Every sink's status, by name.
    pub fn statuses(&self) -> BTreeMap<String, SinkStatus> {
        self.status.lock().expect("status lock").clone()
    }

    pub(crate) fn update(&self, sink: &str, f: impl FnOnce(&mut SinkStatus)) {
        f(self
            .status
            .lock()
            .expect("status lock")
            .entry(sink.to_string())
            .or_default());
    }
}

/// Builds the configured sinks and starts delivery (see [`spawn_sinks`]).
pub async fn spawn_delivery(
    store: Store,
    sinks: Vec<(String, SinkConfig)>,
    options: DeliveryOptions,
    cancel: CancellationToken,
    tracker: &TaskTracker,
) -> anyhow::Result<DeliveryHandle> {
    let handle = DeliveryHandle::default();
    let mut built = Vec::with_capacity(sinks.len());
    for (name, config) in sinks {
        let sink = Sink::from_config(&config, &name, &handle).await?;
        built.push((name, sink));
    }
    spawn_sinks_on(handle, store, built, options, cancel, tracker).await
}

/// Starts one delivery task per sink plus the pruning task, registered on `tracker`.
/// Cursors are synced first: a new sink starts at the current end of the outbox, a
/// sink no longer listed loses its cursor (so it no longer holds back pruning).
pub async fn spawn_sinks(
    store: Store,
    sinks: Vec<(String, Sink)>,
    options: DeliveryOptions,
    cancel: CancellationToken,
    tracker: &TaskTracker,
) -> anyhow::Result<DeliveryHandle> {
    spawn_sinks_on(DeliveryHandle::default(), store, sinks, options, cancel, tracker).await
}

/// [`spawn_sinks`] reporting into an existing handle (the one the sinks were built with).
async fn spawn_sinks_on(
    handle: DeliveryHandle,
    store: Store,
    sinks: Vec<(String, Sink)>,
    options: DeliveryOptions,
    cancel: CancellationToken,
    tracker: &TaskTracker,
) -> anyhow::Result<DeliveryHandle> {
    let names = sinks.iter().map(|(n, _)| n.clone()).collect();
    let cursors = store.sync_cursors(names).await?;
    for ((name, sink), (_, cursor)) in sinks.into_iter().zip(cursors) {
        handle.update(&name, |s| s.cursor = cursor);
        let ctl = Control {
            sink: name,
            backoff: options.backoff,
            cancel: cancel.clone(),
            grace: options.grace,
            status: handle.clone(),
        };
        let task = SinkTask {
            store: store.clone(),
            sink,
            ctl,
            cursor,
            persisted: (cursor, Instant::now()),
            options: options.clone(),
            handle: handle.clone(),
        };
        let span = tracing::info_span!("sink", sink = %task.ctl.sink);
        tracker.spawn(task.run().instrument(span));
    }
    tracker.spawn(
        prune_loop(store, options.prune_interval, cancel).instrument(tracing::info_span!("outbox_prune")),
    );
    Ok(handle)
}

struct SinkTask {
    store: Store,
    sink: Sink,
    ctl: Control,
    /// Last acknowledged sequence (in memory).
    cursor: u64,
    /// The cursor as last written to the store, and when.
    persisted: (u64, Instant),
    options: DeliveryOptions,
    handle: DeliveryHandle,
}

impl SinkTask {
    async fn run(mut self) {
        let mut committed = self.store.committed();
        let mut next_replay = Instant::now();
        let mut last_delivery: Option<Instant> = None;
        while !self.ctl.cancel.is_cancelled() {
            if Instant::now() >= next_replay {
                self.replays().await;
                next_replay = Instant::now() + self.options.replay_poll;
            }
            let limit = self.sink.batch_limit(self.options.batch_size);
            if let Some(at) = last_delivery
                && !self.linger(&mut committed, limit, at).await
            {
                break;
            }
            let batch = match self.store.read_outbox(self.cursor, limit).await {
                Ok(b) => b,
                Err(e) => {
                    self.store_error(&e.to_string()).await;
                    continue;
                }
            };
            if !batch.is_empty() {
                if !self.deliver(&batch).await {
                    break;
                }
                last_delivery = Some(Instant::now());
            }
            // Nothing new, or everything committed is delivered: wait instead of asking
            // the store again (one read less per batch on a paced stream).
            let caught_up = self.is_caught_up(&committed);
            if caught_up && !self.wait_for_more(&mut committed, next_replay).await {
                break;
            }
        }
        if self.persisted.0 < self.cursor {
            self.persist(Vec::new()).await;
        }
        tm::sink_stopped(self.cursor);
    }

    /// Adaptive batching: until `linger` has passed since the delivery at `last`, waits
    /// for a full batch (`limit` events past the cursor) to be committed. A stream slower
    /// than the linger is delivered event by event as before; false on shutdown.
    async fn linger(
        &self,
        committed: &mut tokio::sync::watch::Receiver<u64>,
        limit: usize,
        last: Instant,
    ) -> bool {
        let until = last + self.options.linger;
        if Instant::now() >= until {
            return true;
        }
        let full = self.cursor + limit as u64;
        tokio::select! {
            biased;
            _ = self.ctl.cancel.cancelled() => false,
            _ = committed.wait_for(|s| *s >= full) => true,
            _ = tokio::time::sleep_until(until) => true,
        }
    }

    /// True when the cursor is at the last committed sequence.
    fn is_caught_up(&self, committed: &tokio::sync::watch::Receiver<u64>) -> bool {
        *committed.borrow() <= self.cursor
    }

    /// Waits for a commit past the cursor or the next replay poll; false on shutdown.
    async fn wait_for_more(
        &mut self,
        committed: &mut tokio::sync::watch::Receiver<u64>,
        next_replay: Instant,
    ) -> bool {
        let cursor = self.cursor;
        let unwritten = self.persisted.0 < cursor;
        let write_at = self.persisted.1 + self.options.cursor_persist_interval;
        let write_due = tokio::select! {
            biased;
            _ = self.ctl.cancel.cancelled() => return false,
            r = committed.wait_for(|s| *s > cursor) => return r.is_ok(),
            _ = tokio::time::sleep_until(next_replay) => false,
            _ = tokio::time::sleep_until(write_at), if unwritten => true,
        };
        if write_due {
            self.persist(Vec::new()).await;
        }
        true
    }

    /// Writes the cursor (with `dead`) to the store. On failure (logged, counted) the
    /// cursor goes back to the one last written, so everything after it is delivered
    /// again: never lost, maybe repeated.
    async fn persist(&mut self, dead: Vec<crate::store::NewDeadLetter>) -> bool {
        let written = self
            .store
            .ack(&self.ctl.sink, self.cursor, dead)
            .await
            .map_err(|e| e.to_string());
        match written {
            Ok(()) => {
                self.persisted = (self.cursor, Instant::now());
                true
            }
            Err(e) => {
                self.cursor = self.persisted.0;
                self.store_error(&e).await;
                false
            }
        }
    }

    /// Delivers and acknowledges one batch; false when delivery was stopped.
    async fn deliver(&mut self, batch: &[OutboxEvent]) -> bool {
        let result = self.sink.deliver(batch, &self.ctl).await;
        if let Some(upto) = result.acked {
            let count = batch.iter().take_while(|e| e.seq <= upto).count();
            let previous = self.cursor;
            self.cursor = upto;
            let write_now =
                !result.dead.is_empty() || self.persisted.1.elapsed() >= self.options.cursor_persist_interval;
            if write_now && !self.persist(result.dead).await {
                // Not acknowledged after all: the batch is delivered again.
                self.cursor = previous;
                return !result.stopped;
            }
            tm::sink_delivered(&self.ctl.sink, count, upto);
            let lag = self.store.committed().borrow().saturating_sub(upto);
            tm::sink_lag(&self.ctl.sink, lag);
            self.handle.update(&self.ctl.sink, |s| {
                s.cursor = upto;
                s.lag = lag;
                s.last_error = None;
            });
        }
        !result.stopped
    }

    /// Redelivers this sink's dead letters flagged by `wfm-reactor dlq replay`.
    async fn replays(&mut self) {
        let pending = match self.store.pending_replays(&self.ctl.sink, 64).await {
            Ok(p) => p,
            Err(e) => return self.store_error(&e.to_string()).await,
        };
        for dl in pending {
            let event_id = dl
                .event
                .get("id")
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_string();
            let ev = OutboxEvent {
                seq: dl.sequence,
                id: event_id,
                json: Arc::from(dl.event.to_string()),
            };
            let result = self.sink.deliver(std::slice::from_ref(&ev), &self.ctl).await;
            if result.stopped {
                return;
            }
            let refused = result.dead.into_iter().next().map(|d| (d.status, d.error));
            let delivered = refused.is_none();
            if let Err(e) = self.store.finish_replay(dl.id, refused).await {
                return self.store_error(&e.to_string()).await;
            }
            if delivered {
                tm::sink_replayed(&self.ctl.sink, dl.id);
            }
        }
    }

    async fn store_error(&self, err: &str) {
        tm::sink_store_error(&self.ctl.sink, err);
        self.handle
            .update(&self.ctl.sink, |s| s.last_error = Some(err.to_string()));
        tokio::select! {
            _ = self.ctl.cancel.cancelled() => {}
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
        }
    }
}

/// Deletes outbox entries every sink acknowledged, every `interval`, and refreshes gauges.
async fn prune_loop(store: Store, interval: Duration, cancel: CancellationToken) {
    loop {
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = tokio::time::sleep(interval) => {}
        }
        let pruned = store.prune().await.unwrap_or(0);
        if let Ok(depth) = store.outbox_depth().await {
            tm::outbox_depth(depth, pruned);
        }
        if let Ok(n) = store.dead_letter_count().await {
            tm::dead_letters(n);
        }
    }
}
