//! The retry loop every REST call goes through: budget, token, send, classify, retry.

use super::{WfmClient, WfmError, forbidden_permission};
use crate::telemetry::rest as tele;
use reqwest::{Method, StatusCode, header};
use serde::de::DeserializeOwned;
use std::time::Duration;
use tokio::time::{Instant, sleep};

/// How much of an error body is kept in [`WfmError::Http`].
const MAX_ERROR_BODY: usize = 2000;

/// `Retry-After` in seconds (the form Genesys sends); HTTP-date forms are not used by
/// the platform and fall back to the backoff delay.
pub(crate) fn retry_after(headers: &header::HeaderMap) -> Option<Duration> {
    let v = headers.get(header::RETRY_AFTER)?.to_str().ok()?.trim();
    let secs: f64 = v.parse().ok()?;
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs))
}

fn truncate(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    text.chars().take(MAX_ERROR_BODY).collect()
}

/// A request to send: `bearer = false` for pre-signed download URLs, which must not
/// see the Genesys token.
pub(crate) struct Call<'a> {
    pub route: &'static str,
    pub method: Method,
    pub url: String,
    pub body: Option<&'a serde_json::Value>,
    pub bearer: bool,
}

/// A status line, its headers and the whole body.
type Answer = (StatusCode, header::HeaderMap, bytes::Bytes);

/// Where a call stands across its attempts.
struct Attempts {
    backoff: crate::backoff::Backoff,
    /// Transport failures and retryable 5xx so far.
    failures: u32,
    /// 429s so far.
    limited: u32,
    /// Whether the token was already invalidated once after a 401.
    reauthed: bool,
}

/// What a failed attempt means for the loop.
enum Verdict {
    /// Send again now (after a 429 the budget itself holds the next attempt back).
    Again,
    /// Send again after this delay.
    After(Duration),
    /// Give up with this error.
    Fail(WfmError),
}

impl WfmClient {
    /// Sends `call` with the budget and retry rules; the 2xx body.
    pub(crate) async fn send(&self, call: Call<'_>) -> Result<bytes::Bytes, WfmError> {
        let mut at = Attempts {
            backoff: self.settings.retry.start(),
            failures: 0,
            limited: 0,
            reauthed: false,
        };
        loop {
            let (answer, token) = self.attempt(&call).await?;
            let verdict = match answer {
                Err(e) => self.transport_failed(call.route, e, &mut at),
                Ok((status, _, body)) if status.is_success() => return Ok(body),
                Ok((status, headers, body)) => {
                    self.refused(&call, (status, headers, body), token.as_ref(), &mut at)
                        .await
                }
            };
            match verdict {
                Verdict::Again => {}
                Verdict::After(d) => sleep(d).await,
                Verdict::Fail(e) => return Err(e),
            }
        }
    }

    /// One attempt: a budget permit, the bearer (when `call.bearer`), the request and its
    /// whole body, counted by status. Also returns the token used (to invalidate on 401).
    async fn attempt(
        &self,
        call: &Call<'_>,
    ) -> Result<(Result<Answer, reqwest::Error>, Option<crate::auth::AccessToken>), WfmError> {
        let permit = if call.bearer {
            self.budget.acquire().await
        } else {
            self.budget.acquire_unmetered().await
        };
        let mut req = self.http.request(call.method.clone(), &call.url);
        let mut token = None;
        if call.bearer {
            let (bearer, t) = self.bearer().await?;
            req = req.bearer_auth(bearer);
            token = t;
        }
        if let Some(b) = call.body {
            req = req.json(b);
        }
        let started = Instant::now();
        let answer = match req.send().await {
            Ok(resp) => {
                let status = resp.status();
                let headers = resp.headers().clone();
                resp.bytes().await.map(|b| (status, headers, b))
            }
            Err(e) => Err(e),
        };
        drop(permit);
        let status = answer.as_ref().map_or("error", |(s, _, _)| s.as_str());
        tele::request_done(call.route, status, started.elapsed());
        Ok((answer, token))
    }

    /// No answer: retried with backoff up to `max_attempts`.
    fn transport_failed(&self, route: &'static str, e: reqwest::Error, at: &mut Attempts) -> Verdict {
        at.failures += 1;
        if at.failures >= self.settings.max_attempts {
            // reqwest quotes the URL, and a download URL is pre-signed (its query is a
            // credential): the error shows it redacted.
            return Verdict::Fail(WfmError::Transport {
                route,
                message: crate::redact::text(&e.to_string()),
            });
        }
        let d = at.backoff.next_delay();
        tele::retrying(route, "transport", at.failures, d);
        Verdict::After(d)
    }

    /// A non-2xx answer: 429 pauses the budget, one 401 re-authenticates, 5xx retries,
    /// everything else is the caller's error.
    async fn refused(
        &self,
        call: &Call<'_>,
        (status, headers, body): Answer,
        token: Option<&crate::auth::AccessToken>,
        at: &mut Attempts,
    ) -> Verdict {
        let route = call.route;
        let http = |s: StatusCode| {
            Verdict::Fail(WfmError::Http {
                route,
                status: s.as_u16(),
                body: truncate(&body),
            })
        };
        match status {
            StatusCode::TOO_MANY_REQUESTS => {
                at.limited += 1;
                let after = retry_after(&headers);
                // exactly Retry-After when given (never sooner), else our own backoff;
                // the whole budget waits, even when this call gives up below
                let pause = after.unwrap_or_else(|| at.backoff.next_delay());
                tele::rate_limited(route, pause);
                self.budget.pause_for(pause);
                if at.limited >= self.settings.max_rate_limited_attempts {
                    return Verdict::Fail(WfmError::RateLimited {
                        route,
                        retry_after: after,
                    });
                }
                Verdict::Again
            }
            // a pre-signed download URL that expired or vanished says nothing about
            // our permissions or the entity: a plain error, the caller fetches again
            s if !call.bearer && (s == StatusCode::FORBIDDEN || s == StatusCode::NOT_FOUND) => http(s),
            StatusCode::UNAUTHORIZED if !at.reauthed && token.is_some() => {
                at.reauthed = true;
                tracing::warn!(route, "401: invalidating the token and retrying once");
                self.invalidate(token).await;
                Verdict::Again
            }
            StatusCode::UNAUTHORIZED => Verdict::Fail(WfmError::Unauthorized { route }),
            StatusCode::FORBIDDEN => {
                let permission = forbidden_permission(route, &body);
                tracing::warn!(route, permission = %permission, "403: missing permission");
                Verdict::Fail(WfmError::Forbidden { permission, route })
            }
            StatusCode::NOT_FOUND => Verdict::Fail(WfmError::NotFound { route }),
            s if s.is_server_error() && s != StatusCode::NOT_IMPLEMENTED => {
                at.failures += 1;
                if at.failures >= self.settings.max_attempts {
                    return http(s);
                }
                let d = at.backoff.next_delay_at_least(retry_after(&headers));
                tele::retrying(route, s.as_str(), at.failures, d);
                Verdict::After(d)
            }
            s => http(s),
        }
    }

    /// GET an API path (with the bearer) and parse it.
    pub(crate) async fn get_json<T: DeserializeOwned>(
        &self,
        route: &'static str,
        path: &str,
    ) -> Result<T, WfmError> {
        let body = self
            .send(Call {
                route,
                method: Method::GET,
                url: format!("{}{}", self.base, path),
                body: None,
                bearer: true,
            })
            .await?;
        parse(route, &body)
    }

    /// POST JSON to an API path and parse the answer.
    pub(crate) async fn post_json<T: DeserializeOwned>(
        &self,
        route: &'static str,
        path: &str,
        body: &serde_json::Value,
    ) -> Result<T, WfmError> {
        let answer = self
            .send(Call {
                route,
                method: Method::POST,
                url: format!("{}{}", self.base, path),
                body: Some(body),
                bearer: true,
            })
            .await?;
        parse(route, &answer)
    }

    /// GET a pre-signed download URL (no bearer) and parse the possibly gzipped JSON.
    pub(crate) async fn download_json<T: DeserializeOwned>(
        &self,
        route: &'static str,
        url: &str,
    ) -> Result<T, WfmError> {
        let body = self
            .send(Call {
                route,
                method: Method::GET,
                url: url.to_string(),
                body: None,
                bearer: false,
            })
            .await?;
        let json = super::decode_download(&body).map_err(|e| WfmError::Decode {
            route,
            message: e.to_string(),
        })?;
        parse(route, &json)
    }
}

/// Parses a JSON body, counting and logging failures.
pub(crate) fn parse<T: DeserializeOwned>(route: &'static str, body: &[u8]) -> Result<T, WfmError> {
    serde_json::from_slice(body).map_err(|e| {
        crate::telemetry::rest::decode_failed(route, &e);
        WfmError::Decode {
            route,
            message: e.to_string(),
        }
    })
}
