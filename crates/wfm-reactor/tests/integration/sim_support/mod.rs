//! Shared helpers of the simulator integration tests: start a small sim, log in, open
//! sockets and read frames with deadlines.

use futures::{SinkExt, StreamExt};
use genesys_sim::{self, SimConfig, SimHandle};
use serde_json::Value;
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

/// A websocket client stream.
pub type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A small, fast config: 1 BU, 20 agents, 100 ms heartbeat.
pub fn small() -> SimConfig {
    SimConfig {
        business_units: 1,
        agents: 20,
        heartbeat_interval: Duration::from_millis(100),
        socket_closing_grace: Duration::from_millis(200),
        ..SimConfig::default()
    }
}

/// Starts a simulator on 127.0.0.1:0.
pub async fn start(config: SimConfig) -> SimHandle {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    genesys_sim::start(config, listener).await.expect("start sim")
}

/// Logs in with the client credentials and returns the access token.
pub async fn token(sim: &SimHandle) -> String {
    let resp = reqwest::Client::new()
        .post(format!("{}/oauth/token", sim.base_url()))
        .basic_auth(sim.client_id(), Some(sim.client_secret()))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .expect("token request");
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.expect("token json");
    body["access_token"].as_str().expect("access_token").to_string()
}

/// An authenticated API client.
pub struct Api {
    pub base: String,
    pub token: String,
    pub http: reqwest::Client,
}

impl Api {
    /// Logs in and returns a client.
    pub async fn login(sim: &SimHandle) -> Self {
        Self {
            base: sim.base_url(),
            token: token(sim).await,
            http: reqwest::Client::new(),
        }
    }
    /// GET a path; returns (status, json or Null).
    pub async fn get(&self, path: &str) -> (u16, Value) {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .send()
            .await
            .expect("get");
        let s = r.status().as_u16();
        (s, r.json().await.unwrap_or(Value::Null))
    }
    /// Sends a JSON body with `method`; returns (status, json or Null).
    pub async fn send(&self, method: reqwest::Method, path: &str, body: &Value) -> (u16, Value) {
        let r = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .json(body)
            .send()
            .await
            .expect("send");
        let s = r.status().as_u16();
        (s, r.json().await.unwrap_or(Value::Null))
    }
    /// Creates a channel; returns (id, connectUri).
    pub async fn channel(&self) -> (String, String) {
        let (s, ch) = self
            .send(
                reqwest::Method::POST,
                "/api/v2/notifications/channels",
                &Value::Null,
            )
            .await;
        assert_eq!(s, 200, "{ch}");
        (
            ch["id"].as_str().unwrap().to_string(),
            ch["connectUri"].as_str().unwrap().to_string(),
        )
    }
    /// PUTs a subscription list (no ignoreErrors).
    pub async fn subscribe(&self, channel: &str, topics: &[&str]) -> (u16, Value) {
        let body: Vec<Value> = topics.iter().map(|t| serde_json::json!({"id": t})).collect();
        self.send(
            reqwest::Method::PUT,
            &format!("/api/v2/notifications/channels/{channel}/subscriptions"),
            &Value::Array(body),
        )
        .await
    }
}

/// Opens a websocket.
pub async fn connect(uri: &str) -> Ws {
    tokio_tungstenite::connect_async(uri).await.expect("ws connect").0
}

/// The next JSON text frame (None on close/end), within `timeout`.
pub async fn next_json(ws: &mut Ws, timeout: Duration) -> Option<Value> {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        match tokio::time::timeout(left, ws.next()).await {
            Err(_) => panic!("no frame within {timeout:?}"),
            Ok(None) | Ok(Some(Err(_))) | Ok(Some(Ok(Message::Close(_)))) => return None,
            Ok(Some(Ok(Message::Text(t)))) => {
                return Some(serde_json::from_str(t.as_str()).expect("json frame"));
            }
            Ok(Some(Ok(_))) => continue,
        }
    }
}

/// The next non-heartbeat JSON frame.
pub async fn next_event(ws: &mut Ws, timeout: Duration) -> Option<Value> {
    loop {
        let v = next_json(ws, timeout).await?;
        if v["eventBody"]["message"] != "WebSocket Heartbeat" {
            return Some(v);
        }
    }
}

/// Sends a JSON text frame.
pub async fn send_json(ws: &mut Ws, v: &Value) {
    ws.send(Message::Text(v.to_string().into()))
        .await
        .expect("ws send");
}

/// Polls `cond` every 5 ms until true or `timeout`; returns whether it held.
pub async fn eventually(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + timeout;
    while tokio::time::Instant::now() < deadline {
        if cond() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    cond()
}

/// The WFM API prefix.
pub const WFM: &str = "/api/v2/workforcemanagement";
/// How long a simulator test waits for any one answer or event.
pub const T: Duration = Duration::from_secs(3);

/// (bu id, mu id, first published schedule id, its week date)
pub fn first(sim: &SimHandle) -> (String, String, String, String) {
    let org = sim.org();
    let bu = &org.business_units[0];
    let s = org
        .schedules_of(&bu.id)
        .into_iter()
        .find(|s| s.published)
        .unwrap()
        .clone();
    (
        bu.id.clone(),
        bu.management_units[0].id.clone(),
        s.id,
        s.week_date.to_string(),
    )
}
