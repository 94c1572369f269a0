//! A webhook endpoint for delivery tests: records every request with the status it
//! answered (chosen per request by the test), and an independent Standard Webhooks
//! signature check (not the daemon's signer, so a signer bug cannot verify itself).

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use std::sync::{Arc, Mutex};

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
