//! The reactor: turns upstream notifications and gaps into real changes, with the fewest
//! REST calls, and commits state + events to the store in one transaction.
//!
//! One task owns the coalescer and the routing (`run`); schedule fetches and reconciles run
//! as child tasks and report back, so the loop never waits on the network.

mod convert;
mod hint;
mod intake;
mod membership;
mod presence;
mod reconcile;
mod schedule;
mod stop;
mod tasks;
mod triggers;

pub use membership::{Membership, WatchedBu, resolve_membership, topic_set, watched_users};
pub use presence::{PresenceCache, reload_cache as reload_presence_cache};
pub use schedule::{Hint, HintCause};

use crate::coalesce::{Coalescer, ScheduleKey};
use crate::config::Config;
use crate::store::Store;
use crate::topics::{Notification, UpstreamEvent};
use crate::wfm::WfmClient;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio::time::{Instant, sleep_until};
use tokio_util::sync::CancellationToken;

/// How long the first reconcile waits for the channels' start gaps.
const INITIAL_RECONCILE_DELAY: Duration = Duration::from_millis(500);
/// Gaps arriving within this window share one reconcile.
const GAP_RECONCILE_DELAY: Duration = Duration::from_millis(100);

/// Retry spacing of a failed reconcile: soon at first, at most once a minute.
fn reconcile_retry_policy() -> crate::backoff::BackoffPolicy {
    crate::backoff::BackoffPolicy::try_new(Duration::from_millis(500), Duration::from_secs(60), 2.0)
        .expect("constant policy is valid")
}

/// Upstream events taken per wake-up, so presence commits batch under load.
const DRAIN_BATCH: usize = 512;

/// Everything the reactor's tasks share (cheap to clone behind an `Arc`).
pub struct Context {
    /// The durable store.
    pub store: Store,
    /// The rate-budgeted REST client.
    pub wfm: WfmClient,
    /// Host (and port) of the API, for CloudEvent `source`.
    pub api_host: String,
    /// The validated configuration.
    pub config: Arc<Config>,
    /// Watched business units, their time zones, management units and agents.
    pub membership: Mutex<Membership>,
    /// Last-known presence per user (authoritative for decisions; the store is its durable copy).
    pub presence: Mutex<PresenceCache>,
}

/// Handles the app keeps: trigger a resync, watch readiness of the first reconcile.
#[derive(Clone)]
pub struct ReactorHandle {
    /// `POST /v1/resync` sends here.
    pub resync: mpsc::Sender<()>,
    /// Becomes true once the first reconcile (and every fetch it caused) finished.
    pub first_reconcile_done: watch::Receiver<bool>,
    /// Schedule keys waiting in the debounce window or being fetched.
    pub pending: watch::Receiver<usize>,
}

enum Done {
    /// A fetch ended; on failure it hands back its hint so the retry keeps the cause,
    /// operation id and management units it knew.
    Fetch(ScheduleKey, Result<(), Hint>),
    Reconcile(HintCause, anyhow::Result<Vec<(ScheduleKey, Hint)>>),
}

/// The reactor task's state.
pub struct Reactor {
    ctx: Arc<Context>,
    upstream: mpsc::Receiver<UpstreamEvent>,
    resync_rx: mpsc::Receiver<()>,
    coalescer: Coalescer<ScheduleKey>,
    hints: HashMap<ScheduleKey, Hint>,
    intake: intake::Intake,
    tasks: tasks::Tasks,
    reconcile_running: bool,
    /// A reconcile wanted (and why), starting at the instant given; gaps arriving together
    /// (one per channel at start) fold into one reconcile.
    reconcile_due: Option<(Instant, HintCause)>,
    first: reconcile::FirstReconcile,
    /// Spaces retries of a failed reconcile (reset when one succeeds).
    reconcile_retry: crate::backoff::Backoff,
    pending_tx: watch::Sender<usize>,
    presence_batch: presence::Pipeline,
    grace: Duration,
}

impl Reactor {
    /// Builds the reactor; `run` drives it until `cancel`.
    pub fn new(ctx: Arc<Context>, upstream: mpsc::Receiver<UpstreamEvent>) -> (Self, ReactorHandle) {
        let (resync, resync_rx) = mpsc::channel(1);
        let (done_tx, first_reconcile_done) = watch::channel(false);
        let (pending_tx, pending) = watch::channel(0);
        let d = &ctx.config.debounce;
        let reactor = Self {
            coalescer: Coalescer::new(d.quiet, d.max_wait),
            grace: ctx.config.shutdown.grace,
            presence_batch: presence::Pipeline::new(ctx.clone()),
            ctx,
            upstream,
            resync_rx,
            hints: HashMap::new(),
            intake: intake::Intake::default(),
            tasks: tasks::Tasks::default(),
            reconcile_running: false,
            reconcile_due: None,
            first: reconcile::FirstReconcile::new(done_tx),
            reconcile_retry: reconcile_retry_policy().start(),
            pending_tx,
        };
        (
            reactor,
            ReactorHandle {
                resync,
                first_reconcile_done,
                pending,
            },
        )
    }

    /// Runs until `cancel`, then finishes due fetches within the grace period and persists
    /// whatever is still pending as dirty keys for the next start.
    pub async fn run(mut self, cancel: CancellationToken) {
        let initial = self.initial_cause().await;
        self.first
            .set_snapshot((initial == HintCause::Snapshot).then(|| self.ctx.store.clone()));
        // Wait briefly for the channels' start gaps so they join this first reconcile.
        self.request_reconcile(initial, INITIAL_RECONCILE_DELAY);
        self.offer_dirty_keys().await;
        let mut timer = tokio::time::interval_at(
            Instant::now() + self.ctx.config.reconcile.interval,
            self.ctx.config.reconcile.interval,
        );
        loop {
            let next = self.coalescer.next_deadline();
            tokio::select! {
                biased;
                _ = cancel.cancelled() => break,
                Some(joined) = self.tasks.join_next(), if !self.tasks.is_empty() => self.on_done(joined),
                ev = self.upstream.recv() => match ev {
                    Some(ev) => {
                        self.on_upstream(ev);
                        // Under load, take what is already queued so presence commits batch up.
                        for _ in 0..DRAIN_BATCH {
                            let Ok(ev) = self.upstream.try_recv() else { break };
                            self.on_upstream(ev);
                        }
                    }
                    None => break,
                },
                _ = sleep_until(next.unwrap_or_else(Instant::now)), if next.is_some() => self.fire_due(),
                _ = sleep_until(self.reconcile_due.map_or_else(Instant::now, |d| d.0)),
                    if self.reconcile_due.is_some() && !self.reconcile_running => self.start_reconcile(),
                Some(()) = self.resync_rx.recv() => self.request_reconcile(HintCause::Reconcile, Duration::ZERO),
                _ = timer.tick() => self.request_reconcile(HintCause::Reconcile, Duration::ZERO),
            }
            self.presence_batch.flush().await;
            self.pending_tx.send_replace(self.coalescer.len());
        }
        self.shutdown().await;
    }

    fn on_upstream(&mut self, ev: UpstreamEvent) {
        match ev {
            UpstreamEvent::Gap(gap) => {
                tracing::info!(cause = gap.cause.as_str(), topics = gap.topics.len(), since = %gap.since, "gap: reconciling");
                self.request_reconcile(HintCause::Reconcile, GAP_RECONCILE_DELAY);
            }
            UpstreamEvent::Notification {
                notification,
                received_at,
                ..
            } => match notification {
                Notification::Presence(p) => self.presence_batch.presence(p, received_at),
                Notification::RoutingStatus(r) => self.presence_batch.routing(r, received_at),
                Notification::BuSchedule(update) => {
                    if let Some((key, hint)) = self.intake.schedule_event(&self.ctx.config, update) {
                        self.offer(key, hint, received_at);
                    }
                }
                Notification::ScheduleQueryResult { .. } | Notification::System(_) => {}
            },
        }
    }

    fn offer(&mut self, key: ScheduleKey, hint: Hint, now: Instant) {
        self.tasks.announce(&key, hint.version);
        self.hints
            .entry(key.clone())
            .and_modify(|h| h.merge(&hint))
            .or_insert(hint);
        self.coalescer.offer(key, now);
    }

    fn fire_due(&mut self) {
        for key in self.coalescer.take_due(Instant::now()) {
            let hint = self.hints.remove(&key).unwrap_or_else(|| Hint::reconcile(None));
            let ctx = self.ctx.clone();
            let task_key = key.clone();
            self.tasks
                .spawn_fetch(key, hint.clone(), move |announced| async move {
                    let ok = schedule::fetch_and_commit(&ctx, &task_key, hint.clone(), &announced).await;
                    Done::Fetch(task_key, if ok { Ok(()) } else { Err(hint) })
                });
        }
    }

    fn on_done(&mut self, joined: tasks::Joined) {
        let done = match joined {
            tasks::Joined::Done(done) => done,
            tasks::Joined::FetchLost { key, hint, error } => {
                // Report it failed so the coalescer retries it with backoff; otherwise the
                // key would stay "in flight" and never be fetched again.
                tracing::error!(business_unit = %key.business_unit_id, schedule = %key.schedule_id, error = %error, "schedule fetch task panicked; retrying with backoff");
                metrics::counter!("wfm_reactor_task_panics_total", "task" => "fetch").increment(1);
                Done::Fetch(key, Err(hint))
            }
            tasks::Joined::ReconcileLost { cause, error } => {
                tracing::error!(error = %error, ?cause, "reconcile task panicked; retrying");
                metrics::counter!("wfm_reactor_task_panics_total", "task" => "reconcile").increment(1);
                Done::Reconcile(cause, Err(anyhow::anyhow!("reconcile task panicked: {error}")))
            }
            tasks::Joined::Unknown(error) => {
                tracing::error!(error = %error, "untracked reactor task panicked");
                metrics::counter!("wfm_reactor_task_panics_total", "task" => "unknown").increment(1);
                return;
            }
        };
        match done {
            Done::Fetch(key, result) => {
                // `finished` answers whether the key was in flight, not whether it runs
                // again: a fetch that succeeded counts for the first reconcile even when a
                // later notification re-queued the key meanwhile.
                self.coalescer.finished(&key, Instant::now(), result.is_ok());
                match result {
                    Ok(()) => self.first.fetched(&key),
                    Err(mut failed) => {
                        // The retry the coalescer scheduled keeps what the failed fetch
                        // knew, with anything newer that arrived meanwhile folded on top.
                        if let Some(newer) = self.hints.remove(&key) {
                            failed.merge(&newer);
                        }
                        self.hints.insert(key, failed);
                    }
                }
            }
            Done::Reconcile(cause, result) => {
                self.reconcile_running = false;
                match result {
                    Ok(keys) => {
                        self.reconcile_retry.reset();
                        let now = Instant::now();
                        let mut offered = Vec::with_capacity(keys.len());
                        for (key, hint) in keys {
                            // Staggered reconnects cause back-to-back reconciles: a key whose
                            // full fetch at this version is already running needs no other.
                            if !hint.deleted && self.tasks.covers(&key, hint.version) {
                                metrics::counter!("wfm_reactor_reconcile_keys_skipped_total").increment(1);
                                continue;
                            }
                            offered.push(key.clone());
                            self.offer(key, hint, now);
                        }
                        self.first.listed(offered);
                    }
                    Err(err) => {
                        // Retry on our own: the next trigger may be the periodic timer, far
                        // away, and the first reconcile gates the snapshot and readiness.
                        let delay = self.reconcile_retry.next_delay();
                        tracing::warn!(error = %format!("{err:#}"), ?cause, retry_in = ?delay, "reconcile failed; retrying");
                        metrics::counter!("wfm_reactor_reconcile_failures_total").increment(1);
                        self.request_reconcile(cause, delay);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
