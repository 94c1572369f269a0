//! A scripted HTTP server on port 0 for the WFM client tests: answers by path prefix,
//! logs every request (time, path and query, whether a bearer was sent). Unlike the
//! simulator it can answer anything, so tests reach error paths the simulator never takes.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use flate2::{Compression, write::GzEncoder};
use std::collections::VecDeque;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;
use wfm_reactor::backoff::BackoffPolicy;
use wfm_reactor::wfm::{ClientSettings, Credentials, RateBudget, WfmClient};

/// One scripted answer: status, extra headers, body.
#[derive(Clone)]
pub struct Answer(pub u16, pub Vec<(&'static str, String)>, pub Vec<u8>);

/// The server state: the script and the request log.
#[derive(Default)]
pub struct Fake {
    /// Answers by path prefix, consumed in order; the last one repeats.
    pub script: Mutex<Vec<(String, VecDeque<Answer>)>>,
    /// (when, path+query, had Authorization)
    pub log: Mutex<Vec<(Instant, String, bool)>>,
}

async fn handle(State(f): State<Arc<Fake>>, _m: Method, uri: Uri, headers: HeaderMap, _b: Bytes) -> Response {
    let pq = uri.path_and_query().map(|p| p.to_string()).unwrap_or_default();
    f.log
        .lock()
        .unwrap()
        .push((Instant::now(), pq.clone(), headers.contains_key("authorization")));
    let mut script = f.script.lock().unwrap();
    let found = script
        .iter_mut()
        .find(|(prefix, _)| pq.starts_with(prefix.as_str()));
    let Some((_, answers)) = found else {
        return (StatusCode::NOT_FOUND, "{}").into_response();
    };
    let a = if answers.len() > 1 {
        answers.pop_front().unwrap()
    } else {
        answers[0].clone()
    };
    let mut resp = (StatusCode::from_u16(a.0).unwrap(), a.2).into_response();
    for (k, v) in a.1 {
        resp.headers_mut().insert(k, v.parse().unwrap());
    }
    resp
}

/// Starts the server on 127.0.0.1:0; returns its state and base URL.
pub async fn start() -> (Arc<Fake>, String) {
    let fake = Arc::new(Fake::default());
    let app = Router::new().fallback(handle).with_state(fake.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (fake, base)
}

/// Adds answers for paths starting with `prefix` (first matching prefix wins).
pub fn script(f: &Fake, prefix: &str, answers: Vec<Answer>) {
    f.script
        .lock()
        .unwrap()
        .push((prefix.to_string(), answers.into()));
}

/// A JSON answer.
pub fn json(status: u16, body: serde_json::Value) -> Answer {
    Answer(
        status,
        vec![("content-type", "application/json".into())],
        body.to_string().into_bytes(),
    )
}

/// A client with a static bearer, fast retries and a generous budget.
pub fn client(base: &str) -> WfmClient {
    let settings = ClientSettings {
        request_timeout: Duration::from_secs(5),
        retry: BackoffPolicy::try_new(Duration::from_millis(10), Duration::from_millis(40), 2.0).unwrap(),
        max_attempts: 3,
        max_rate_limited_attempts: 4,
    };
    WfmClient::new(
        base,
        Credentials::Static("t0k".into()),
        RateBudget::new(6000, 4),
        settings,
    )
    .unwrap()
}

/// The business units path.
pub const BU: &str = "/api/v2/workforcemanagement/businessunits";

/// Gzips bytes.
pub fn gz(data: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}
