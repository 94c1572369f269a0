//! OAuth client-credentials token provider: one token shared by every caller.
//!
//! Why single-flight: every REST call and every channel needs the token at once after
//! start or expiry; holding one async lock across the fetch means concurrent callers
//! wait for the one request in flight instead of each sending their own. The token is
//! refreshed at 80 % of its lifetime, so no request is ever sent with an expired one.

use crate::config::Secret;
use crate::genesys::oauth::{AuthErrorResponse, TokenResponse};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Mutex;
use tokio::time::Instant;

/// Fraction of `expires_in` after which a cached token is replaced.
const REFRESH_FRACTION: f64 = 0.8;
/// Timeout of one token request.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// A bearer token and when it stops being usable.
#[derive(Clone)]
pub struct AccessToken {
    value: Secret,
    /// When the token expires (tokio clock).
    pub expires_at: Instant,
    /// When the provider will stop handing it out and fetch a new one (80 % of lifetime).
    pub refresh_at: Instant,
    /// Increments with every token obtained, so a stale token can be recognised after a 401.
    pub generation: u64,
}

impl AccessToken {
    /// The raw token for an `Authorization: Bearer` header.
    pub fn bearer(&self) -> &str {
        self.value.expose()
    }
}

impl std::fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessToken")
            .field("value", &self.value)
            .field("generation", &self.generation)
            .finish()
    }
}

/// Why no token could be obtained.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// The OAuth client id/secret were refused (fatal: configuration).
    #[error(
        "OAuth client {client_id:?} was refused (invalid_client): check genesys.client_id / client_secret"
    )]
    InvalidClient {
        /// The client id that was refused.
        client_id: String,
    },
    /// Could not reach the login host, or the answer broke off.
    #[error("token request failed: {0}")]
    Transport(#[source] reqwest::Error),
    /// Any other answer.
    #[error("token request answered {status}: {body}")]
    Unexpected {
        /// HTTP status.
        status: u16,
        /// Response body (never contains our secret).
        body: String,
    },
}

impl AuthError {
    /// True when retrying cannot help (wrong credentials).
    pub fn is_fatal(&self) -> bool {
        matches!(self, AuthError::InvalidClient { .. })
    }
}

struct Inner {
    token_url: String,
    client_id: String,
    client_secret: Secret,
    http: reqwest::Client,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    current: Option<AccessToken>,
    generation: u64,
}

/// Cheap-to-clone handle to the shared token.
#[derive(Clone)]
pub struct TokenProvider {
    inner: Arc<Inner>,
}

impl TokenProvider {
    /// A provider for `login_base` (e.g. `https://login.mypurecloud.com`).
    pub fn new(login_base: String, client_id: String, client_secret: Secret, http: reqwest::Client) -> Self {
        let token_url = format!("{}/oauth/token", login_base.trim_end_matches('/'));
        Self {
            inner: Arc::new(Inner {
                token_url,
                client_id,
                client_secret,
                http,
                state: Mutex::new(State::default()),
            }),
        }
    }

    /// The OAuth client id (for error messages; never the secret).
    pub fn client_id(&self) -> &str {
        &self.inner.client_id
    }

    /// A valid token: cached, refreshed before expiry, single-flight.
    pub async fn token(&self) -> Result<AccessToken, AuthError> {
        let mut state = self.inner.state.lock().await;
        let now = Instant::now();
        if let Some(t) = &state.current
            && now < t.refresh_at
        {
            return Ok(t.clone());
        }
        match self.fetch(state.generation + 1).await {
            Ok(t) => {
                state.generation = t.generation;
                state.current = Some(t.clone());
                crate::telemetry::upstream::token_obtained(&self.inner.client_id, t.generation);
                Ok(t)
            }
            Err(e) => {
                crate::telemetry::upstream::token_failed(&self.inner.client_id, &e);
                // A refresh that fails while the old token still has life left is not an
                // outage: keep serving the old one (callers retry the refresh later).
                match &state.current {
                    Some(t) if !e.is_fatal() && Instant::now() + Duration::from_secs(5) < t.expires_at => {
                        Ok(t.clone())
                    }
                    _ => Err(e),
                }
            }
        }
    }

    /// The cached token without fetching (None before the first success or after invalidate).
    pub async fn cached(&self) -> Option<AccessToken> {
        self.inner.state.lock().await.current.clone()
    }

    /// After a 401 with `stale`: the next `token()` fetches a new one (unless already done).
    pub async fn invalidate(&self, stale: &AccessToken) {
        let mut state = self.inner.state.lock().await;
        if state
            .current
            .as_ref()
            .is_some_and(|c| c.generation == stale.generation)
        {
            state.current = None;
        }
    }

    async fn fetch(&self, generation: u64) -> Result<AccessToken, AuthError> {
        let inner = &self.inner;
        let sent_at = Instant::now();
        let response = inner
            .http
            .post(&inner.token_url)
            .basic_auth(&inner.client_id, Some(inner.client_secret.expose()))
            .form(&[("grant_type", "client_credentials")])
            .timeout(REQUEST_TIMEOUT)
            .send()
            .await
            .map_err(|e| AuthError::Transport(e.without_url()))?;
        let status = response.status();
        let body = match crate::bounds::read_capped("oauth.token", response, crate::bounds::body::TOKEN_BODY)
            .await
        {
            Ok(b) => String::from_utf8_lossy(&b).into_owned(),
            Err(crate::bounds::BodyError::Transport { source, .. }) => {
                return Err(AuthError::Transport(source));
            }
            Err(e) => {
                return Err(AuthError::Unexpected {
                    status: status.as_u16(),
                    body: e.to_string(),
                });
            }
        };
        if !status.is_success() {
            let parsed: AuthErrorResponse = serde_json::from_str(&body).unwrap_or_default();
            if parsed.error.as_deref() == Some("invalid_client") {
                return Err(AuthError::InvalidClient {
                    client_id: inner.client_id.clone(),
                });
            }
            return Err(AuthError::Unexpected {
                status: status.as_u16(),
                body: truncate(&body, 500),
            });
        }
        let parsed: TokenResponse = serde_json::from_str(&body).map_err(|e| AuthError::Unexpected {
            status: status.as_u16(),
            body: format!("unparseable token response: {e}"),
        })?;
        if parsed.access_token.is_empty() || !parsed.token_type.eq_ignore_ascii_case("bearer") {
            return Err(AuthError::Unexpected {
                status: status.as_u16(),
                body: format!(
                    "token response without a bearer token (token_type {:?})",
                    parsed.token_type
                ),
            });
        }
        // Lifetime counted from when the request was sent, so network latency only
        // makes us refresh earlier, never later.
        let lifetime = crate::bounds::token_lifetime(parsed.expires_in);
        Ok(AccessToken {
            value: Secret::new(parsed.access_token),
            expires_at: crate::bounds::after(sent_at, lifetime),
            refresh_at: crate::bounds::after(sent_at, lifetime.mul_f64(REFRESH_FRACTION)),
            generation,
        })
    }
}

fn truncate(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}
