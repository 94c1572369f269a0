//! Websocket clients of the simulator's notification channels: connect, read the next
//! frame with a deadline (scaled by `WFM_TEST_PATIENCE`), skip heartbeats, send JSON.

use futures::{SinkExt, StreamExt};
use serde_json::Value;
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

/// A websocket client stream.
pub type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Opens a websocket.
pub async fn connect(uri: &str) -> Ws {
    tokio_tungstenite::connect_async(uri).await.expect("ws connect").0
}

/// The next JSON text frame (None on close/end), within `timeout`.
pub async fn next_json(ws: &mut Ws, timeout: Duration) -> Option<Value> {
    let timeout = crate::patience(timeout);
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
