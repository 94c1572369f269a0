//! What finished work means to the reactor: a fetch or reconcile task that reported back
//! (or panicked), and the answer for a queued presence commit.
//!
//! Everything here runs on the reactor task, so the decisions it makes from these reports
//! (offer keys, retry, reload the presence cache) are ordered with every other decision.

use super::commits::Committed;
use super::{Done, Hint, HintCause, PendingReconcile, Reactor, tasks};
use crate::coalesce::ScheduleKey;
use tokio::time::Instant;

impl Reactor {
    pub(super) fn on_done(&mut self, joined: tasks::Joined) {
        let done = match joined {
            tasks::Joined::Done(done) => done,
            tasks::Joined::FetchLost { key, hint, error } => {
                // Report it failed so the coalescer retries it with backoff; otherwise the
                // key would stay "in flight" and never be fetched again.
                tracing::error!(business_unit = %key.business_unit_id, schedule = %key.schedule_id, error = %error, "schedule fetch task panicked; retrying with backoff");
                crate::telemetry::reactor::task_panicked("fetch");
                Done::Fetch(key, Err(hint), Vec::new())
            }
            tasks::Joined::ReconcileLost { cause, error } => {
                tracing::error!(error = %error, ?cause, "reconcile task panicked; retrying");
                crate::telemetry::reactor::task_panicked("reconcile");
                Done::Reconcile(cause, Err(anyhow::anyhow!("reconcile task panicked: {error}")))
            }
            tasks::Joined::Unknown(error) => {
                tracing::error!(error = %error, "untracked reactor task panicked");
                crate::telemetry::reactor::task_panicked("unknown");
                return;
            }
        };
        match done {
            Done::Fetch(key, result, updates) => {
                // Units the fetch sent before it ended, still queued: the engine takes them
                // before the key counts as fetched.
                let units = self.unit_updates.drain();
                self.adherence.schedules(units, self.presence.batch_mut());
                self.adherence.schedules(updates, self.presence.batch_mut());
                self.fetched(key, result);
            }
            Done::Reconcile(cause, Ok(listed)) => {
                // Decide what it observed now, against the cache as it is; the reconcile
                // counts as done once the batch holding those decisions committed.
                let c = &self.ctx.config;
                let emit_snapshot = c.reconcile.initial_snapshot;
                self.presence
                    .observed(listed.observed, cause.event_cause(), emit_snapshot);
                let mut batch = crate::store::Batch::default();
                let presence = &self.presence;
                let why = crate::events::AdherenceCause::Reconcile;
                self.adherence
                    .all_inputs(|u| presence.current(u), why, &mut batch);
                for (mu, entities) in &listed.adherence {
                    for a in entities {
                        self.adherence.genesys(mu, a, why, &mut batch);
                    }
                }
                let into = self.presence.batch_mut();
                into.changes.extend(batch.changes);
                into.events.extend(batch.events);
                self.pending_reconcile = Some(PendingReconcile {
                    cause,
                    keys: listed.keys,
                    ticket: None,
                });
            }
            Done::Reconcile(cause, Err(err)) => self.reconciled(cause, Err(err)),
        }
    }

    fn fetched(&mut self, key: ScheduleKey, result: Result<(), Hint>) {
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

    /// A reconcile is over (listed and committed, or failed): offer its keys, or retry.
    fn reconciled(&mut self, cause: HintCause, result: anyhow::Result<Vec<(ScheduleKey, Hint)>>) {
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
                        crate::telemetry::reactor::reconcile_key_skipped();
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
                crate::telemetry::reactor::reconcile_failed();
                self.request_reconcile(cause, delay);
            }
        }
    }

    /// Queues the presence changes decided since the last flush, behind every batch
    /// queued before (waiting for an answer first when too many are in flight).
    pub(super) async fn flush(&mut self) {
        self.queue_decided().await;
        // Adherence waits for the first reconcile (which may just have finished above).
        if self.adherence.is_held() && self.first.is_done() {
            self.adherence.release(self.presence.batch_mut());
            self.queue_decided().await;
        }
    }

    async fn queue_decided(&mut self) {
        let ticket = match self.presence.take_batch() {
            Some(batch) => {
                while self.commits.is_full() {
                    let Some(c) = self.commits.next().await else { break };
                    self.on_committed(c).await;
                }
                Some(self.commits.queue(batch).await)
            }
            None => None,
        };
        if let Some(p) = &mut self.pending_reconcile
            && p.ticket.is_none()
        {
            match ticket {
                Some(t) => p.ticket = Some(t),
                // It observed nothing new: nothing to wait for.
                None => {
                    let p = self.pending_reconcile.take().expect("checked above");
                    self.reconciled(p.cause, Ok(p.keys));
                }
            }
        }
    }

    /// A presence commit answered. After a failure the cache is ahead of the store: let
    /// every batch already queued land, then reload the cache from the store, so later
    /// decisions (and `previous`) match what was really committed.
    pub(super) async fn on_committed(&mut self, c: Committed) {
        if !self.settle(c) {
            return;
        }
        while let Some(c) = self.commits.next().await {
            self.settle(c);
        }
        tracing::warn!("reloading the presence cache from the store after a failed commit");
        if let Err(err) = self.presence.reload(&self.ctx.store).await {
            tracing::error!(error = %err, "cannot reload the presence cache");
        }
    }

    /// Accounts for one answer (a reconcile waiting for it is now over); true if it failed.
    fn settle(&mut self, c: Committed) -> bool {
        if let Err(err) = &c.result {
            tracing::error!(error = %err, ticket = c.ticket, "presence commit failed");
            crate::telemetry::reactor::commit_failed("presence");
        }
        let failed = c.result.is_err();
        if self
            .pending_reconcile
            .as_ref()
            .is_some_and(|p| p.ticket == Some(c.ticket))
        {
            let p = self.pending_reconcile.take().expect("checked above");
            let result = c.result.map(|()| p.keys).map_err(anyhow::Error::from);
            self.reconciled(p.cause, result);
        }
        failed
    }

    /// Queues what is decided and waits for every presence commit (shutdown).
    pub(super) async fn drain_commits(&mut self) {
        self.flush().await;
        while let Some(c) = self.commits.next().await {
            self.on_committed(c).await;
        }
    }
}
