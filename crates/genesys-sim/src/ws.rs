//! The notification websocket at a channel's `connectUri`: heartbeats, ping/pong,
//! one socket per channel, websocket-level subscribe, and `result: 404` for dead channels.

use super::channels::subscribe;
use super::reap::reap;
use super::state::{AppState, Outbound, Shared, Socket};
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, State};
use axum::response::Response;
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use tokio::sync::mpsc;
use tokio::time::{Instant, MissedTickBehavior};

/// `GET /channels/{id}` (websocket upgrade).
pub(crate) async fn upgrade(
    State(shared): State<AppState>,
    Path(id): Path<String>,
    ws: WebSocketUpgrade,
) -> Response {
    ws.on_upgrade(move |socket| serve(shared, id, socket))
}

/// What the socket task keeps of its attachment.
struct Attached {
    conn: u64,
    rx: mpsc::UnboundedReceiver<Outbound>,
    pending: Arc<AtomicUsize>,
    muted: Arc<AtomicBool>,
}

/// Attaches a new socket to the channel (kicking any previous one); `None` if it is gone.
fn attach(shared: &Shared, id: &str) -> Option<Attached> {
    let mut inner = shared.lock();
    reap(shared, &mut inner);
    inner.next_conn += 1;
    let conn = inner.next_conn;
    let ch = inner.channels.iter_mut().find(|c| c.id == id)?;
    let (tx, rx) = mpsc::unbounded_channel();
    let sock = Socket::new(conn, tx);
    let pending = sock.pending.clone();
    let muted = sock.muted.clone();
    if let Some(old) = ch.socket.replace(sock) {
        old.send(Outbound::Close);
    }
    ch.last_used = Instant::now();
    Some(Attached {
        conn,
        rx,
        pending,
        muted,
    })
}

/// The heartbeat-time liveness check: reaps dead channels (which queues the 404 and close
/// for this socket if its channel died) and says whether this socket is still attached.
fn still_attached(shared: &Shared, id: &str, conn: u64) -> bool {
    let mut inner = shared.lock();
    reap(shared, &mut inner);
    inner
        .channels
        .iter()
        .any(|c| c.id == id && c.socket.as_ref().is_some_and(|s| s.conn == conn))
}

/// Runs one socket until it closes, is kicked, or the simulator stops.
async fn serve(shared: AppState, id: String, mut socket: WebSocket) {
    let Some(Attached {
        conn,
        mut rx,
        pending,
        muted,
    }) = attach(&shared, &id)
    else {
        metrics::counter!("wfm_reactor_sim_ws_unknown_channel_total").increment(1);
        let msg = json!({"result": "404", "message": "The channel does not exist or has expired."});
        let _ = socket.send(Message::Text(msg.to_string().into())).await;
        let _ = socket.send(Message::Close(None)).await;
        return;
    };
    let period = shared.config.heartbeat_interval;
    let mut heartbeat = tokio::time::interval_at(Instant::now() + period, period);
    heartbeat.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let beat =
        json!({"topicName": "channel.metadata", "eventBody": {"message": "WebSocket Heartbeat"}}).to_string();
    loop {
        tokio::select! {
            out = rx.recv() => match out {
                // A muted socket loses what it should have sent, as a half-open one does.
                Some(Outbound::Text(_)) if muted.load(Ordering::Relaxed) => {
                    pending.fetch_sub(1, Ordering::Relaxed);
                }
                Some(Outbound::Text(t)) => {
                    let sent = socket.send(Message::Text(t)).await;
                    pending.fetch_sub(1, Ordering::Relaxed);
                    if sent.is_err() { break; }
                }
                Some(Outbound::Close) | None => {
                    let _ = socket.send(Message::Close(None)).await;
                    break;
                }
            },
            _ = heartbeat.tick() => {
                // A dead channel's 404 and close are queued already: deliver those instead.
                if !still_attached(&shared, &id, conn) || muted.load(Ordering::Relaxed) { continue; }
                if socket.send(Message::Text(beat.clone().into())).await.is_err() { break; }
            }
            msg = socket.recv() => match msg {
                Some(Ok(Message::Text(_))) if muted.load(Ordering::Relaxed) => {}
                Some(Ok(Message::Text(t))) => {
                    if let Some(reply) = on_client_message(&shared, &id, t.as_str())
                        && socket.send(Message::Text(reply.into())).await.is_err()
                    {
                        break;
                    }
                }
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                Some(Ok(_)) => {}
            },
            _ = shared.cancel.cancelled() => {
                let _ = socket.send(Message::Close(None)).await;
                break;
            }
        }
    }
    let mut inner = shared.lock();
    if let Some(ch) = inner.channels.iter_mut().find(|c| c.id == id)
        && ch.socket.as_ref().is_some_and(|s| s.conn == conn)
    {
        ch.socket = None;
    }
}

/// Answers a client frame: ping → pong, subscribe/unsubscribe → result message.
fn on_client_message(shared: &Shared, id: &str, text: &str) -> Option<String> {
    let Ok(msg) = serde_json::from_str::<Value>(text) else {
        tracing::warn!(channel = %id, "sim: unparseable websocket message");
        metrics::counter!("wfm_reactor_sim_ws_bad_message_total").increment(1);
        return None;
    };
    let corr = msg.get("correlationId").cloned().unwrap_or(Value::Null);
    match msg.get("message").and_then(Value::as_str) {
        Some("ping") => {
            Some(json!({"topicName": "channel.metadata", "eventBody": {"message": "pong"}}).to_string())
        }
        Some(kind @ ("subscribe" | "unsubscribe")) => {
            let topics: Vec<String> = msg
                .get("topics")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(|t| t.as_str().map(String::from)).collect())
                .unwrap_or_default();
            if topics.is_empty() {
                return Some(json!({"result": "400", "status": "failure", "message": "Required data missing from subscribe request.", "correlationId": corr, "topics": []}).to_string());
            }
            let result = if kind == "subscribe" {
                subscribe(shared, id, topics.clone(), false, true).map(|_| "subscribed")
            } else {
                unsubscribe(shared, id, &topics).map(|_| "unsubscribed")
            };
            Some(match result {
                Ok(status) => json!({"result": "200", "status": status, "correlationId": corr, "topics": topics}),
                Err(e) if e.status == axum::http::StatusCode::NOT_FOUND => json!({"result": "404", "message": e.message, "correlationId": corr}),
                Err(e) => json!({"result": e.status.as_u16().to_string(), "status": "failure", "message": e.message, "correlationId": corr, "topics": []}),
            }.to_string())
        }
        _ => None,
    }
}

/// Removes topics from a channel (websocket `unsubscribe`).
fn unsubscribe(shared: &Shared, id: &str, topics: &[String]) -> Result<(), super::errors::ApiError> {
    let mut inner = shared.lock();
    reap(shared, &mut inner);
    let ch = inner
        .channels
        .iter_mut()
        .find(|c| c.id == id)
        .ok_or_else(|| super::errors::ApiError::not_found("channel"))?;
    ch.topics.retain(|t| !topics.contains(t));
    ch.reindex();
    Ok(())
}
