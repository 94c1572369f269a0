//! Shared upstream status for readiness (`/readyz`) and `doctor`.

use super::channel::RejectedTopic;
use serde::Serialize;
use std::collections::BTreeMap;

/// One channel's state.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ChannelStatus {
    /// Current channel id (None before creation).
    pub channel_id: Option<String>,
    /// Topics assigned to it.
    pub topics: usize,
    /// Its subscriptions are in place.
    pub subscribed: bool,
    /// A websocket is connected.
    pub connected: bool,
}

/// Everything the readiness check needs to know about the upstream.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct UpstreamStatus {
    /// Per channel slot.
    pub channels: BTreeMap<u64, ChannelStatus>,
    /// Topics refused for missing permissions (they do not hold readiness back).
    pub degraded: BTreeMap<String, RejectedTopic>,
    /// A configuration-level error (too many topics, refused OAuth client).
    pub error: Option<String>,
    /// Channel workers that kept dying and were given up, with the last failure: the
    /// process cannot make progress on those channels (`/livez` fails).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub given_up: BTreeMap<u64, String>,
}

impl UpstreamStatus {
    /// True when there is no error and every channel is subscribed and connected.
    pub fn is_ready(&self) -> bool {
        self.error.is_none() && self.channels.values().all(|c| c.subscribed && c.connected)
    }

    /// Why the upstream can no longer make progress, if it cannot.
    pub fn not_live(&self) -> Option<String> {
        let (slot, why) = self.given_up.iter().next()?;
        Some(format!("channel worker {slot} cannot be restarted: {why}"))
    }

    /// Why not ready (empty when ready).
    pub fn reasons(&self) -> Vec<String> {
        let mut out: Vec<String> = self.error.iter().cloned().collect();
        for (slot, c) in &self.channels {
            if !c.subscribed {
                out.push(format!("channel {slot} not subscribed"));
            } else if !c.connected {
                out.push(format!("channel {slot} not connected"));
            }
        }
        out
    }
}
