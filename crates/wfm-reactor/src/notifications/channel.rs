//! The notifications REST API: create channels, check them, subscribe topics.
//!
//! Every call takes the shared token, and on a 401 invalidates it and retries once
//! (a token can be revoked or expire early server-side). Subscriptions first try
//! `ignoreErrors=false`; a 403 is retried with `ignoreErrors=true` so the answer says
//! which topic lacks which permission while the other topics are still subscribed.
//!
//! Rate budget: the platform's limit is per token and the WFM client shares this token,
//! so with a [`RateBudget`] attached every call here spends one of its tokens (no
//! concurrency slot: a channel call must not queue behind slow schedule downloads), a
//! 429 here pauses the whole budget, and every call waits out a pause set by anyone. A
//! 20-channel start is ~40 calls, well inside the default burst of 60.

use crate::auth::{AccessToken, AuthError, TokenProvider};
use crate::genesys::notifications::{Channel, ChannelTopic, ChannelTopicEntityListing};
use crate::wfm::{RateBudget, seg};
use reqwest::{Method, StatusCode};
use serde::Serialize;
use std::time::Duration;

const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Budget pause after a 429 that named no `Retry-After`.
const DEFAULT_429_PAUSE: Duration = Duration::from_secs(1);

/// A REST failure of the notifications API.
#[derive(Debug, thiserror::Error)]
pub enum ChannelError {
    /// No token (fatal when the client is refused).
    #[error(transparent)]
    Auth(#[from] AuthError),
    /// Network error.
    #[error("{route}: {message}")]
    Transport {
        /// Which call.
        route: &'static str,
        /// What failed.
        message: String,
    },
    /// Unexpected status.
    #[error("{route} answered {status}: {body}")]
    Status {
        /// Which call.
        route: &'static str,
        /// HTTP status.
        status: u16,
        /// Body (truncated).
        body: String,
        /// `Retry-After`, if sent.
        retry_after: Option<Duration>,
    },
}

impl ChannelError {
    /// True when retrying cannot help.
    pub fn is_fatal(&self) -> bool {
        matches!(self, ChannelError::Auth(e) if e.is_fatal())
    }

    /// True when the channel does not exist any more.
    pub(crate) fn is_not_found(&self) -> bool {
        matches!(self, ChannelError::Status { status: 404, .. })
    }

    /// Server-requested wait.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            ChannelError::Status { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

/// A topic the server refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RejectedTopic {
    /// Topic as requested.
    pub topic: String,
    /// Server's reason.
    pub reason: Option<String>,
    /// Permissions the OAuth client lacks.
    pub missing_permissions: Vec<String>,
}

/// Add to or replace a channel's subscriptions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubscribeMode {
    /// POST: adds.
    Add,
    /// PUT: replaces the whole list.
    Replace,
}

/// Notifications REST client.
#[derive(Clone)]
pub struct ChannelClient {
    api_base: String,
    tokens: TokenProvider,
    http: reqwest::Client,
    budget: Option<RateBudget>,
}

impl ChannelClient {
    /// A client for `api_base` (e.g. `https://api.mypurecloud.com`).
    pub fn new(api_base: String, tokens: TokenProvider, http: reqwest::Client) -> Self {
        Self {
            api_base: api_base.trim_end_matches('/').to_string(),
            tokens,
            http,
            budget: None,
        }
    }

    /// Spends `budget`'s tokens and shares its 429 pauses (see the module docs).
    pub fn with_budget(mut self, budget: RateBudget) -> Self {
        self.budget = Some(budget);
        self
    }

    /// Waits out a running budget pause (a 429 seen by any caller) and takes a token.
    async fn spend_budget(&self) {
        if let Some(budget) = &self.budget {
            budget.acquire_token().await;
        }
    }

    /// The token provider.
    pub fn tokens(&self) -> &TokenProvider {
        &self.tokens
    }

    /// Creates a channel; also returns the token it is bound to (it dies with it).
    pub async fn create(&self) -> Result<(Channel, AccessToken), ChannelError> {
        let route = "notifications.channels.create";
        let (status, body, token, retry_after) = self
            .send(route, Method::POST, "/api/v2/notifications/channels", None)
            .await?;
        if !status.is_success() {
            return Err(status_error(route, status, body, retry_after));
        }
        let channel: Channel = serde_json::from_str(&body).map_err(|e| ChannelError::Transport {
            route,
            message: format!("unparseable channel: {e}"),
        })?;
        if channel.id.is_empty() || channel.connect_uri.is_empty() {
            return Err(ChannelError::Transport {
                route,
                message: "channel without id or connectUri".into(),
            });
        }
        Ok((channel, token))
    }

    /// `HEAD /channels/{id}`: false on 404.
    pub async fn exists(&self, id: &str) -> Result<bool, ChannelError> {
        let route = "notifications.channels.head";
        let path = format!("/api/v2/notifications/channels/{}", seg(id));
        let (status, body, _, retry_after) = self.send(route, Method::HEAD, &path, None).await?;
        match status {
            s if s.is_success() => Ok(true),
            StatusCode::NOT_FOUND => Ok(false),
            s => Err(status_error(route, s, body, retry_after)),
        }
    }

    /// Subscribes `topics`; returns the ones refused (the rest are subscribed).
    pub async fn subscribe(
        &self,
        id: &str,
        topics: &[String],
        mode: SubscribeMode,
    ) -> Result<Vec<RejectedTopic>, ChannelError> {
        self.subscribe_with(id, topics, mode, false).await
    }

    /// As [`ChannelClient::subscribe`] but straight away with `ignoreErrors=true`: for
    /// topics expected to be partly refused (the parts of a rejected combined topic),
    /// where the strict first attempt would only cost a 403.
    pub async fn subscribe_lenient(
        &self,
        id: &str,
        topics: &[String],
        mode: SubscribeMode,
    ) -> Result<Vec<RejectedTopic>, ChannelError> {
        self.subscribe_with(id, topics, mode, true).await
    }

    async fn subscribe_with(
        &self,
        id: &str,
        topics: &[String],
        mode: SubscribeMode,
        lenient: bool,
    ) -> Result<Vec<RejectedTopic>, ChannelError> {
        let (method, route) = match mode {
            SubscribeMode::Add => (Method::POST, "notifications.subscriptions.add"),
            SubscribeMode::Replace => (Method::PUT, "notifications.subscriptions.replace"),
        };
        let body: Vec<ChannelTopic> = topics.iter().map(|t| ChannelTopic::request(t)).collect();
        let json = serde_json::to_string(&body).expect("topics serialize");
        let attempt = |ignore: bool| {
            let path = format!(
                "/api/v2/notifications/channels/{}/subscriptions?ignoreErrors={ignore}",
                seg(id)
            );
            let method = method.clone();
            let json = json.clone();
            async move { self.send(route, method, &path, Some(json)).await }
        };
        let (mut status, mut text, _, mut retry_after) = attempt(lenient).await?;
        if status == StatusCode::FORBIDDEN && !lenient {
            (status, text, _, retry_after) = attempt(true).await?;
        }
        if !status.is_success() {
            return Err(status_error(route, status, text, retry_after));
        }
        let listing: ChannelTopicEntityListing = serde_json::from_str(&text).unwrap_or_default();
        Ok(listing
            .entities
            .into_iter()
            .filter(ChannelTopic::is_rejected)
            .map(|t| RejectedTopic {
                topic: t.id,
                reason: t.rejection_reason,
                missing_permissions: t.missing_permissions,
            })
            .collect())
    }

    /// Removes every subscription of the channel (shutdown).
    pub async fn unsubscribe_all(&self, id: &str) -> Result<(), ChannelError> {
        let route = "notifications.subscriptions.delete";
        let path = format!("/api/v2/notifications/channels/{}/subscriptions", seg(id));
        let (status, body, _, retry_after) = self.send(route, Method::DELETE, &path, None).await?;
        if status.is_success() || status == StatusCode::NOT_FOUND {
            Ok(())
        } else {
            Err(status_error(route, status, body, retry_after))
        }
    }

    /// Sends with the shared token; on 401 invalidates it and retries once.
    async fn send(
        &self,
        route: &'static str,
        method: Method,
        path: &str,
        json: Option<String>,
    ) -> Result<(StatusCode, String, AccessToken, Option<Duration>), ChannelError> {
        let url = format!("{}{}", self.api_base, path);
        for attempt in 0..2 {
            self.spend_budget().await;
            let token = self.tokens.token().await?;
            let mut req = self
                .http
                .request(method.clone(), &url)
                .bearer_auth(token.bearer())
                .timeout(REQUEST_TIMEOUT);
            if let Some(j) = &json {
                req = req.header("content-type", "application/json").body(j.clone());
            }
            let resp = req.send().await.map_err(|e| ChannelError::Transport {
                route,
                message: e.without_url().to_string(),
            })?;
            let status = resp.status();
            crate::telemetry::rest::answered(route, status.as_u16());
            let retry_after = crate::bounds::retry_after(route, resp.headers());
            if status == StatusCode::TOO_MANY_REQUESTS
                && let Some(budget) = &self.budget
            {
                budget.pause_for(retry_after.unwrap_or(DEFAULT_429_PAUSE));
            }
            let body = match crate::bounds::read_capped(route, resp, crate::bounds::body::CHANNEL_BODY).await
            {
                Ok(b) => String::from_utf8_lossy(&b).into_owned(),
                Err(e) => {
                    return Err(ChannelError::Transport {
                        route,
                        message: e.to_string(),
                    });
                }
            };
            if status == StatusCode::UNAUTHORIZED && attempt == 0 {
                tracing::warn!(route, "401 from notifications API, refreshing token once");
                self.tokens.invalidate(&token).await;
                continue;
            }
            return Ok((status, body, token, retry_after));
        }
        unreachable!("the loop returns on its second attempt")
    }
}

fn status_error(
    route: &'static str,
    status: StatusCode,
    body: String,
    retry_after: Option<Duration>,
) -> ChannelError {
    let body: String = body.chars().take(500).collect();
    ChannelError::Status {
        route,
        status: status.as_u16(),
        body,
        retry_after,
    }
}
