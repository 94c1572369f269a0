//! The reactor: turns upstream notifications and gaps into real changes, with the fewest
//! REST calls, and commits state + events to the store in one transaction.
//!
//! One task owns the coalescer, the routing, membership and the presence cache (`run`);
//! schedule fetches and reconciles run as child tasks and report back, so the loop never
//! waits on the network. Order is decided in one place: every presence decision is made
//! here, and its batch is queued to the store writer from here, in that order.

mod adherence;
mod agents_json;
mod commits;
mod convert;
mod done;
mod handle;
mod hint;
mod intake;
mod linger;
mod membership;
mod narrowing;
mod observe;
mod presence;
mod reconcile;
mod schedule;
mod stop;
mod tasks;
mod ties;
mod triggers;
pub mod unit_slots;
mod unit_updates;

pub use adherence::{AgentAdherence, ScheduleUpdate};
pub use handle::{ReactorHandle, UserState, UsersView};
pub use membership::{
    Membership, WatchedBu, genesys_adherence, resolve_membership, topic_set, watched_users,
};
pub use schedule::{Hint, HintCause};

use crate::coalesce::{Coalescer, ScheduleKey};
use crate::config::Config;
use crate::store::Store;
use crate::topics::{Notification, UpstreamEvent};
use crate::wfm::WfmClient;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio::time::{Instant, sleep_until};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

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

/// The immutable dependencies the reactor's tasks share (cheap to clone behind an `Arc`).
/// State that changes (membership, presence) is not here: the reactor owns it.
pub struct Context {
    /// The durable store.
    pub store: Store,
    /// The rate-budgeted REST client.
    pub wfm: WfmClient,
    /// Host (and port) of the API, for CloudEvent `source`.
    pub api_host: String,
    /// The validated configuration.
    pub config: Arc<Config>,
    /// Bounds the management units between query and commit at once (memory).
    pub unit_slots: unit_slots::UnitSlots,
}

/// What a child task reports back.
enum Done {
    /// A fetch ended; on failure it hands back its hint so the retry keeps the cause,
    /// operation id and management units it knew.
    /// Either way it lists the agent schedules it committed, for the adherence engine.
    Fetch(ScheduleKey, Result<(), Hint>, Vec<ScheduleUpdate>),
    /// A reconcile ended with what it listed and observed (the reactor decides on it).
    Reconcile(HintCause, anyhow::Result<reconcile::Listed>),
}

/// A reconcile whose observed presence is queued but not yet committed: it counts as
/// done (keys offered, readiness) only once that commit succeeded, as before a reconcile
/// reported back only after committing.
struct PendingReconcile {
    cause: HintCause,
    keys: Vec<(ScheduleKey, Hint)>,
    /// The commit holding its presence changes (`None` until the next flush queues it).
    ticket: Option<commits::Ticket>,
}

/// The reactor task's state.
pub struct Reactor {
    ctx: Arc<Context>,
    upstream: mpsc::Receiver<UpstreamEvent>,
    resync_rx: mpsc::Receiver<()>,
    messages: mpsc::Receiver<handle::Message>,
    /// The watched org; tasks get this snapshot when they start.
    membership: Arc<Membership>,
    /// Users whose presence is watched (from `membership`): frames for anyone else are
    /// ignored, so a frame cannot make the daemon store a stranger's presence.
    watched: std::collections::HashSet<String>,
    /// The presence and routing cache, and the changes decided since the last flush.
    presence: presence::Presence,
    /// The local adherence engine (fed by every presence, routing and schedule decision).
    adherence: adherence::Adherence,
    /// Committed units' timelines, sent by the fetches as they go (for the engine).
    unit_updates: unit_updates::UnitUpdates,
    /// Presence batches queued to the store writer, in decision order.
    commits: commits::Commits,
    pending_reconcile: Option<PendingReconcile>,
    coalescer: Coalescer<ScheduleKey>,
    hints: HashMap<ScheduleKey, Hint>,
    intake: intake::Intake,
    /// `agentschedules.changed` hints, to narrow a notification's fetch to named agents.
    narrowing: narrowing::Narrowing,
    tasks: tasks::Tasks,
    reconcile_running: bool,
    /// A reconcile wanted (and why), starting at the instant given; gaps arriving together
    /// (one per channel at start) fold into one reconcile.
    reconcile_due: Option<(Instant, HintCause)>,
    first: reconcile::FirstReconcile,
    /// Spaces retries of a failed reconcile (reset when one succeeds).
    reconcile_retry: crate::backoff::Backoff,
    pending_tx: watch::Sender<usize>,
    grace: Duration,
    /// The upstream's refused topics now (`None`: no upstream, as in unit tests).
    refusals: Option<Refusals>,
    /// Groups the commits of a busy stream (see [`linger::Linger`]).
    linger: linger::Linger,
}

/// Reads the topics the upstream has had refused so far.
pub type Refusals = Arc<dyn Fn() -> std::collections::BTreeSet<String> + Send + Sync>;

impl Reactor {
    /// Builds the reactor on the membership resolved at start; [`Reactor::load`] fills
    /// its presence cache, `run` drives it until `cancel`.
    pub fn new(
        ctx: Arc<Context>,
        membership: Membership,
        upstream: mpsc::Receiver<UpstreamEvent>,
    ) -> (Self, ReactorHandle) {
        let (resync, resync_rx) = mpsc::channel(1);
        let (messages_tx, messages) = mpsc::channel(16);
        let (done_tx, first_reconcile_done) = watch::channel(false);
        let (pending_tx, pending) = watch::channel(0);
        let d = &ctx.config.debounce;
        let ctx_linger = ctx.config.state.commit_linger;
        let narrowing = narrowing::Narrowing::new(d.quiet + d.max_wait);
        let mut adherence = adherence::Adherence::new(&ctx.config, ctx.api_host.clone());
        adherence.set_membership(&membership);
        let reactor = Self {
            adherence,
            unit_updates: unit_updates::UnitUpdates::new(ctx.config.watch.adherence),
            coalescer: Coalescer::new(d.quiet, d.max_wait),
            grace: ctx.config.shutdown.grace,
            presence: presence::Presence::new(ctx.api_host.clone()),
            commits: commits::Commits::new(ctx.store.clone()),
            pending_reconcile: None,
            watched: watched_users(&ctx.config, &membership).into_iter().collect(),
            membership: Arc::new(membership),
            messages,
            ctx,
            upstream,
            resync_rx,
            hints: HashMap::new(),
            intake: intake::Intake::default(),
            narrowing,
            tasks: tasks::Tasks::default(),
            reconcile_running: false,
            reconcile_due: None,
            first: reconcile::FirstReconcile::new(done_tx),
            reconcile_retry: reconcile_retry_policy().start(),
            pending_tx,
            refusals: None,
            linger: linger::Linger::new(ctx_linger),
        };
        (
            reactor,
            ReactorHandle {
                resync,
                first_reconcile_done,
                pending,
                messages: messages_tx,
            },
        )
    }

    /// Where refused topics are read (before each reconcile): a unit whose adherence
    /// topic is refused falls back to the local engine in `[adherence] mode = "auto"`.
    pub fn watch_refusals(&mut self, refusals: Refusals) {
        self.refusals = Some(refusals);
    }

    /// Loads the presence cache and the adherence engine from the store (before `run`);
    /// what changed while the daemon was down is decided once the first reconcile is done.
    pub async fn load(&mut self) -> Result<(), crate::store::StoreError> {
        self.presence.reload(&self.ctx.store).await?;
        self.presence.load_routing(&self.ctx.store).await?;
        // rows of users the last run watched and this one does not
        crate::telemetry::reactor::presence_pruned(self.presence.prune(&self.watched));
        let presence = &self.presence;
        self.adherence
            .load(&self.ctx.store, |u| presence.current(u))
            .await
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
            let boundary = self.adherence.deadline();
            let lingering = self.linger.until();
            tokio::select! {
                biased;
                _ = cancel.cancelled() => break,
                // Commit answers first: after a failure the cache is reloaded before the
                // next decision.
                Some(c) = self.commits.next(), if !self.commits.is_empty() => self.on_committed(c).await,
                Some(unit) = self.unit_updates.recv(), if self.unit_updates.is_open() => {
                    self.adherence.schedules(unit, self.presence.batch_mut());
                }
                Some(joined) = self.tasks.join_next(), if !self.tasks.is_empty() => self.on_done(joined),
                Some(msg) = self.messages.recv() => self.on_message(msg),
                // While a commit lingers, events wait in the channel (no wake-up per event)
                // and are taken all at once when it ends.
                ev = self.upstream.recv(), if lingering.is_none() => match ev {
                    Some(ev) => {
                        self.on_upstream(ev);
                        self.drain_upstream();
                    }
                    None => break,
                },
                _ = sleep_until(lingering.unwrap_or_else(Instant::now)), if lingering.is_some() => {
                    self.drain_upstream();
                }
                _ = sleep_until(next.unwrap_or_else(Instant::now)), if next.is_some() => self.fire_due(),
                _ = sleep_until(boundary.unwrap_or_else(Instant::now)), if boundary.is_some() => {
                    self.adherence.due(self.presence.batch_mut());
                }
                _ = sleep_until(self.reconcile_due.map_or_else(Instant::now, |d| d.0)),
                    if self.reconcile_due.is_some() && !self.reconcile_running => self.start_reconcile(),
                Some(()) = self.resync_rx.recv() => self.request_reconcile(HintCause::Reconcile, Duration::ZERO),
                _ = timer.tick() => self.request_reconcile(HintCause::Reconcile, Duration::ZERO),
            }
            if self.linger.may_flush(self.presence.has_pending(), Instant::now()) {
                self.flush().await;
            }
            self.pending_tx.send_replace(self.coalescer.len());
        }
        self.shutdown().await;
    }

    /// Takes what is already queued (bounded), so presence commits batch up under load.
    fn drain_upstream(&mut self) {
        for _ in 0..DRAIN_BATCH {
            let Ok(ev) = self.upstream.try_recv() else { break };
            self.on_upstream(ev);
        }
    }

    fn on_upstream(&mut self, ev: UpstreamEvent) {
        match ev {
            UpstreamEvent::Gap(gap) => {
                tracing::info!(cause = gap.cause.as_str(), topics = gap.topics.len(), since = %gap.since, "gap: reconciling");
                self.narrowing.clear();
                self.request_reconcile(HintCause::Reconcile, GAP_RECONCILE_DELAY);
            }
            UpstreamEvent::Notification {
                notification,
                received_at,
                ..
            } => match notification {
                Notification::Presence(p) if !self.watched.contains(&p.user_id) => {
                    crate::telemetry::reactor::unwatched_user("presence", &p.user_id);
                }
                Notification::RoutingStatus(r) if !self.watched.contains(&r.user_id) => {
                    crate::telemetry::reactor::unwatched_user("routing_status", &r.user_id);
                }
                Notification::Presence(p) => {
                    let user = p.user_id.clone();
                    self.presence.presence(p, received_at);
                    self.adherence_inputs(&user);
                }
                Notification::RoutingStatus(r) => {
                    let user = r.user_id.clone();
                    self.presence.routing(r, received_at);
                    self.adherence_inputs(&user);
                }
                Notification::BuSchedule(update) => {
                    if let Some((key, hint)) = self.intake.schedule_event(&self.ctx.config, update) {
                        self.offer(key, hint, received_at);
                    }
                }
                Notification::MuAdherence(u) => {
                    let cause = crate::events::AdherenceCause::Notification;
                    let batch = self.presence.batch_mut();
                    self.adherence
                        .genesys(&u.management_unit_id, &u.adherence, cause, batch);
                }
                Notification::MuAgentSchedules(u) => {
                    let watched = self
                        .membership
                        .management_units()
                        .any(|m| m == u.management_unit_id);
                    if watched {
                        self.narrowing
                            .record(&u.management_unit_id, &u.changed, received_at);
                    } else {
                        crate::telemetry::reactor::update_skipped("agent_schedules", "unwatched_unit");
                    }
                }
                Notification::ScheduleQueryResult { .. } | Notification::System(_) => {}
            },
        }
    }

    /// Feeds `user`'s presence and routing status as just decided to the adherence engine.
    fn adherence_inputs(&mut self, user: &str) {
        let (p, r) = self.presence.current(user);
        let cause = crate::events::AdherenceCause::Notification;
        self.adherence
            .inputs(user, p.as_deref(), r.as_deref(), cause, self.presence.batch_mut());
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
            let mut hint = self.hints.remove(&key).unwrap_or_else(|| Hint::reconcile(None));
            self.narrowing.narrow(&mut hint, Instant::now());
            let (ctx, membership) = (self.ctx.clone(), self.membership.clone());
            let units = self.unit_updates.sender();
            let task_key = key.clone();
            crate::telemetry::reactor::coalescer_fired();
            let span = tracing::info_span!(
                "fetch",
                business_unit = %key.business_unit_id,
                schedule = %key.schedule_id
            );
            self.tasks.spawn_fetch(key, hint.clone(), move |announced| {
                async move {
                    let (ok, updates) = schedule::fetch_and_commit(
                        &ctx,
                        &membership,
                        &task_key,
                        hint.clone(),
                        &announced,
                        &units,
                    )
                    .await;
                    Done::Fetch(task_key, if ok { Ok(()) } else { Err(hint) }, updates)
                }
                .instrument(span)
            });
        }
    }

    fn on_message(&mut self, msg: handle::Message) {
        match msg {
            handle::Message::Membership(m) => {
                self.adherence.set_membership(&m);
                self.membership = Arc::new(m);
                self.watched = watched_users(&self.ctx.config, &self.membership)
                    .into_iter()
                    .collect();
                let pruned = self.presence.prune(&self.watched);
                crate::telemetry::reactor::presence_pruned(pruned);
                let presence = &self.presence;
                let mut batch = crate::store::Batch::default();
                let cause = crate::events::AdherenceCause::Reconcile;
                self.adherence
                    .all_inputs(|u| presence.current(u), cause, &mut batch);
                self.presence.batch_mut().changes.extend(batch.changes);
                self.presence.batch_mut().events.extend(batch.events);
            }
            handle::Message::Adherence {
                management_unit,
                reply,
            } => {
                let _ = reply.send(self.adherence.view(management_unit.as_deref()));
            }
            handle::Message::Users { limit, reply } => {
                let watched = watched_users(&self.ctx.config, &self.membership);
                let users = self.presence.users(watched.iter().take(limit));
                let truncated = watched.len().saturating_sub(limit);
                // The asker may have given up; nothing to do then.
                let _ = reply.send(UsersView { users, truncated });
            }
        }
    }
}

#[cfg(test)]
mod adherence_tests;
#[cfg(test)]
mod tests;
