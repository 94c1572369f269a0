//! Shared helpers of the delivery tests: an event generator and a webhook recorder.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use wfm_reactor::backoff::BackoffPolicy;
use wfm_reactor::events::{Cause, NewEvent, PresenceChanged};
use wfm_reactor::sinks::DeliveryOptions;
use wfm_reactor::store::{Batch, StateChange, Store, StoredPresence};

/// Commits `n` presence events (users u0.., distinct modifiedDates), one per batch.
pub async fn commit_presence(store: &Store, from: u32, n: u32) -> Vec<u64> {
    let mut seqs = Vec::new();
    for i in from..from + n {
        let data = PresenceChanged {
            user_id: format!("u{i}"),
            system_presence: "On Queue".into(),
            presence_definition_id: "def-q".into(),
            previous: None,
            modified_date: format!("2026-02-03T04:05:06.{i:03}Z"),
            source: None,
            cause: Cause::Notification,
        };
        let change = StateChange::Presence {
            user_id: data.user_id.clone(),
            presence: StoredPresence {
                system_presence: data.system_presence.clone(),
                presence_definition_id: data.presence_definition_id.clone(),
                modified_date: data.modified_date.clone(),
            },
        };
        let ev = NewEvent::presence_changed("api.test", &data);
        seqs.extend(
            store
                .commit(Batch {
                    changes: vec![change],
                    events: vec![ev],
                })
                .await
                .unwrap(),
        );
    }
    seqs
}

/// Fast options for tests: tiny backoff, fast replay polling.
pub fn fast_options() -> DeliveryOptions {
    DeliveryOptions {
        batch_size: 8,
        prune_interval: Duration::from_millis(50),
        grace: Duration::from_millis(500),
        backoff: BackoffPolicy::try_new(Duration::from_millis(2), Duration::from_millis(10), 2.0).unwrap(),
        replay_poll: Duration::from_millis(20),
    }
}

/// One request the recorder received, with the status it answered.
#[derive(Debug, Clone)]
pub struct Received {
    pub headers: HeaderMap,
    pub body: String,
    pub status: u16,
}

impl Received {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap()
    }
    pub fn seq(&self) -> u64 {
        self.json()["sequence"].as_str().unwrap().parse().unwrap()
    }
}

type Responder = dyn Fn(&serde_json::Value, usize) -> u16 + Send + Sync;

/// A webhook endpoint that records every request and answers what `respond` says
/// (given the event and how many requests came before).
#[derive(Clone)]
pub struct Recorder {
    pub received: Arc<Mutex<Vec<Received>>>,
    respond: Arc<Responder>,
}

impl Recorder {
    pub fn new(respond: impl Fn(&serde_json::Value, usize) -> u16 + Send + Sync + 'static) -> Self {
        Self {
            received: Arc::default(),
            respond: Arc::new(respond),
        }
    }

    /// Binds 127.0.0.1:0 first, then serves on the current runtime; returns the URL.
    pub async fn start(&self) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = Router::new()
            .route("/hook", axum::routing::post(handle))
            .with_state(self.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        format!("http://{addr}/hook")
    }

    pub fn snapshot(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// Requests answered 2xx, in arrival order.
    pub fn accepted(&self) -> Vec<Received> {
        self.snapshot().into_iter().filter(|r| r.status < 300).collect()
    }
}

async fn handle(State(rec): State<Recorder>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let body = String::from_utf8(body.to_vec()).unwrap();
    let value: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
    let mut all = rec.received.lock().unwrap();
    let status = (rec.respond)(&value, all.len());
    all.push(Received {
        headers,
        body,
        status,
    });
    StatusCode::from_u16(status).unwrap()
}

/// Polls `cond` every 5 ms until it holds or `within` passes (then panics with `what`).
pub async fn wait_until(within: Duration, what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + within;
    while !cond() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Independent Standard Webhooks verification (not using the crate's signer).
pub fn verify_standard_webhook(secret: &str, headers: &HeaderMap, body: &str) -> bool {
    use base64::Engine;
    use hmac::{Hmac, Mac};
    let b64 = base64::engine::general_purpose::STANDARD;
    let key = b64.decode(secret.trim_start_matches("whsec_")).unwrap();
    let h = |n: &str| {
        headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let (id, ts, sigs) = (h("webhook-id"), h("webhook-timestamp"), h("webhook-signature"));
    let ts_num: i64 = match ts.parse() {
        Ok(t) => t,
        Err(_) => return false,
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    if (now - ts_num).abs() > 300 {
        return false;
    }
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&key).unwrap();
    mac.update(format!("{id}.{ts}.{body}").as_bytes());
    let expected = mac.finalize().into_bytes();
    sigs.split(' ').any(|s| {
        s.strip_prefix("v1,")
            .and_then(|sig| b64.decode(sig).ok())
            .is_some_and(|sig| sig.as_slice() == expected.as_slice())
    })
}

/// Waits (30 s at most; virtual seconds in paused tests) until `sink`'s durable cursor reaches `seq`.
pub async fn wait_cursor(store: &Store, sink: &str, seq: u64) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while store.cursor(sink).await.unwrap() != Some(seq) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "cursor of {sink} never reached {seq}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}
