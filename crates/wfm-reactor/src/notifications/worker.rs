//! One channel slot's whole life: create, subscribe, connect, keep alive, replace.
//!
//! Why a worker per channel: each channel fails on its own (404, expiry, dropped socket)
//! and must recover without disturbing the others. The worker owns at most one live
//! channel and one current socket (plus old sockets draining during a make-before-break
//! switch) and emits a [`Gap`] whenever events may have been missed.

use super::connect::{Failure, Live, Socket};
use super::session::{SessionEnd, SessionNotice};
use super::shared::Shared;
use crate::backoff::{Backoff, BackoffPolicy};
use crate::telemetry::upstream as tel;
use crate::topics::{Gap, GapCause, UpstreamEvent, expand_topic};
use chrono::{DateTime, Utc};
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;
use tokio::time::{Instant, sleep, sleep_until};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

/// A connection that lasted this long resets the reconnect backoff.
const STABLE_AFTER: Duration = Duration::from_secs(30);
/// Old sockets still open this long after a switch are closed by us.
const DRAIN_LIMIT: Duration = Duration::from_secs(65);

/// How a connected period ended.
pub(super) enum Outcome {
    Stop,
    Lost {
        since: DateTime<Utc>,
        cause: GapCause,
        channel_gone: bool,
    },
}

/// The task behind one channel slot.
pub struct Worker {
    pub(super) slot: u64,
    pub(super) shared: Arc<Shared>,
    pub(super) topics: watch::Receiver<BTreeSet<String>>,
    pub(super) cancel: CancellationToken,
}

impl Worker {
    /// Runs until cancelled; then removes this channel's subscriptions.
    pub async fn run(mut self) {
        let cfg = &self.shared.cfg;
        let policy = BackoffPolicy::try_new(cfg.backoff_min, cfg.backoff_max, 2.0)
            .unwrap_or_else(|_| BackoffPolicy::webhook());
        let mut backoff = policy.start();
        let mut live: Option<Live> = None;
        let mut pending: Option<(DateTime<Utc>, GapCause)> = Some((Utc::now(), GapCause::Start));
        let (notice_tx, mut notice_rx) = mpsc::unbounded_channel();
        while !self.cancel.is_cancelled() {
            let socket = match self.connect_once(&mut live, &notice_tx).await {
                Ok(s) => s,
                Err(Failure::Fatal { message }) => {
                    self.shared.set_error(message);
                    self.cancel.cancelled().await;
                    break;
                }
                Err(f) => {
                    if let Failure::ChannelGone { .. } = f {
                        live = None;
                        pending.get_or_insert((Utc::now(), GapCause::ChannelLost));
                    }
                    tracing::warn!(error = %f.message(), "channel not connected, backing off");
                    if !self.wait(&mut backoff, f.retry_after()).await {
                        break;
                    }
                    continue;
                }
            };
            if let Some((since, cause)) = pending.take() {
                let subscribed = live.as_ref().map(|l| l.subscribed.clone()).unwrap_or_default();
                self.gap(&subscribed, since, cause).await;
            }
            match self
                .connected(&mut live, socket, &notice_tx, &mut notice_rx, &mut backoff)
                .await
            {
                Outcome::Stop => break,
                Outcome::Lost {
                    since,
                    cause,
                    channel_gone,
                } => {
                    tel::reconnect(
                        live.as_ref().map_or("", |l| l.channel.id.as_str()),
                        cause.as_str(),
                    );
                    self.shared.update(self.slot, |c| c.connected = false);
                    if channel_gone {
                        live = None;
                        self.shared.update(self.slot, |c| c.subscribed = false);
                    }
                    pending.get_or_insert((since, cause));
                    if !self.wait(&mut backoff, None).await {
                        break;
                    }
                }
            }
        }
        self.shared.remove(self.slot);
        if let Some(l) = live {
            let unsub = self.shared.client.unsubscribe_all(&l.channel.id);
            let _ = tokio::time::timeout(Duration::from_secs(2), unsub).await;
        }
    }

    /// Backoff wait raced against shutdown; false when cancelled.
    async fn wait(&self, backoff: &mut Backoff, floor: Option<Duration>) -> bool {
        super::retry::backoff_wait(backoff, floor, &self.cancel).await
    }

    pub(super) async fn gap(&self, subscribed: &BTreeSet<String>, since: DateTime<Utc>, cause: GapCause) {
        let degraded = self.shared.degraded_topics();
        // Refused topics (or refused parts of a combined topic) deliver nothing: no gap.
        let topics: Vec<String> = subscribed
            .iter()
            .filter(|t| !degraded.contains(*t))
            .flat_map(|t| expand_topic(t))
            .filter(|t| !degraded.contains(t))
            .collect();
        if topics.is_empty() {
            return;
        }
        tel::gap(cause.as_str(), topics.len());
        let gap = UpstreamEvent::Gap(Gap { topics, since, cause });
        tokio::select! {
            _ = self.cancel.cancelled() => {}
            _ = self.shared.events.send(gap) => {}
        }
    }

    /// Ensures a subscribed channel, then connects a socket to it.
    async fn connect_once(
        &mut self,
        live: &mut Option<Live>,
        notices: &mpsc::UnboundedSender<SessionNotice>,
    ) -> Result<Socket, Failure> {
        if live.is_none() {
            let topics = self.topics.borrow_and_update().clone();
            *live = Some(self.shared.open_channel(self.slot, &topics).await?);
        }
        let l = live.as_ref().expect("set above");
        match self
            .shared
            .connect(&l.channel, notices.clone(), &self.cancel)
            .await
        {
            Ok(s) => {
                self.shared.update(self.slot, |c| c.connected = true);
                Ok(s)
            }
            Err(e) => {
                let gone = matches!(self.shared.client.exists(&l.channel.id).await, Ok(false));
                Err(Failure::lost(format!("websocket connect failed: {e}"), gone))
            }
        }
    }

    /// Runs while a socket is up; handles notices, topic changes, expiry and rollover.
    async fn connected(
        &mut self,
        live: &mut Option<Live>,
        mut current: Socket,
        notice_tx: &mpsc::UnboundedSender<SessionNotice>,
        notices: &mut mpsc::UnboundedReceiver<SessionNotice>,
        backoff: &mut Backoff,
    ) -> Outcome {
        let mut draining: JoinSet<()> = JoinSet::new();
        let mut stable_at = Some(Instant::now() + STABLE_AFTER);
        let mut retry_topics_at: Option<Instant> = None;
        let mut expiry_retry_at: Option<Instant> = None;
        let mut rollover_retry_at: Option<Instant> = None;
        let mut refused_retry_at = Instant::now() + self.shared.cfg.rejected_retry;
        loop {
            let l = live.as_mut().expect("live while connected");
            let margin = self.shared.cfg.expiry_margin;
            let expiry_at = expiry_retry_at.unwrap_or_else(|| l.resubscribe_at(margin));
            let rollover_at = rollover_retry_at.unwrap_or(l.token.refresh_at);
            tokio::select! {
                biased;
                _ = self.cancel.cancelled() => {
                    current.stop.cancel();
                    let _ = (&mut current.handle).await;
                    return Outcome::Stop;
                }
                end = &mut current.handle => {
                    let end = end.unwrap_or_else(|e| SessionEnd::Closed(format!("session task: {e}")));
                    let outcome = self.session_ended(l, end).await;
                    if let Outcome::Lost { .. } = outcome {
                        draining.abort_all();
                    }
                    return outcome;
                }
                Some(_) = draining.join_next(), if !draining.is_empty() => {}
                Some(SessionNotice::SocketClosing) = notices.recv() => {
                    self.replace_socket(l, &mut current, &mut draining, notice_tx, notices).await;
                }
                r = self.topics.changed() => {
                    if r.is_err() { return Outcome::Stop; }
                    retry_topics_at = self.apply_topics(l, backoff).await;
                }
                _ = sleep_until(retry_topics_at.unwrap_or_else(Instant::now)), if retry_topics_at.is_some() => {
                    retry_topics_at = self.apply_topics(l, backoff).await;
                }
                _ = sleep_until(expiry_at) => {
                    match self.extend_channel(l, backoff).await {
                        Ok(retry_at) => expiry_retry_at = retry_at,
                        Err(_gone) => {
                            current.stop.cancel();
                            draining.abort_all();
                            return Outcome::Lost { since: Utc::now(), cause: GapCause::ChannelLost, channel_gone: true };
                        }
                    }
                }
                _ = sleep_until(rollover_at) => {
                    rollover_retry_at = self.roll_over(l, &mut current, &mut draining, notice_tx, backoff).await;
                }
                _ = sleep_until(refused_retry_at) => {
                    refused_retry_at = Instant::now() + self.shared.cfg.rejected_retry;
                    self.ask_again_for_refused(l).await;
                }
                _ = sleep_until(stable_at.unwrap_or_else(Instant::now)), if stable_at.is_some() => {
                    backoff.reset();
                    stable_at = None;
                }
            }
        }
    }
}

// === impl Worker (rollover) ===

impl Worker {
    /// Moves to a new channel under the refreshed token; the old socket drains and the old
    /// channel's subscriptions are deleted in the background. `Some(when)` to retry.
    async fn roll_over(
        &mut self,
        l: &mut Live,
        current: &mut Socket,
        draining: &mut JoinSet<()>,
        notice_tx: &mpsc::UnboundedSender<SessionNotice>,
        backoff: &mut Backoff,
    ) -> Option<Instant> {
        match self.rollover(l, notice_tx).await {
            Ok((new_live, new_socket)) => {
                let old_live = std::mem::replace(l, new_live);
                let old = std::mem::replace(current, new_socket);
                // The old channel still delivers until its subscriptions are gone: read
                // it dry (duplicates of the new channel's frames are dropped), then close.
                old.wind_down.cancel();
                drain(draining, old);
                let client = self.shared.client.clone();
                let unsubscribe = async move {
                    let _ = client.unsubscribe_all(&old_live.channel.id).await;
                };
                tokio::spawn(unsubscribe.in_current_span());
                None
            }
            Err(f) => {
                tracing::warn!(error = %f.message(), "channel rollover failed; retrying");
                Some(Instant::now() + backoff.next_delay_at_least(f.retry_after()))
            }
        }
    }
}

// === impl Worker (socket_closing) ===

impl Worker {
    /// `socket_closing`: make-before-break on the same channel, the new socket up before
    /// the old one is let go (the old keeps delivering until it closes). At most one
    /// replacement is pending and a channel never has more than two sockets: a notice
    /// while an old socket still drains, or queued while the replacement was connecting,
    /// is ignored (200 identical notices once opened 201 sockets).
    async fn replace_socket(
        &mut self,
        l: &Live,
        current: &mut Socket,
        draining: &mut JoinSet<()>,
        notice_tx: &mpsc::UnboundedSender<SessionNotice>,
        notices: &mut mpsc::UnboundedReceiver<SessionNotice>,
    ) {
        if !draining.is_empty() {
            tel::socket_closing_ignored(&l.channel.id, "old socket still draining");
            return;
        }
        match self
            .shared
            .connect(&l.channel, notice_tx.clone(), &self.cancel)
            .await
        {
            Ok(new) => {
                tel::reconnect(&l.channel.id, "socket_closing");
                let old = std::mem::replace(current, new);
                drain(draining, old);
            }
            Err(e) => {
                tracing::warn!(channel = %l.channel.id, error = %e, "could not open replacement socket; keeping the old one")
            }
        }
        while notices.try_recv().is_ok() {
            tel::socket_closing_ignored(&l.channel.id, "replacement was pending");
        }
    }
}

/// Keeps an old socket delivering until it closes, but never longer than [`DRAIN_LIMIT`].
fn drain(set: &mut JoinSet<()>, old: Socket) {
    let Socket { handle, stop, .. } = old;
    set.spawn(
        async move {
            // Aborting this task (the channel was lost) stops the old session too.
            let _guard = stop.clone().drop_guard();
            tokio::select! {
                _ = handle => {}
                _ = sleep(DRAIN_LIMIT) => stop.cancel(),
            }
        }
        .in_current_span(),
    );
}
