//! OAuth client-credentials token provider: one token shared by every caller.
//!
//! PLACEHOLDER SIGNATURES: the upstream issue implements these bodies; the REST client
//! (reactor issue) is written against exactly this API.

use crate::config::Secret;
use tokio::time::Instant;

/// A bearer token and when it stops being usable.
#[derive(Clone)]
pub struct AccessToken {
    value: Secret,
    /// When the token expires (tokio clock).
    pub expires_at: Instant,
    /// Increments with every token obtained, so a stale token can be recognised after a 401.
    pub generation: u64,
}

impl AccessToken {
    /// The raw token for an `Authorization: Bearer` header.
    pub fn bearer(&self) -> &str {
        self.value.expose()
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
    /// Could not reach the login host.
    #[error("token request failed: {0}")]
    Transport(String),
    /// Any other answer.
    #[error("token request answered {status}: {body}")]
    Unexpected {
        /// HTTP status.
        status: u16,
        /// Response body (never contains our secret).
        body: String,
    },
}

/// Cheap-to-clone handle to the shared token.
#[derive(Clone)]
pub struct TokenProvider {}

impl TokenProvider {
    /// A provider for `login_base` (e.g. `https://login.mypurecloud.com`).
    pub fn new(
        _login_base: String,
        _client_id: String,
        _client_secret: Secret,
        _http: reqwest::Client,
    ) -> Self {
        todo!("upstream issue")
    }

    /// A valid token: cached, refreshed before expiry, single-flight.
    pub async fn token(&self) -> Result<AccessToken, AuthError> {
        todo!("upstream issue")
    }

    /// After a 401 with `stale`: the next `token()` fetches a new one (unless already done).
    pub async fn invalidate(&self, _stale: &AccessToken) {
        todo!("upstream issue")
    }
}
