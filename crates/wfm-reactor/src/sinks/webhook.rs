//! HTTP POST per event (`application/cloudevents+json`), Standard Webhooks signed.
//!
//! 2xx acknowledges; 408, 429, 5xx, 3xx and transport errors retry the same event (in
//! order, without limit) with jittered backoff, `Retry-After` winning when larger;
//! any other status dead-letters the event and delivery moves on.
//!
//! Redirects are never followed (contract, hostile input): reqwest's default turns a
//! 301/302/303 POST into a bodiless GET, so a receiver answering `302 -> /ok` had every
//! event counted delivered while none was posted, and a 307/308 would re-post signed
//! personal data to whatever host the `Location` names. A 3xx is a failed attempt, logged
//! with its (redacted) `Location`, until the receiver is fixed or the URL corrected.
//!
//! With `concurrency` above 1, that many events of a batch are in flight at once (each
//! retried on its own); results are taken in sequence order, so the acknowledged prefix
//! only grows over events that are all done. One POST per round trip caps a strictly
//! ordered sink at 1/RTT events a second; an endpoint that does not need the order can
//! opt into more.

use super::{BatchResult, Control, signing};
use crate::store::{NewDeadLetter, OutboxEvent};
use futures::StreamExt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Bytes of a refusing response body kept in the dead letter.
const BODY_EXCERPT: usize = 512;

/// One webhook endpoint.
pub struct WebhookSink {
    client: reqwest::Client,
    url: String,
    key: Option<Vec<u8>>,
    timeout: Duration,
    concurrency: usize,
}

/// How one event's delivery ended.
enum Outcome {
    /// Acknowledged (2xx).
    Delivered,
    /// Refused for good: to the dead-letter table.
    Dead(NewDeadLetter),
    /// Shutdown came first.
    Stopped,
}

/// What one POST came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempt {
    /// 2xx.
    Delivered,
    /// Retry later (408/429/5xx/transport), possibly not before `retry_after`.
    Retry {
        /// What happened.
        error: String,
        /// The server's `Retry-After`, when given.
        retry_after: Option<Duration>,
    },
    /// Refused for good (other statuses).
    Refused {
        /// HTTP status.
        status: u16,
        /// Status and body excerpt.
        error: String,
    },
}

/// Why a webhook sink could not be built.
#[derive(Debug, thiserror::Error)]
pub enum WebhookBuildError {
    /// The secret is neither empty nor a Standard Webhooks secret.
    #[error("webhook secret is not whsec_ + base64")]
    Secret,
    /// The HTTP client could not be built (TLS backend).
    #[error("http client: {0}")]
    Client(#[from] reqwest::Error),
}

impl WebhookSink {
    /// Builds the sink; `secret` is a Standard Webhooks secret or empty (unsigned).
    /// `concurrency` (at least 1) POSTs may be in flight at once.
    pub fn new(
        url: &str,
        secret: &str,
        timeout: Duration,
        concurrency: usize,
    ) -> Result<Self, WebhookBuildError> {
        let key = if secret.is_empty() {
            None
        } else {
            Some(crate::config::webhook_key(secret).ok_or(WebhookBuildError::Secret)?)
        };
        let client = reqwest::Client::builder()
            .user_agent(concat!("wfm-reactor/", env!("CARGO_PKG_VERSION")))
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Self {
            client,
            url: url.to_string(),
            key,
            timeout,
            concurrency: concurrency.max(1),
        })
    }

    /// Delivers the batch (`concurrency` at a time, results in order); stops early only
    /// when told to, having acknowledged the contiguous prefix that finished.
    pub async fn deliver(&mut self, batch: &[OutboxEvent], ctl: &Control) -> BatchResult {
        // The futures are made up front (not started: `buffered` polls at most
        // `concurrency` of them); a stream `map` closure here would trip the compiler's
        // higher-ranked `Send` check of the spawned delivery task.
        let pending: Vec<_> = batch.iter().map(|ev| self.deliver_one(ev, ctl)).collect();
        let mut outcomes = futures::stream::iter(pending).buffered(self.concurrency);
        let mut result = BatchResult::stopped(None);
        let mut events = batch.iter();
        while let Some(outcome) = outcomes.next().await {
            let ev = events.next().expect("one outcome per event");
            match outcome {
                Outcome::Delivered => {}
                Outcome::Dead(letter) => result.dead.push(letter),
                // Events after this one may have been delivered already; they are sent
                // again later (at-least-once, same webhook-id).
                Outcome::Stopped => return result,
            }
            result.acked = Some(ev.seq);
        }
        result.stopped = false;
        result
    }

    /// One event until it is delivered, refused for good, or shutdown stops the retries.
    async fn deliver_one(&self, ev: &OutboxEvent, ctl: &Control) -> Outcome {
        let mut backoff = ctl.backoff.start();
        loop {
            let attempt = tokio::select! {
                _ = ctl.hard_stop() => return Outcome::Stopped,
                a = self.post(ev) => a,
            };
            match attempt {
                Attempt::Delivered => return Outcome::Delivered,
                Attempt::Refused { status, error } => {
                    crate::telemetry::delivery::sink_dead_lettered(&ctl.sink, ev.seq, Some(status), &error);
                    return Outcome::Dead(NewDeadLetter {
                        seq: ev.seq,
                        status: Some(status),
                        error,
                        event: ev.json.to_string(),
                    });
                }
                Attempt::Retry { error, retry_after } => {
                    if !ctl
                        .wait_retry(&mut backoff, std::slice::from_ref(ev), &error, retry_after)
                        .await
                    {
                        return Outcome::Stopped;
                    }
                }
            }
        }
    }

    /// One POST of one event.
    pub async fn post(&self, ev: &OutboxEvent) -> Attempt {
        let ts = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        let body = ev.json.to_string();
        let mut req = self
            .client
            .post(&self.url)
            .timeout(self.timeout)
            .header(reqwest::header::CONTENT_TYPE, "application/cloudevents+json")
            .header("webhook-id", &ev.id)
            .header("webhook-timestamp", ts.to_string());
        if let Some(key) = &self.key {
            req = req.header("webhook-signature", signing::sign(key, &ev.id, ts, &body));
        }
        let resp = match req.body(body).send().await {
            Ok(r) => r,
            Err(e) => {
                // The error would quote the URL (and its secrets): the sink's name says
                // which endpoint it is.
                return Attempt::Retry {
                    error: format!("transport: {}", crate::redact::text(&e.without_url().to_string())),
                    retry_after: None,
                };
            }
        };
        let status = resp.status();
        if status.is_success() {
            return Attempt::Delivered;
        }
        if status.is_redirection() {
            return redirected(&resp);
        }
        let retry_after = resp
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_retry_after);
        let code = status.as_u16();
        let text = resp.text().await.unwrap_or_default();
        let excerpt: String = text.chars().take(BODY_EXCERPT).collect();
        let error = format!("HTTP {code}: {excerpt}");
        if code == 408 || code == 429 || status.is_server_error() {
            Attempt::Retry { error, retry_after }
        } else {
            Attempt::Refused { status: code, error }
        }
    }
}

/// A 3xx: a failed attempt naming where it pointed (query and user-info redacted).
fn redirected(resp: &reqwest::Response) -> Attempt {
    let location = resp
        .headers()
        .get(reqwest::header::LOCATION)
        .map(|v| crate::redact::url(&String::from_utf8_lossy(v.as_bytes())))
        .unwrap_or_else(|| "(no Location)".into());
    Attempt::Retry {
        error: format!(
            "HTTP {} redirect to {location} not followed (webhooks never follow redirects; fix the sink's url)",
            resp.status().as_u16()
        ),
        retry_after: None,
    }
}

/// `Retry-After` as delay-seconds or an HTTP date (relative to now; past dates → 0).
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    let v = value.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = chrono::DateTime::parse_from_rfc2822(v).ok()?;
    let delta = when.with_timezone(&chrono::Utc) - chrono::Utc::now();
    Some(delta.to_std().unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_seconds_and_dates() {
        assert_eq!(parse_retry_after("7"), Some(Duration::from_secs(7)));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::ZERO)
        );
        let future = (chrono::Utc::now() + chrono::Duration::seconds(120)).to_rfc2822();
        let d = parse_retry_after(&future).unwrap();
        assert!(
            d > Duration::from_secs(100) && d <= Duration::from_secs(120),
            "{d:?}"
        );
        assert_eq!(parse_retry_after("soon"), None);
    }
}
