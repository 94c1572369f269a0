//! The pieces a worker juggles: a live channel, a running socket, a failed attempt.

use super::channel::ChannelError;
use super::session::SessionEnd;
use crate::auth::AccessToken;
use crate::genesys::notifications::Channel;
use std::collections::BTreeSet;
use std::time::Duration;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// Channel lifetime assumed when the server does not say (platform default: 24 h).
const DEFAULT_LIFETIME: Duration = Duration::from_secs(24 * 3600);

/// A created and subscribed channel.
pub struct Live {
    /// The channel as created.
    pub channel: Channel,
    /// The token it was created with (it dies with it).
    pub token: AccessToken,
    /// Topics subscribed on it.
    pub subscribed: BTreeSet<String>,
    /// When it dies unless resubscribed (tokio clock).
    pub expires_at: Instant,
    /// How long a (re)subscription keeps it alive.
    pub lifetime: Duration,
}

impl Live {
    /// A live channel; the lifetime is read from `expires` relative to now.
    pub fn new(channel: Channel, token: AccessToken, subscribed: BTreeSet<String>) -> Self {
        let lifetime = channel
            .expires
            .and_then(|e| (e - chrono::Utc::now()).to_std().ok())
            .filter(|d| !d.is_zero())
            // a channel lives 24 h at most: a far-future `expires` is upstream nonsense
            .map(|d| d.min(DEFAULT_LIFETIME))
            .unwrap_or(DEFAULT_LIFETIME);
        Self {
            channel,
            token,
            subscribed,
            expires_at: Instant::now() + lifetime,
            lifetime,
        }
    }

    /// When to resubscribe: `margin` before expiry, but never earlier than half the
    /// lifetime (a short-lived channel must not be resubscribed in a loop).
    pub(crate) fn resubscribe_at(&self, margin: Duration) -> Instant {
        self.expires_at - margin.min(self.lifetime / 2)
    }

    /// A resubscription pushed the expiry forward by one lifetime.
    pub fn extend(&mut self) {
        self.expires_at = Instant::now() + self.lifetime;
    }
}

/// A running session task.
pub struct Socket {
    /// Resolves with why the session ended.
    pub handle: JoinHandle<SessionEnd>,
    /// Stops this session only, at once.
    pub stop: CancellationToken,
    /// Stops this session once its socket has fallen quiet (nothing sent is lost).
    pub wind_down: CancellationToken,
}

/// Why a websocket could not be opened to a channel.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// Shutdown began while connecting.
    #[error("cancelled")]
    Cancelled,
    /// The handshake took longer than 30 s.
    #[error("websocket connect timed out")]
    TimedOut,
    /// The handshake failed.
    #[error(transparent)]
    Websocket(#[from] tokio_tungstenite::tungstenite::Error),
}

/// Why an attempt to get a connected channel failed: what the worker does next.
#[derive(Debug)]
pub enum Failure {
    /// Retrying cannot help (refused OAuth client): report and stop.
    Fatal {
        /// Human text.
        message: String,
    },
    /// The channel no longer exists: forget it, create a new one after the backoff.
    ChannelGone {
        /// Human text.
        message: String,
        /// Server-requested wait.
        retry_after: Option<Duration>,
    },
    /// A transient failure: retry after the backoff.
    Retry {
        /// Human text.
        message: String,
        /// Server-requested wait.
        retry_after: Option<Duration>,
    },
}

impl Failure {
    /// A transient failure.
    pub fn retry(message: String) -> Self {
        Failure::Retry {
            message,
            retry_after: None,
        }
    }

    /// A transient failure, or the channel is gone when `gone`.
    pub fn lost(message: String, gone: bool) -> Self {
        if gone {
            Failure::ChannelGone {
                message,
                retry_after: None,
            }
        } else {
            Failure::retry(message)
        }
    }

    /// Human text.
    pub fn message(&self) -> &str {
        match self {
            Failure::Fatal { message }
            | Failure::ChannelGone { message, .. }
            | Failure::Retry { message, .. } => message,
        }
    }

    /// Server-requested wait, if any.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Failure::Fatal { .. } => None,
            Failure::ChannelGone { retry_after, .. } | Failure::Retry { retry_after, .. } => *retry_after,
        }
    }
}

impl From<ChannelError> for Failure {
    fn from(e: ChannelError) -> Self {
        let message = e.to_string();
        if e.is_fatal() {
            Failure::Fatal { message }
        } else if e.is_not_found() {
            Failure::ChannelGone {
                message,
                retry_after: e.retry_after(),
            }
        } else {
            Failure::Retry {
                message,
                retry_after: e.retry_after(),
            }
        }
    }
}
