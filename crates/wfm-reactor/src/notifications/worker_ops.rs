//! The two make-before-break subscription moves of a worker: token rollover to a new
//! channel, and bringing a live channel's subscriptions to a new topic set.

use super::channel::{ChannelError, SubscribeMode};
use super::connect::{Failure, Live, Socket};
use super::session::SessionNotice;
use super::worker::Worker;
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
}
