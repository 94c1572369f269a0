//! The two make-before-break subscription moves of a worker (token rollover to a new
//! channel, bringing a live channel's subscriptions to a new topic set), keeping a channel
//! alive past its expiry, and reading why a session ended.

use super::channel::{ChannelError, SubscribeMode};
use super::connect::{Failure, Live, Socket};
use super::session::{SessionEnd, SessionNotice};
use super::worker::{Outcome, Worker};
use crate::backoff::Backoff;
use crate::telemetry::upstream as tel;
use crate::topics::GapCause;
use chrono::Utc;
use std::collections::BTreeSet;
use tokio::sync::mpsc;
use tokio::time::Instant;

impl Worker {
    /// New channel with the current token, subscribed and connected, before the old goes.
    pub(super) async fn rollover(
        &self,
        old: &Live,
        notices: &mpsc::UnboundedSender<SessionNotice>,
    ) -> Result<(Live, Socket), Failure> {
        let fresh = self
            .shared
            .client
            .tokens()
            .token()
            .await
            .map_err(ChannelError::from)?;
        if fresh.generation == old.token.generation {
            return Err(Failure::retry("token not refreshed yet".into()));
        }
        let topics = old.subscribed.clone();
        let live = self.shared.open_channel(self.slot, &topics).await?;
        let socket = self
            .shared
            .connect(&live.channel, notices.clone(), &self.cancel)
            .await
            .map_err(|e| Failure::retry(format!("rollover connect: {e}")))?;
        tel::reconnect(&old.channel.id, "token_rollover");
        Ok((live, socket))
    }

    /// Brings the channel's subscriptions to the desired set; `Some(retry time)` on failure.
    pub(super) async fn apply_topics(&mut self, l: &mut Live, backoff: &mut Backoff) -> Option<Instant> {
        let desired = self.topics.borrow_and_update().clone();
        let added: Vec<String> = desired.difference(&l.subscribed).cloned().collect();
        let removed = l.subscribed.difference(&desired).count();
        if added.is_empty() && removed == 0 {
            return None;
        }
        let client = &self.shared;
        let result = if removed == 0 {
            let added: BTreeSet<String> = added.iter().cloned().collect();
            match client.subscribe(&l.channel.id, &added, SubscribeMode::Add).await {
                Ok(()) => Ok(()),
                // After a failed POST the server state is unknown: reconcile with PUT.
                Err(_) => {
                    client
                        .subscribe(&l.channel.id, &desired, SubscribeMode::Replace)
                        .await
                }
            }
        } else {
            client
                .subscribe(&l.channel.id, &desired, SubscribeMode::Replace)
                .await
        };
        match result {
            Ok(()) => {
                l.subscribed = desired;
                l.extend();
                self.shared.update(self.slot, |c| c.topics = l.subscribed.len());
                let added: BTreeSet<String> = added.into_iter().collect();
                self.gap(&added, Utc::now(), GapCause::TopicsAdded).await;
                None
            }
            Err(e) => {
                tracing::warn!(error = %e, "subscription update failed; will retry");
                Some(Instant::now() + backoff.next_delay_at_least(e.retry_after()))
            }
        }
    }

    /// What a session's end means: shutdown, or a lost socket (and whether the channel
    /// went with it, asking the server when the session could not tell).
    pub(super) async fn session_ended(&self, l: &Live, end: SessionEnd) -> Outcome {
        let since = Utc::now();
        tracing::warn!(channel = %l.channel.id, end = ?end, "notification socket ended");
        let (cause, gone) = match end {
            SessionEnd::Cancelled => return Outcome::Stop,
            SessionEnd::ChannelGone(_) => (GapCause::ChannelLost, true),
            SessionEnd::HeartbeatTimeout => (GapCause::HeartbeatTimeout, false),
            SessionEnd::Closed(_) | SessionEnd::Superseded => {
                let gone = matches!(self.shared.client.exists(&l.channel.id).await, Ok(false));
                let cause = if gone {
                    GapCause::ChannelLost
                } else {
                    GapCause::SocketDropped
                };
                (cause, gone)
            }
        };
        Outcome::Lost {
            since,
            cause,
            channel_gone: gone,
        }
    }

    /// Resubscribes the channel's topics to push its expiry forward. `Ok(None)` when
    /// extended, `Ok(Some(when))` to try again after a failure.
    pub(super) async fn extend_channel(
        &self,
        l: &mut Live,
        backoff: &mut Backoff,
    ) -> Result<Option<Instant>, ChannelGone> {
        match self
            .shared
            .subscribe(&l.channel.id, &l.subscribed, SubscribeMode::Replace)
            .await
        {
            Ok(()) => {
                l.extend();
                tracing::info!(channel = %l.channel.id, "channel extended by resubscribing");
                Ok(None)
            }
            Err(e) if e.is_not_found() => Err(ChannelGone),
            Err(e) => {
                tracing::warn!(channel = %l.channel.id, error = %e, "resubscribe to extend channel failed");
                Ok(Some(
                    Instant::now() + backoff.next_delay_at_least(e.retry_after()),
                ))
            }
        }
    }
}

/// The channel no longer exists on the server.
#[derive(Debug)]
pub(super) struct ChannelGone;
