//! Channel liveness. A channel dies with the token that created it (revoked, or past its
//! lifetime) and after its own 24 h expiry. Genesys never tells the client beforehand, so
//! the simulator checks lazily on every access (REST, websocket connect, publish) and the
//! heartbeat tick pushes the death to connected sockets (`reap.rs`): no timer per channel
//! is needed.

use super::state::{ChannelState, Inner};
use chrono::{DateTime, Utc};
use tokio::time::Instant;

/// Why a channel died.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Death {
    /// Its token was revoked: the socket gets `v2.system.token_revoked.{id}` first.
    TokenRevoked,
    /// Its token outlived `expires_in` (or was never known).
    TokenExpired,
    /// The channel itself passed `expires` without a resubscription.
    ChannelExpired,
}

impl Death {
    /// Metric label.
    pub(crate) fn label(self) -> &'static str {
        match self {
            Death::TokenRevoked => "token_revoked",
            Death::TokenExpired => "token_expired",
            Death::ChannelExpired => "channel_expired",
        }
    }
}

/// Why `ch` is dead at (`now`, `wall`), or `None` while it lives.
pub(crate) fn death(inner: &Inner, ch: &ChannelState, now: Instant, wall: DateTime<Utc>) -> Option<Death> {
    if ch.bound {
        match inner.tokens.get(&ch.token) {
            Some(t) if t.revoked => return Some(Death::TokenRevoked),
            Some(t) if now >= t.expires_at => return Some(Death::TokenExpired),
            Some(_) => {}
            None => return Some(Death::TokenExpired),
        }
    }
    (ch.expires <= wall).then_some(Death::ChannelExpired)
}

/// Whether `ch` is alive right now (cheap: one map lookup when bound to its token).
pub(crate) fn alive(inner: &Inner, ch: &ChannelState) -> bool {
    death(inner, ch, Instant::now(), Utc::now()).is_none()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::SimConfig;
    use crate::org::{Org, monday_of};
    use crate::reap::reap;
    use crate::state::Shared;
    use crate::state::{Socket, TokenState};
    use std::time::Duration;

    /// A one-agent simulator state with token `t` (10 s lifetime) and one channel on it.
    fn state(now: Instant, bound: bool) -> Shared {
        let org = Org::generate(1, 1, 1, monday_of(Utc::now().date_naive()));
        let shared = Shared::new(SimConfig::default(), org, "127.0.0.1:1".parse().unwrap());
        {
            let mut inner = shared.lock();
            inner.tokens.insert(
                "t".into(),
                TokenState {
                    client: "sim-client".into(),
                    expires_at: now + Duration::from_secs(10),
                    revoked: false,
                    rate_window_start: now,
                    rate_count: 0,
                },
            );
            inner.channels.push(ChannelState {
                id: "c".into(),
                token: "t".into(),
                bound,
                topics: Vec::new(),
                expanded: Default::default(),
                expires: Utc::now() + chrono::Duration::hours(24),
                last_used: now,
                socket: None,
            });
        }
        shared
    }

    #[tokio::test(start_paused = true)]
    async fn bound_channel_dies_at_its_token_lifetime_and_on_revocation() {
        let now = Instant::now();
        let wall = Utc::now();
        let shared = state(now, true);
        let inner = shared.lock();
        let ch = &inner.channels[0];
        let just_before = now + Duration::from_millis(9_999);
        assert_eq!(death(&inner, ch, just_before, wall), None);
        let at = now + Duration::from_secs(10);
        assert_eq!(death(&inner, ch, at, wall), Some(Death::TokenExpired));
        let later = wall + chrono::Duration::hours(25);
        assert_eq!(death(&inner, ch, now, later), Some(Death::ChannelExpired));
        drop(inner);
        shared.lock().tokens.get_mut("t").unwrap().revoked = true;
        let inner = shared.lock();
        assert_eq!(
            death(&inner, &inner.channels[0], now, wall),
            Some(Death::TokenRevoked)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn unbound_channel_outlives_its_token_and_reap_notifies_the_socket() {
        let now = Instant::now();
        let shared = state(now, false);
        let late = now + Duration::from_secs(60);
        {
            let inner = shared.lock();
            assert_eq!(death(&inner, &inner.channels[0], late, Utc::now()), None);
        }
        let shared = state(now, true);
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let mut inner = shared.lock();
        inner.channels[0].socket = Some(Socket::new(1, tx));
        inner.tokens.get_mut("t").unwrap().revoked = true;
        assert_eq!(reap(&shared, &mut inner), 1);
        assert!(inner.channels.is_empty());
        let texts: Vec<String> = std::iter::from_fn(|| rx.try_recv().ok())
            .map(|o| match o {
                crate::state::Outbound::Text(t) => t.to_string(),
                crate::state::Outbound::Close => "CLOSE".into(),
            })
            .collect();
        assert_eq!(texts.len(), 3, "{texts:?}");
        assert!(texts[0].contains("v2.system.token_revoked.c"));
        assert!(texts[1].contains(r#""result":"404""#));
        assert_eq!(texts[2], "CLOSE");
    }
}
