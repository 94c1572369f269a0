//! What every channel worker shares: REST client, config, output, status board.

use super::channel::{ChannelClient, RejectedTopic, SubscribeMode};
use super::connect::{ConnectError, Failure, Live, Socket};
use super::dedupe::RecentFrames;
use super::session::{self, RawFrame, SessionConfig, SessionContext, SessionNotice};
use super::split::CombinedSplits;
use super::status::{ChannelStatus, UpstreamStatus};
use crate::config::NotificationsConfig;
use crate::genesys::notifications::Channel;
use crate::telemetry::upstream as tel;
use crate::topics::UpstreamEvent;
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

/// Shared by the manager and its workers.
pub struct Shared {
    /// Notifications REST.
    pub client: ChannelClient,
    /// Tuning.
    pub cfg: NotificationsConfig,
    /// Output to the reactor.
    pub events: mpsc::Sender<UpstreamEvent>,
    /// Raw copy for `tap`.
    pub raw: Option<mpsc::Sender<RawFrame>>,
    /// Readiness board.
    pub status: Arc<Mutex<UpstreamStatus>>,
    /// Cross-socket duplicate filter.
    pub recent: Arc<Mutex<RecentFrames>>,
    /// Refused combined topics and the parts subscribed instead.
    pub splits: CombinedSplits,
}

impl Shared {
    fn board(&self) -> std::sync::MutexGuard<'_, UpstreamStatus> {
        self.status.lock().expect("status lock")
    }

    /// Changes one slot's status.
    pub fn update(&self, slot: u64, f: impl FnOnce(&mut ChannelStatus)) {
        f(self.board().channels.entry(slot).or_default());
    }

    /// Forgets a slot.
    pub fn remove(&self, slot: u64) {
        self.board().channels.remove(&slot);
    }

    /// Records a configuration-level error.
    pub(crate) fn set_error(&self, message: String) {
        tracing::error!(error = %message, "upstream cannot continue");
        self.board().error = Some(message);
    }

    /// Topics refused so far.
    pub(crate) fn degraded_topics(&self) -> BTreeSet<String> {
        self.board().degraded.keys().cloned().collect()
    }

    /// Forgets refusals of topics the server has now accepted: every topic of `sent` (and
    /// each part of a combined one) that is not in `rejected`.
    pub(crate) fn clear_accepted(&self, sent: &[String], rejected: &[RejectedTopic]) {
        let refused: BTreeSet<&str> = rejected.iter().map(|r| r.topic.as_str()).collect();
        let mut board = self.board();
        if board.degraded.is_empty() {
            return;
        }
        for topic in sent.iter().filter(|t| !refused.contains(t.as_str())) {
            for part in crate::topics::expand_topic(topic) {
                if board.degraded.remove(&part).is_some() {
                    tel::topic_recovered(&part);
                }
            }
        }
    }

    /// Records refused topics (logged with their missing permissions).
    pub(crate) fn record_rejected(&self, rejected: &[RejectedTopic]) {
        let mut board = self.board();
        for r in rejected {
            if !board.degraded.contains_key(&r.topic) {
                tel::topic_rejected(
                    &r.topic,
                    r.reason.as_deref().unwrap_or(""),
                    &r.missing_permissions,
                );
            }
            board.degraded.insert(r.topic.clone(), r.clone());
        }
    }

    /// Creates a channel and subscribes `topics` on it (PUT: a new channel is reconciled whole).
    pub async fn open_channel(&self, slot: u64, topics: &BTreeSet<String>) -> Result<Live, Failure> {
        let (channel, token) = self.client.create().await?;
        if !topics.is_empty() {
            self.subscribe(&channel.id, topics, SubscribeMode::Replace)
                .await?;
        }
        tracing::info!(channel = %channel.id, topics = topics.len(), "channel created and subscribed");
        self.update(slot, |c| {
            c.channel_id = Some(channel.id.clone());
            c.topics = topics.len();
            c.subscribed = true;
            c.connected = false;
        });
        Ok(Live::new(channel, token, topics.clone()))
    }

    /// Opens a websocket to `channel` and starts its session task.
    pub async fn connect(
        &self,
        channel: &Channel,
        notices: mpsc::UnboundedSender<SessionNotice>,
        cancel: &CancellationToken,
    ) -> Result<Socket, ConnectError> {
        // tungstenite's own cap sits far above ours so an oversized frame is counted and
        // skipped by the session instead of killing the socket.
        let limit = self.cfg.max_frame_bytes.saturating_mul(16).max(16 << 20);
        // 16 KiB read chunks instead of tungstenite's 128 KiB: one buffer per socket, 19
        // sockets at full scale (docs/performance.md, steady-state heap census).
        let ws_cfg = WebSocketConfig::default()
            .read_buffer_size(16 * 1024)
            .max_message_size(Some(limit))
            .max_frame_size(Some(limit));
        let connect =
            tokio_tungstenite::connect_async_with_config(channel.connect_uri.as_str(), Some(ws_cfg), false);
        let (ws, _) = tokio::select! {
            _ = cancel.cancelled() => return Err(ConnectError::Cancelled),
            r = tokio::time::timeout(std::time::Duration::from_secs(30), connect) => {
                r.map_err(|_| ConnectError::TimedOut)??
            }
        };
        let stop = cancel.child_token();
        let wind_down = CancellationToken::new();
        let ctx = SessionContext {
            channel_id: channel.id.clone(),
            config: SessionConfig::from(&self.cfg),
            events: self.events.clone(),
            notices,
            recent: self.recent.clone(),
            raw: self.raw.clone(),
            cancel: cancel.clone(),
            stop: stop.clone(),
            wind_down: wind_down.clone(),
        };
        // Created inside the worker's span, so session lines read `channel_worker{slot}:session{channel}`.
        let span = tracing::info_span!("session", channel = %channel.id);
        let handle = tokio::spawn(session::run(ws, ctx).instrument(span));
        Ok(Socket {
            handle,
            stop,
            wind_down,
        })
    }
}
