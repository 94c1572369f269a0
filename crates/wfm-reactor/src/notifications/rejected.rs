//! Asking again for topics the server refused.
//!
//! Why: a refusal usually means a missing permission, and operators fix that in the Genesys
//! admin UI while the daemon runs. Without a retry the topic would stay unsubscribed (and
//! listed as degraded) until a restart. Every `notifications.rejected_retry` each worker
//! POSTs its channel's refused topics again with `ignoreErrors=true`; accepted ones leave
//! the degraded list and get a gap, so the reactor reads their current state.

use super::channel::{ChannelError, SubscribeMode};
use super::connect::Live;
use super::shared::Shared;
use super::worker::Worker;
use crate::topics::GapCause;
use chrono::Utc;
use std::collections::BTreeSet;

impl Shared {
    /// Asks `channel_id` again for the refused topics among `subscribed` (plain topics on
    /// the degraded list, refused parts of split combined topics); returns those the
    /// server accepted this time.
    pub async fn retry_refused(
        &self,
        channel_id: &str,
        subscribed: &BTreeSet<String>,
    ) -> Result<Vec<String>, ChannelError> {
        let degraded = self.degraded_topics();
        let mut owners: Vec<(Option<&str>, String)> = Vec::new();
        for topic in subscribed {
            if topic.contains('?') {
                let parts = self.splits.refused_parts(topic);
                owners.extend(parts.into_iter().map(|p| (Some(topic.as_str()), p)));
            } else if degraded.contains(topic) {
                owners.push((None, topic.clone()));
            }
        }
        if owners.is_empty() {
            return Ok(Vec::new());
        }
        let parts: Vec<String> = owners
            .iter()
            .map(|(_, p)| p.clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let refused = self
            .client
            .subscribe_lenient(channel_id, &parts, SubscribeMode::Add)
            .await?;
        self.clear_accepted(&parts, &refused);
        self.record_rejected(&refused);
        let refused: BTreeSet<&str> = refused.iter().map(|r| r.topic.as_str()).collect();
        for (combined, part) in &owners {
            if let Some(c) = combined.filter(|_| !refused.contains(part.as_str())) {
                self.splits.permit(c, std::slice::from_ref(part));
            }
        }
        Ok(parts
            .into_iter()
            .filter(|p| !refused.contains(p.as_str()))
            .collect())
    }
}

impl Worker {
    /// One retry round for this worker's channel; a gap for whatever is accepted now.
    pub(super) async fn ask_again_for_refused(&self, l: &Live) {
        match self.shared.retry_refused(&l.channel.id, &l.subscribed).await {
            Ok(accepted) if !accepted.is_empty() => {
                tracing::info!(channel = %l.channel.id, topics = accepted.len(), "refused topics accepted now");
                let accepted: BTreeSet<String> = accepted.into_iter().collect();
                self.gap(&accepted, Utc::now(), GapCause::TopicsAdded).await;
            }
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(channel = %l.channel.id, error = %e, "asking again for refused topics failed; next round will retry");
            }
        }
    }
}
