//! Subscribing a channel, with the combined-topic fallback recorded in [`super::split`].
//!
//! Kept apart from `split.rs` so that the record of splits (held by [`Shared`]) does not
//! depend on the worker state that uses it.

use super::channel::{ChannelError, RejectedTopic, SubscribeMode};
use super::shared::Shared;
use crate::telemetry::upstream as tel;
use crate::topics::expand_topic;
use std::collections::BTreeSet;

fn is_combined(topic: &str) -> bool {
    topic.contains('?')
}

impl Shared {
    /// Subscribes `topics` on `channel_id` (`mode` as given); refused combined topics are
    /// split and their parts added leniently. Refused topics (plain ones and the refused
    /// parts, never a combined name) are recorded as degraded.
    pub async fn subscribe(
        &self,
        channel_id: &str,
        topics: &BTreeSet<String>,
        mode: SubscribeMode,
    ) -> Result<(), ChannelError> {
        let wire = self.splits.wire(topics);
        let rejected = self.client.subscribe(channel_id, &wire, mode).await?;
        self.clear_accepted(&wire, &rejected);
        let (combined, plain): (Vec<RejectedTopic>, Vec<RejectedTopic>) =
            rejected.into_iter().partition(|r| is_combined(&r.topic));
        self.record_rejected(&plain);
        if combined.is_empty() {
            return Ok(());
        }
        let parts: Vec<String> = combined.iter().flat_map(|r| expand_topic(&r.topic)).collect();
        for r in &combined {
            tel::combined_topic_split(channel_id, &r.topic, &r.missing_permissions);
        }
        let refused_parts = self
            .client
            .subscribe_lenient(channel_id, &parts, SubscribeMode::Add)
            .await?;
        self.clear_accepted(&parts, &refused_parts);
        self.record_rejected(&refused_parts);
        let refused: BTreeSet<&str> = refused_parts.iter().map(|r| r.topic.as_str()).collect();
        for r in &combined {
            let permitted = expand_topic(&r.topic)
                .into_iter()
                .filter(|p| !refused.contains(p.as_str()))
                .collect();
            self.splits.record(&r.topic, permitted);
        }
        Ok(())
    }
}
