//! The WFM (and presence) REST client: typed calls, one rate budget per OAuth client, retries,
//! and the three delivery modes of agent-schedule queries.
//!
//! Every call goes through [`RateBudget`] (token bucket + concurrency + global 429
//! pause) and the retry loop in `http`: 429 → pause that client's budget (the platform
//! limit is per token; other clients' lanes go on) for `Retry-After`, then
//! retry; 5xx/transport → jittered backoff, bounded attempts; 401 → invalidate the token,
//! retry once; 403 → [`WfmError::Forbidden`] naming the permission; 404 →
//! [`WfmError::NotFound`]. Metrics use route templates (`agentschedules.query`), never ids.

mod budget;
mod codes;
mod download;
mod error;
#[doc(hidden)]
pub mod fuzzing;
mod http;
mod routes;
mod streamed;

pub use budget::{Permit, RateBudget};
pub use download::{DEFAULT_MAX_DOWNLOAD_BYTES, DecodeError, is_gzip, parse_download};
pub use error::{WfmError, documented_permission, forbidden_permission};
pub(crate) use routes::seg;
pub use routes::{BULK_PRESENCE_MAX, Weeks, week_id};

use crate::auth::{AccessToken, TokenProvider};
use crate::backoff::BackoffPolicy;
use crate::diff::ActivityCodeInfo;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// One business unit's activity codes: `{id → {name, category}}`, shared read-only.
pub type ActivityCodes = Arc<HashMap<String, ActivityCodeInfo>>;

/// Where the bearer token comes from.
#[derive(Clone)]
pub enum Credentials {
    /// The shared OAuth token provider (the daemon).
    Provider(TokenProvider),
    /// A fixed bearer token (tests, `tap`-style tools); a 401 cannot be recovered.
    Static(String),
}

/// Tuning of the client (defaults follow `[fetch]`).
#[derive(Debug, Clone)]
pub struct ClientSettings {
    /// Per-request timeout.
    pub request_timeout: Duration,
    /// Backoff for 5xx and transport failures.
    pub retry: BackoffPolicy,
    /// Attempts per call for 5xx/transport failures (first try included).
    pub max_attempts: u32,
    /// Attempts per call for 429s (each preceded by the budget pause).
    pub max_rate_limited_attempts: u32,
    /// `[fetch] max_download_bytes`: largest decoded `downloadUrl` body.
    pub max_download_bytes: u64,
}

impl Default for ClientSettings {
    fn default() -> Self {
        Self {
            request_timeout: Duration::from_secs(30),
            retry: BackoffPolicy::try_new(Duration::from_millis(500), Duration::from_secs(30), 2.0)
                .expect("valid constant"),
            max_attempts: 4,
            max_rate_limited_attempts: 8,
            max_download_bytes: download::DEFAULT_MAX_DOWNLOAD_BYTES,
        }
    }
}

/// Cheap-to-clone typed client for the WFM and presence routes.
#[derive(Clone)]
pub struct WfmClient {
    http: reqwest::Client,
    /// For pre-signed downloads (see `streamed::download_client`).
    download_http: reqwest::Client,
    base: String,
    credentials: Credentials,
    budget: RateBudget,
    /// Further OAuth clients' credentials and budgets (`[[genesys.clients]]`): calls are
    /// spread round-robin over every lane whose budget is not paused by a 429.
    more: Arc<[(Credentials, RateBudget)]>,
    next_lane: Arc<AtomicUsize>,
    settings: ClientSettings,
    /// Activity codes per business unit: `{id → {name, category}}`.
    codes: codes::CodesCache,
}

impl WfmClient {
    /// A client for `api_base` (e.g. `https://api.mypurecloud.com`, no trailing slash).
    pub fn new(
        api_base: &str,
        credentials: Credentials,
        budget: RateBudget,
        settings: ClientSettings,
    ) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .timeout(settings.request_timeout)
            .user_agent(concat!("wfm-reactor/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self {
            http,
            download_http: streamed::download_client(settings.request_timeout)?,
            base: api_base.trim_end_matches('/').to_string(),
            credentials,
            budget,
            more: Arc::from(Vec::new()),
            next_lane: Arc::new(AtomicUsize::new(0)),
            settings,
            codes: codes::CodesCache::default(),
        })
    }

    /// Spreads calls over these further clients' credentials and budgets as well.
    pub fn with_lanes(mut self, more: Vec<(Credentials, RateBudget)>) -> Self {
        self.more = Arc::from(more);
        self
    }

    /// The lane of the next call: round-robin, skipping lanes paused by a 429 while any
    /// lane is not paused (lane 0 is the first client).
    pub(crate) fn pick_lane(&self) -> usize {
        let n = self.more.len() + 1;
        let start = self.next_lane.fetch_add(1, Ordering::Relaxed);
        (0..n)
            .map(|k| (start + k) % n)
            .find(|&i| self.lane(i).1.paused_until().is_none())
            .unwrap_or(start % n)
    }

    /// Credentials and budget of lane `i`.
    pub(crate) fn lane(&self, i: usize) -> (&Credentials, &RateBudget) {
        match i.checked_sub(1).and_then(|j| self.more.get(j)) {
            Some((c, b)) => (c, b),
            None => (&self.credentials, &self.budget),
        }
    }

    /// The shared rate budget (other REST users, e.g. notifications, share it).
    pub fn budget(&self) -> &RateBudget {
        &self.budget
    }

    async fn bearer(&self, lane: usize) -> Result<(String, Option<AccessToken>), WfmError> {
        match self.lane(lane).0 {
            Credentials::Static(t) => Ok((t.clone(), None)),
            Credentials::Provider(p) => {
                let t = p.token().await?;
                Ok((t.bearer().to_string(), Some(t)))
            }
        }
    }

    async fn invalidate(&self, lane: usize, stale: Option<&AccessToken>) {
        if let (Credentials::Provider(p), Some(t)) = (self.lane(lane).0, stale) {
            p.invalidate(t).await;
        }
    }
}
