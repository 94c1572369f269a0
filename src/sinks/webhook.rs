//! HTTP POST per event (`application/cloudevents+json`), Standard Webhooks signed.
//!
//! 2xx acknowledges; 408, 429, 5xx and transport errors retry the same event (in
//! order, without limit) with jittered backoff, `Retry-After` winning when larger;
//! any other status dead-letters the event and delivery moves on.

use super::{BatchResult, Control, signing};
use crate::store::{NewDeadLetter, OutboxEvent};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Bytes of a refusing response body kept in the dead letter.
const BODY_EXCERPT: usize = 512;

/// One webhook endpoint.
pub struct WebhookSink {
    client: reqwest::Client,
    url: String,
    key: Option<Vec<u8>>,
    timeout: Duration,
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

impl WebhookSink {
    /// Builds the sink; `secret` is a Standard Webhooks secret or empty (unsigned).
    pub fn new(url: &str, secret: &str, timeout: Duration) -> Result<Self, String> {
        let key = if secret.is_empty() {
            None
        } else {
            Some(crate::config::webhook_key(secret).ok_or("webhook secret is not whsec_ + base64")?)
        };
        let client = reqwest::Client::builder()
            .user_agent(concat!("wfm-reactor/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Self {
            client,
            url: url.to_string(),
            key,
            timeout,
        })
    }

    /// Delivers events one by one, in order; stops early only when told to.
    pub async fn deliver(&mut self, batch: &[OutboxEvent], ctl: &Control) -> BatchResult {
        let mut result = BatchResult::stopped(None);
        for ev in batch {
            let mut backoff = ctl.backoff.start();
            loop {
                let attempt = tokio::select! {
                    _ = ctl.hard_stop() => return result,
                    a = self.post(ev) => a,
                };
                match attempt {
                    Attempt::Delivered => break,
                    Attempt::Refused { status, error } => {
                        crate::telemetry::delivery::sink_dead_lettered(
                            &ctl.sink,
                            ev.seq,
                            Some(status),
                            &error,
                        );
                        result.dead.push(NewDeadLetter {
                            seq: ev.seq,
                            status: Some(status),
                            error,
                            event: ev.json.to_string(),
                        });
                        break;
                    }
                    Attempt::Retry { error, retry_after } => {
                        if !ctl
                            .wait_retry(&mut backoff, std::slice::from_ref(ev), &error, retry_after)
                            .await
                        {
                            return result;
                        }
                    }
                }
            }
            result.acked = Some(ev.seq);
        }
        result.stopped = false;
        result
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
                return Attempt::Retry {
                    error: format!("transport: {e}"),
                    retry_after: None,
                };
            }
        };
        let status = resp.status();
        if status.is_success() {
            return Attempt::Delivered;
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
