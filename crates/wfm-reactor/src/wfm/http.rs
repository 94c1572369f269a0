//! The retry loop every REST call goes through: budget, token, send, classify, retry.

use super::{Permit, WfmClient, WfmError, forbidden_permission};
use crate::telemetry::rest as tele;
use reqwest::{Method, StatusCode, header};
use serde::de::DeserializeOwned;
use std::time::Duration;
use tokio::time::{Instant, sleep};

/// How much of an error body is kept in [`WfmError::Http`].
const MAX_ERROR_BODY: usize = 2000;
/// How much of an error body is read at all (a 403's body names the permission).
const ERROR_BODY_CAP: u64 = 64 * 1024;

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
    /// Largest body accepted (see [`crate::bounds::body`]).
    pub cap: u64,
}

/// A status line, its headers and the (capped) body.
type Answer = (StatusCode, header::HeaderMap, bytes::Bytes);

/// What one attempt brought back.
enum Reply {
    /// A 2xx, its body still to read, with the permit that holds its concurrency slot.
    Success(reqwest::Response, Permit),
    /// Anything else, with its body read up to [`ERROR_BODY_CAP`].
    Refused(Answer),
}

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
    /// Sends `call` with the budget and retry rules; the 2xx body, read up to `call.cap`.
    pub(crate) async fn send(&self, call: Call<'_>) -> Result<bytes::Bytes, WfmError> {
        let (resp, _permit) = self.send_raw(&call).await?;
        crate::bounds::read_capped(call.route, resp, call.cap)
            .await
            .map_err(|e| WfmError::Decode {
                route: call.route,
                message: e.to_string(),
            })
    }

    /// Sends `call` with the budget and retry rules; the 2xx answer with its body unread,
    /// and the budget permit (hold it while reading the body: the concurrency slot).
    pub(crate) async fn send_raw(&self, call: &Call<'_>) -> Result<(reqwest::Response, Permit), WfmError> {
        let mut at = Attempts {
            backoff: self.settings.retry.start(),
            failures: 0,
            limited: 0,
            reauthed: false,
        };
        loop {
            let lane = self.pick_lane();
            let (answer, token) = self.attempt(call, lane).await?;
            let verdict = match answer {
                Err(e) => self.transport_failed(call.route, e, &mut at),
                Ok(Reply::Success(resp, permit)) => return Ok((resp, permit)),
                Ok(Reply::Refused(answer)) => {
                    self.refused(call, answer, (lane, token.as_ref()), &mut at).await
                }
            };
            match verdict {
                Verdict::Again => {}
                Verdict::After(d) => sleep(d).await,
                Verdict::Fail(e) => return Err(e),
            }
        }
    }

    /// One attempt: a budget permit, the bearer (when `call.bearer`), the request; a
    /// refusal's body is read (capped), a success's left to the caller. Counted by status.
    /// Also returns the token used (to invalidate on 401).
    async fn attempt(
        &self,
        call: &Call<'_>,
        lane: usize,
    ) -> Result<(Result<Reply, reqwest::Error>, Option<crate::auth::AccessToken>), WfmError> {
        let budget = self.lane(lane).1;
        let permit = if call.bearer {
            budget.acquire().await
        } else {
            budget.acquire_unmetered().await
        };
        let http = if call.bearer {
            &self.http
        } else {
            &self.download_http
        };
        let mut req = http.request(call.method.clone(), &call.url);
        let mut token = None;
        if call.bearer {
            let (bearer, t) = self.bearer(lane).await?;
            req = req.bearer_auth(bearer);
            token = t;
        }
        if let Some(b) = call.body {
            req = req.json(b);
        }
        let started = Instant::now();
        let answer = match req.send().await {
            Ok(resp) if resp.status().is_success() => Ok(Reply::Success(resp, permit)),
            Ok(resp) => {
                let status = resp.status();
                let headers = resp.headers().clone();
                // an error body is only kept truncated: anything past the cap is dropped
                let body = crate::bounds::read_capped(call.route, resp, ERROR_BODY_CAP)
                    .await
                    .unwrap_or_default();
                Ok(Reply::Refused((status, headers, body)))
            }
            Err(e) => Err(e),
        };
        let status = match &answer {
            Ok(Reply::Success(resp, _)) => resp.status().as_str().to_string(),
            Ok(Reply::Refused((s, _, _))) => s.as_str().to_string(),
            Err(_) => "error".to_string(),
        };
        tele::request_done(call.route, &status, started.elapsed());
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
        (lane, token): (usize, Option<&crate::auth::AccessToken>),
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
                let after = crate::bounds::retry_after(route, &headers);
                // exactly Retry-After when given (never sooner), else our own backoff;
                // the whole budget waits, even when this call gives up below
                let pause = after.unwrap_or_else(|| at.backoff.next_delay());
                tele::rate_limited(route, pause);
                // only this lane's client waits: the platform limit is per token
                self.lane(lane).1.pause_for(pause);
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
                self.invalidate(lane, token).await;
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
                let d = at
                    .backoff
                    .next_delay_at_least(crate::bounds::retry_after(route, &headers));
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
                cap: crate::bounds::body::WFM_BODY,
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
                cap: crate::bounds::body::WFM_BODY,
            })
            .await?;
        parse(route, &answer)
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
