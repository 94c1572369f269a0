//! The channel manager: owns the desired topic set, shards it over channels, runs one
//! worker per channel, and answers status for readiness.
//!
//! Handle + actor: [`ManagerHandle`] is a cheap clone holding a sender; the actor task
//! owns the assignment and the workers, so topic changes are applied one at a time.

use super::channel::ChannelClient;
use super::dedupe::RecentFrames;
use super::session::RawFrame;
use super::shard::{Assignment, ShardError, assign};
use super::shared::Shared;
use super::status::UpstreamStatus;
use super::worker::Worker;
use crate::auth::TokenProvider;
use crate::config::NotificationsConfig;
use crate::telemetry::upstream as tel;
use crate::topics::UpstreamEvent;
use crate::wfm::RateBudget;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use tokio::sync::{mpsc, oneshot, watch};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::Instrument;

/// Channels per OAuth client the platform allows.
const PLATFORM_MAX_CHANNELS: usize = 20;

/// The channels one client may use for `max_channels`: at most the platform's cap less
/// one kept spare (a token rollover creates the new channel before dropping the old, and
/// a 21st channel would evict a live one).
pub fn usable_channels(max_channels: usize) -> usize {
    max_channels.clamp(1, 20).min(PLATFORM_MAX_CHANNELS - 1)
}

enum Msg {
    SetTopics(BTreeSet<String>, oneshot::Sender<Result<(), ShardError>>),
}

/// Optional extras of [`ChannelManager::spawn_with`].
#[derive(Default)]
pub struct ManagerExtras {
    /// Copy of every raw frame (for `tap`).
    pub raw: Option<mpsc::Sender<RawFrame>>,
    /// The REST budget shared with the WFM client: 429 pauses are shared both ways.
    pub budget: Option<RateBudget>,
}

/// Entry point: see [`ChannelManager::spawn`].
pub struct ChannelManager;

/// Cheap-to-clone handle to the running manager.
#[derive(Clone)]
pub struct ManagerHandle {
    tx: mpsc::Sender<Msg>,
    status: Arc<Mutex<UpstreamStatus>>,
    cancel: CancellationToken,
    tracker: TaskTracker,
}

impl ChannelManager {
    /// Starts the manager; it subscribes nothing until [`ManagerHandle::set_topics`].
    pub fn spawn(
        api_base: String,
        tokens: TokenProvider,
        http: reqwest::Client,
        cfg: NotificationsConfig,
        events: mpsc::Sender<UpstreamEvent>,
        cancel: CancellationToken,
    ) -> ManagerHandle {
        Self::spawn_with_raw(api_base, tokens, http, cfg, events, None, cancel)
    }

    /// As [`ChannelManager::spawn`], also copying every raw frame to `raw` (for `tap`).
    pub(crate) fn spawn_with_raw(
        api_base: String,
        tokens: TokenProvider,
        http: reqwest::Client,
        cfg: NotificationsConfig,
        events: mpsc::Sender<UpstreamEvent>,
        raw: Option<mpsc::Sender<RawFrame>>,
        cancel: CancellationToken,
    ) -> ManagerHandle {
        let extras = ManagerExtras { raw, budget: None };
        Self::spawn_with(api_base, tokens, http, cfg, events, extras, cancel)
    }

    /// As [`ChannelManager::spawn`], with the optional [`ManagerExtras`].
    pub fn spawn_with(
        api_base: String,
        tokens: TokenProvider,
        http: reqwest::Client,
        cfg: NotificationsConfig,
        events: mpsc::Sender<UpstreamEvent>,
        extras: ManagerExtras,
        cancel: CancellationToken,
    ) -> ManagerHandle {
        let ManagerExtras { raw, budget } = extras;
        let mut client = ChannelClient::new(api_base, tokens, http);
        if let Some(b) = budget {
            client = client.with_budget(b);
        }
        let cancel = cancel.child_token();
        let status = Arc::new(Mutex::new(UpstreamStatus::default()));
        let shared = Arc::new(Shared {
            client,
            cfg,
            events,
            raw,
            status: status.clone(),
            recent: Arc::new(Mutex::new(RecentFrames::default())),
            splits: Default::default(),
        });
        let (tx, rx) = mpsc::channel(8);
        let tracker = TaskTracker::new();
        let actor = Actor {
            shared,
            rx,
            cancel: cancel.clone(),
            tracker: tracker.clone(),
            assignment: Assignment::new(),
            workers: BTreeMap::new(),
            next_slot: 0,
        };
        tracker.spawn(actor.run().instrument(tracing::info_span!("channel_manager")));
        ManagerHandle {
            tx,
            status,
            cancel,
            tracker,
        }
    }
}

impl ManagerHandle {
    /// Replaces the desired topic set. Fails (changing nothing) when it cannot fit in
    /// `max_channels` channels; the error says how many topics would fit.
    pub async fn set_topics(&self, topics: BTreeSet<String>) -> Result<(), ShardError> {
        let (reply, rx) = oneshot::channel();
        if self.tx.send(Msg::SetTopics(topics, reply)).await.is_err() {
            return Ok(()); // shut down: nothing to apply
        }
        rx.await.unwrap_or(Ok(()))
    }

    /// Current channels, degraded topics and any configuration-level error.
    pub fn status(&self) -> UpstreamStatus {
        self.status.lock().expect("status lock").clone()
    }

    /// Stops every worker (each removes its channel's subscriptions) and closes sockets.
    pub async fn shutdown(&self) {
        self.cancel.cancel();
        self.tracker.close();
        self.tracker.wait().await;
    }
}

struct WorkerSlot {
    topics: watch::Sender<BTreeSet<String>>,
    cancel: CancellationToken,
}

struct Actor {
    shared: Arc<Shared>,
    rx: mpsc::Receiver<Msg>,
    cancel: CancellationToken,
    tracker: TaskTracker,
    assignment: Assignment,
    workers: BTreeMap<u64, WorkerSlot>,
    next_slot: u64,
}

impl Actor {
    async fn run(mut self) {
        loop {
            let msg = tokio::select! {
                _ = self.cancel.cancelled() => break,
                m = self.rx.recv() => match m { Some(m) => m, None => break },
            };
            match msg {
                Msg::SetTopics(topics, reply) => {
                    let _ = reply.send(self.set_topics(topics));
                }
            }
        }
        for w in self.workers.values() {
            w.cancel.cancel();
        }
    }

    fn set_topics(&mut self, desired: BTreeSet<String>) -> Result<(), ShardError> {
        let cfg = &self.shared.cfg;
        let per_channel = cfg.max_topics_per_channel.clamp(1, 1000);
        let max_channels = usable_channels(cfg.max_channels);
        let next = assign(
            &self.assignment,
            &desired,
            per_channel,
            max_channels,
            &mut self.next_slot,
        )
        .inspect_err(|e| self.shared.set_error(e.to_string()))?;
        self.shared.status.lock().expect("status lock").error = None;
        self.workers.retain(|slot, w| {
            let keep = next.contains_key(slot);
            if !keep {
                w.cancel.cancel();
            }
            keep
        });
        for (slot, topics) in &next {
            match self.workers.get(slot) {
                Some(w) => {
                    w.topics.send_if_modified(|cur| {
                        let changed = cur != topics;
                        if changed {
                            *cur = topics.clone();
                        }
                        changed
                    });
                }
                None => {
                    let (tx, rx) = watch::channel(topics.clone());
                    let cancel = self.cancel.child_token();
                    self.shared.update(*slot, |c| c.topics = topics.len());
                    self.tracker
                        .spawn(supervised(*slot, self.shared.clone(), rx, cancel.clone()));
                    self.workers.insert(*slot, WorkerSlot { topics: tx, cancel });
                }
            }
        }
        tel::channel_counts(next.len(), desired.len());
        tracing::info!(channels = next.len(), topics = desired.len(), "topic set applied");
        self.assignment = next;
        Ok(())
    }
}

/// The worker of `slot` under its supervisor (restarted when it dies; given up and
/// reported to `/livez` when it keeps dying).
async fn supervised(
    slot: u64,
    shared: Arc<Shared>,
    topics: watch::Receiver<BTreeSet<String>>,
    cancel: CancellationToken,
) {
    let cfg = &shared.cfg;
    let policy = crate::backoff::BackoffPolicy::try_new(cfg.backoff_min, cfg.backoff_max, 2.0)
        .unwrap_or_else(|_| crate::backoff::BackoffPolicy::webhook());
    let start = {
        let (shared, cancel) = (shared.clone(), cancel.clone());
        move || {
            let worker = Worker {
                slot,
                shared: shared.clone(),
                topics: topics.clone(),
                cancel: cancel.clone(),
            };
            // Every line of the worker (and, nested, of its sessions) carries the slot.
            worker
                .run()
                .instrument(tracing::info_span!("channel_worker", slot))
        }
    };
    if let Err(why) = super::supervise::supervise(slot, start, cancel, policy).await {
        shared
            .status
            .lock()
            .expect("status lock")
            .given_up
            .insert(slot, why);
    }
}
