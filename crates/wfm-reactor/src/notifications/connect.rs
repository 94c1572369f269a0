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
    pub fn resubscribe_at(&self, margin: Duration) -> Instant {
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
    /// Stops this session only.
    pub stop: CancellationToken,
}

/// Why an attempt to get a connected channel failed.
#[derive(Debug)]
pub struct Failure {
    /// Human text.
    pub message: String,
    /// Retrying cannot help (refused OAuth client).
    pub fatal: bool,
    /// The channel no longer exists: create a new one.
    pub channel_gone: bool,
    /// Server-requested wait.
    pub retry_after: Option<Duration>,
}

impl Failure {
    /// A transient failure.
    pub fn retry(message: String) -> Self {
        Self {
            message,
            fatal: false,
            channel_gone: false,
            retry_after: None,
        }
    }

    /// Marks the channel as gone when `gone`.
    pub fn gone_if(mut self, gone: bool) -> Self {
        self.channel_gone = gone;
        self
    }
}

impl From<ChannelError> for Failure {
    fn from(e: ChannelError) -> Self {
        Self {
            fatal: e.is_fatal(),
            channel_gone: e.is_not_found(),
            retry_after: e.retry_after(),
            message: e.to_string(),
        }
    }
}
