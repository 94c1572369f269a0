//! A tiny scriptable Genesys notifications stub (token, channels, subscriptions, websocket):
//! it can misbehave in ways the simulator does not (fail creates, drop sockets), and only the
//! channel manager tests in `upstream_manager` use it.

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde_json::json;
use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;

#[derive(Default)]
pub struct ChannelState {
    pub topics: BTreeSet<String>,
    /// Connected sockets, oldest first; events go to the newest.
    pub sockets: Vec<(u64, mpsc::UnboundedSender<String>)>,
}

#[derive(Default)]
pub struct Stub {
    pub base: Mutex<String>,
    pub channels: Mutex<HashMap<String, ChannelState>>,
    pub next: AtomicU64,
    pub fail_create: AtomicU64,
    pub creates: AtomicU64,
    /// "connect ch#n", "close ch#n", "put ch n", "post ch n" in order.
    pub log: Mutex<Vec<String>>,
}

impl Stub {
    pub fn log(&self, s: String) {
        self.log.lock().unwrap().push(s);
    }

    pub fn log_lines(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }

    /// Sends an event to the newest socket of every channel subscribed to `topic`.
    pub fn publish(&self, topic: &str, body: serde_json::Value) -> usize {
        let frame = json!({"topicName": topic, "version": "2", "eventBody": body,
            "metadata": {"CorrelationId": uuid::Uuid::new_v4().to_string()}})
        .to_string();
        let mut n = 0;
        for ch in self.channels.lock().unwrap().values() {
            let subscribed = ch.topics.iter().any(|t| expand(t).iter().any(|e| e == topic));
            if subscribed && let Some((_, tx)) = ch.sockets.last() {
                n += usize::from(tx.send(frame.clone()).is_ok());
            }
        }
        n
    }

    /// Closes every socket without warning.
    pub fn drop_sockets(&self) {
        for ch in self.channels.lock().unwrap().values_mut() {
            ch.sockets.clear();
        }
    }

    /// Sends `{"result":"404"}` and forgets every channel.
    pub fn kill_channels(&self) {
        let mut chans = self.channels.lock().unwrap();
        for ch in chans.values() {
            for (_, tx) in &ch.sockets {
                let _ = tx.send(r#"{"result":"404","message":"channel expired"}"#.into());
            }
        }
        chans.clear();
    }

    /// Announces maintenance on every socket.
    pub fn socket_closing(&self) {
        for ch in self.channels.lock().unwrap().values() {
            for (_, tx) in &ch.sockets {
                let _ = tx.send(
                    json!({"topicName":"v2.system.socket_closing","eventBody":{"message":"maintenance"}})
                        .to_string(),
                );
            }
        }
    }

    pub fn connected_sockets(&self) -> usize {
        self.channels
            .lock()
            .unwrap()
            .values()
            .map(|c| c.sockets.len())
            .sum()
    }
}

fn expand(topic: &str) -> Vec<String> {
    wfm_reactor::topics::expand_topic(topic)
}

async fn token() -> impl IntoResponse {
    Json(json!({"access_token":"tok","token_type":"bearer","expires_in":3600}))
}

async fn create(State(s): State<Arc<Stub>>) -> Response {
    s.creates.fetch_add(1, Ordering::SeqCst);
    if s.fail_create.load(Ordering::SeqCst) > 0 {
        return (StatusCode::SERVICE_UNAVAILABLE, "down").into_response();
    }
    let id = format!("ch{}", s.next.fetch_add(1, Ordering::SeqCst));
    s.channels
        .lock()
        .unwrap()
        .insert(id.clone(), ChannelState::default());
    let base = s.base.lock().unwrap().replace("http://", "ws://");
    Json(json!({"id": id, "connectUri": format!("{base}/ws/{id}"), "expires": "2099-01-01T00:00:00Z"}))
        .into_response()
}

async fn head(State(s): State<Arc<Stub>>, Path(id): Path<String>) -> StatusCode {
    if s.channels.lock().unwrap().contains_key(&id) {
        StatusCode::OK
    } else {
        StatusCode::NOT_FOUND
    }
}

async fn subscribe(
    State(s): State<Arc<Stub>>,
    Path(id): Path<String>,
    method: axum::http::Method,
    Json(topics): Json<Vec<serde_json::Value>>,
) -> Response {
    let mut chans = s.channels.lock().unwrap();
    let Some(ch) = chans.get_mut(&id) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let ids: Vec<String> = topics
        .iter()
        .filter_map(|t| t["id"].as_str().map(String::from))
        .collect();
    if method == axum::http::Method::PUT {
        ch.topics.clear();
    }
    ch.topics.extend(ids.iter().cloned());
    if ch.topics.len() > 1000 {
        return (StatusCode::BAD_REQUEST, "too many topics").into_response();
    }
    drop(chans);
    s.log(format!("{} {id} {}", method.as_str().to_lowercase(), ids.len()));
    let entities: Vec<_> = ids
        .iter()
        .map(|t| json!({"id": t, "state": "Permitted"}))
        .collect();
    Json(json!({"entities": entities})).into_response()
}

async fn unsubscribe(State(s): State<Arc<Stub>>, Path(id): Path<String>) -> StatusCode {
    if let Some(ch) = s.channels.lock().unwrap().get_mut(&id) {
        ch.topics.clear();
    }
    StatusCode::NO_CONTENT
}

async fn ws(State(s): State<Arc<Stub>>, Path(id): Path<String>, up: WebSocketUpgrade) -> Response {
    if !s.channels.lock().unwrap().contains_key(&id) {
        return StatusCode::NOT_FOUND.into_response();
    }
    up.on_upgrade(move |socket| run_socket(s, id, socket))
}

async fn run_socket(s: Arc<Stub>, id: String, mut socket: WebSocket) {
    let (tx, mut rx) = mpsc::unbounded_channel::<String>();
    let n = s.next.fetch_add(1, Ordering::SeqCst);
    {
        let mut chans = s.channels.lock().unwrap();
        let Some(ch) = chans.get_mut(&id) else { return };
        // One socket per channel: a new connection replaces the older ones.
        ch.sockets.clear();
        ch.sockets.push((n, tx));
    }
    s.log(format!("connect {id}#{n}"));
    loop {
        tokio::select! {
            out = rx.recv() => match out {
                Some(text) => if socket.send(Message::Text(text.into())).await.is_err() { break },
                None => break,
            },
            inc = socket.recv() => match inc {
                Some(Ok(Message::Text(t))) if t.contains("ping") => {
                    let _ = socket.send(Message::Text(r#"{"topicName":"channel.metadata","eventBody":{"message":"pong"}}"#.into())).await;
                }
                Some(Ok(_)) => {}
                _ => break,
            },
        }
    }
    let _ = socket.send(Message::Close(None)).await;
    s.log(format!("close {id}#{n}"));
    if let Some(ch) = s.channels.lock().unwrap().get_mut(&id) {
        ch.sockets.retain(|(k, _)| *k != n);
    }
}

/// Starts the stub on port 0; returns it and its base URL.
pub async fn start() -> (Arc<Stub>, String) {
    let stub = Arc::new(Stub::default());
    let app = Router::new()
        .route("/oauth/token", post(token))
        .route("/api/v2/notifications/channels", post(create))
        .route("/api/v2/notifications/channels/{id}", axum::routing::head(head))
        .route(
            "/api/v2/notifications/channels/{id}/subscriptions",
            put(subscribe).post(subscribe).delete(unsubscribe),
        )
        .route("/ws/{id}", get(ws))
        .with_state(stub.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    *stub.base.lock().unwrap() = base.clone();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (stub, base)
}
