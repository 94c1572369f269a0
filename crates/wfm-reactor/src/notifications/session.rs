//! One websocket to one channel: frames → typed events, heartbeat watchdog, ping/pong.
//!
//! Written over a generic `Sink<Message> + Stream<Item = Result<Message, E>>` so the
//! protocol is unit-tested over in-memory channels with paused time. The session never
//! reconnects by itself: it returns *why* it ended and its owner (the channel worker)
//! decides between reconnecting, replacing the channel, or stopping.

use super::dedupe::RecentFrames;
use crate::genesys::notifications::PING_FRAME;
use crate::telemetry::upstream as tel;
use crate::topics::{Frame, Notification, SystemKind, UpstreamEvent, parse_frame};
use futures::{Sink, SinkExt, Stream, StreamExt};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::{Instant, sleep_until};
use tokio_tungstenite::tungstenite::Message;
use tokio_util::sync::CancellationToken;

/// Watchdog and size limits of a session.
#[derive(Debug, Clone, Copy)]
pub struct SessionConfig {
    /// No frame for this long → ping.
    pub heartbeat_timeout: Duration,
    /// No answer this long after the ping → the socket is dead.
    pub pong_timeout: Duration,
    /// Larger text frames are rejected unparsed.
    pub max_frame_bytes: usize,
    /// Once winding down, the socket closes after this long without a frame.
    pub drain_quiet: Duration,
}

/// How long a winding-down socket must be silent before it is closed: frames the server
/// sent before the old channel's subscriptions were removed are still in flight or in
/// the socket's buffer, and closing on the spot loses them (the week-long soak lost a
/// presence change that way at a token rollover).
pub const DRAIN_QUIET: Duration = Duration::from_millis(500);

impl From<&crate::config::NotificationsConfig> for SessionConfig {
    fn from(c: &crate::config::NotificationsConfig) -> Self {
        Self {
            heartbeat_timeout: c.heartbeat_timeout,
            pong_timeout: c.pong_timeout,
            max_frame_bytes: c.max_frame_bytes,
            drain_quiet: DRAIN_QUIET,
        }
    }
}

/// Why a session ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionEnd {
    /// Shutdown was requested.
    Cancelled,
    /// The server closed the socket or the stream ended/failed.
    Closed(String),
    /// `{"result":"404"}` or `token_revoked`: the channel is gone, make a new one.
    ChannelGone(String),
    /// Neither a frame nor a pong arrived in time.
    HeartbeatTimeout,
    /// The owner asked this session to stop (it was superseded by a newer socket).
    Superseded,
}

/// Things a running session tells its owner without ending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionNotice {
    /// `v2.system.socket_closing`: open a new socket now (make-before-break).
    SocketClosing,
}

/// A raw frame for `tap`.
#[derive(Debug, Clone)]
pub struct RawFrame {
    /// The channel it came on.
    pub channel_id: String,
    /// The text as received.
    pub text: String,
    /// True for heartbeats and pongs.
    pub heartbeat: bool,
}

/// Everything a session needs besides its socket.
#[derive(Clone)]
pub struct SessionContext {
    /// Channel id (for logs).
    pub channel_id: String,
    /// Limits.
    pub config: SessionConfig,
    /// Where typed events go.
    pub events: mpsc::Sender<UpstreamEvent>,
    /// Notices to the owner.
    pub notices: mpsc::UnboundedSender<SessionNotice>,
    /// Frames already delivered (shared across overlapping sockets).
    pub recent: Arc<Mutex<RecentFrames>>,
    /// Optional raw copy of every frame (tap).
    pub raw: Option<mpsc::Sender<RawFrame>>,
    /// Process shutdown.
    pub cancel: CancellationToken,
    /// Stop this session only (superseded): close now, unread frames are dropped.
    pub stop: CancellationToken,
    /// Superseded, but keep reading until the socket falls quiet
    /// ([`SessionConfig::drain_quiet`]), then close: nothing already sent is lost.
    pub wind_down: CancellationToken,
}

/// Runs the protocol on `socket` until it ends; never panics on bad input.
pub async fn run<S, E>(mut socket: S, ctx: SessionContext) -> SessionEnd
where
    S: Sink<Message> + Stream<Item = Result<Message, E>> + Unpin,
    E: std::fmt::Display,
{
    let cfg = ctx.config;
    let mut last_frame = Instant::now();
    let mut ping_sent: Option<Instant> = None;
    let mut winding_since: Option<Instant> = None;
    loop {
        let watchdog = match ping_sent {
            Some(t) => t + cfg.pong_timeout,
            None => last_frame + cfg.heartbeat_timeout,
        };
        let quiet_at = winding_since.map(|w| last_frame.max(w) + cfg.drain_quiet);
        let item = tokio::select! {
            biased;
            _ = ctx.cancel.cancelled() => { let _ = socket.close().await; return SessionEnd::Cancelled }
            _ = ctx.stop.cancelled() => { let _ = socket.close().await; return SessionEnd::Superseded }
            _ = ctx.wind_down.cancelled(), if winding_since.is_none() => {
                winding_since = Some(Instant::now());
                continue;
            }
            _ = sleep_until(quiet_at.unwrap_or(watchdog)), if quiet_at.is_some_and(|q| q < watchdog) => {
                let _ = socket.close().await;
                return SessionEnd::Superseded;
            }
            _ = sleep_until(watchdog) => {
                if ping_sent.is_some() {
                    let _ = socket.close().await;
                    return SessionEnd::HeartbeatTimeout;
                }
                tel::heartbeat_missed();
                if socket.send(Message::text(PING_FRAME)).await.is_err() {
                    return SessionEnd::Closed("ping could not be sent".into());
                }
                ping_sent = Some(Instant::now());
                continue;
            }
            item = socket.next() => item,
        };
        let msg = match item {
            None => return SessionEnd::Closed("stream ended".into()),
            Some(Err(e)) => return SessionEnd::Closed(e.to_string()),
            Some(Ok(m)) => m,
        };
        last_frame = Instant::now();
        ping_sent = None;
        let text = match msg {
            Message::Text(t) => t,
            Message::Close(frame) => {
                return SessionEnd::Closed(
                    frame.map_or_else(|| "close frame".into(), |f| format!("close {}", f.code)),
                );
            }
            Message::Binary(b) => {
                tel::frame_rejected("binary", &format!("{} bytes", b.len()));
                continue;
            }
            // Transport-level keep-alives: liveness only.
            Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => continue,
        };
        if text.len() > cfg.max_frame_bytes {
            tel::frame_rejected("oversized", &format!("{} bytes", text.len()));
            continue;
        }
        if let Some(end) = handle_text(text.as_str(), &ctx).await {
            let _ = socket.close().await;
            return end;
        }
    }
}

/// Handles one text frame; `Some` when the session must end.
async fn handle_text(text: &str, ctx: &SessionContext) -> Option<SessionEnd> {
    let frame = match parse_frame(text) {
        Ok(f) => f,
        Err(e) => {
            tel::frame_rejected(e.reason(), &e.to_string());
            return None;
        }
    };
    if let Some(raw) = &ctx.raw {
        let heartbeat = matches!(frame, Frame::Heartbeat | Frame::Pong);
        let _ = raw.try_send(RawFrame {
            channel_id: ctx.channel_id.clone(),
            text: text.to_string(),
            heartbeat,
        });
    }
    match frame {
        Frame::Heartbeat | Frame::Pong => None,
        Frame::Result { code, message } => {
            if code == "404" {
                return Some(SessionEnd::ChannelGone(
                    message.unwrap_or_else(|| "result 404".into()),
                ));
            }
            tracing::info!(code, message = ?message, "websocket result message");
            None
        }
        Frame::Notification { topic, notification } => {
            if let Notification::System(s) = &notification {
                match s.kind {
                    SystemKind::SocketClosing => {
                        let _ = ctx.notices.send(SessionNotice::SocketClosing);
                    }
                    SystemKind::TokenRevoked => return Some(SessionEnd::ChannelGone("token revoked".into())),
                    _ => {}
                }
            }
            // The same frame on two overlapping sockets/channels is delivered once.
            if !ctx.recent.lock().expect("dedupe lock").insert(text) {
                tel::frame_duplicate();
                return None;
            }
            tel::notification_received(notification.kind());
            let event = UpstreamEvent::Notification {
                notification,
                topic,
                received_at: Instant::now(),
            };
            tokio::select! {
                _ = ctx.cancel.cancelled() => Some(SessionEnd::Cancelled),
                r = ctx.events.send(event) => r.err().map(|_| SessionEnd::Cancelled),
            }
        }
    }
}
