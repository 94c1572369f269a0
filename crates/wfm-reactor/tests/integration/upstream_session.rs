//! The session protocol over in-memory channels with paused time.

use futures::channel::mpsc as fmpsc;
use futures::{Sink, Stream, StreamExt};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;
use tokio_util::sync::CancellationToken;
use wfm_reactor::notifications::dedupe::RecentFrames;
use wfm_reactor::notifications::session::{self, SessionConfig, SessionContext, SessionEnd, SessionNotice};
use wfm_reactor::topics::{Notification, UpstreamEvent};

/// The client's side of an in-memory websocket.
struct Duplex {
    to_server: fmpsc::UnboundedSender<Message>,
    from_server: fmpsc::UnboundedReceiver<Result<Message, String>>,
}

impl Stream for Duplex {
    type Item = Result<Message, String>;
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        Pin::new(&mut self.from_server).poll_next(cx)
    }
}

impl Sink<Message> for Duplex {
    type Error = fmpsc::SendError;
    fn poll_ready(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Pin::new(&mut self.to_server).poll_ready(cx)
    }
    fn start_send(mut self: Pin<&mut Self>, item: Message) -> Result<(), Self::Error> {
        Pin::new(&mut self.to_server).start_send(item)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Pin::new(&mut self.to_server).poll_flush(cx)
    }
    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Pin::new(&mut self.to_server).poll_close(cx)
    }
}

struct Server {
    send: fmpsc::UnboundedSender<Result<Message, String>>,
    recv: fmpsc::UnboundedReceiver<Message>,
}

impl Server {
    fn text(&self, s: &str) {
        self.send.unbounded_send(Ok(Message::text(s))).unwrap();
    }
}

struct Harness {
    server: Server,
    events: mpsc::Receiver<UpstreamEvent>,
    notices: mpsc::UnboundedReceiver<SessionNotice>,
    cancel: CancellationToken,
    task: tokio::task::JoinHandle<SessionEnd>,
}

const HEARTBEAT: Duration = Duration::from_secs(45);
const PONG: Duration = Duration::from_secs(10);

fn start_with(
    recent: Arc<Mutex<RecentFrames>>,
    events: mpsc::Sender<UpstreamEvent>,
) -> (
    Server,
    mpsc::UnboundedReceiver<SessionNotice>,
    CancellationToken,
    tokio::task::JoinHandle<SessionEnd>,
) {
    start_stoppable(recent, events, Stops::default())
}

/// The owner's two ways to let a superseded session go.
#[derive(Clone, Default)]
struct Stops {
    stop: CancellationToken,
    wind_down: CancellationToken,
}

fn start_stoppable(
    recent: Arc<Mutex<RecentFrames>>,
    events: mpsc::Sender<UpstreamEvent>,
    stops: Stops,
) -> (
    Server,
    mpsc::UnboundedReceiver<SessionNotice>,
    CancellationToken,
    tokio::task::JoinHandle<SessionEnd>,
) {
    let (to_server, recv) = fmpsc::unbounded();
    let (send, from_server) = fmpsc::unbounded();
    let (ntx, nrx) = mpsc::unbounded_channel();
    let cancel = CancellationToken::new();
    let ctx = SessionContext {
        channel_id: "ch-1".into(),
        config: SessionConfig {
            heartbeat_timeout: HEARTBEAT,
            pong_timeout: PONG,
            max_frame_bytes: 4096,
            drain_quiet: Duration::from_millis(500),
        },
        events,
        notices: ntx,
        recent,
        raw: None,
        cancel: cancel.clone(),
        stop: stops.stop,
        wind_down: stops.wind_down,
    };
    let task = tokio::spawn(session::run(
        Duplex {
            to_server,
            from_server,
        },
        ctx,
    ));
    (Server { send, recv }, nrx, cancel, task)
}

fn start() -> Harness {
    let (etx, events) = mpsc::channel(64);
    let (server, notices, cancel, task) = start_with(Arc::new(Mutex::new(RecentFrames::default())), etx);
    Harness {
        server,
        events,
        notices,
        cancel,
        task,
    }
}

fn presence(user: &str, n: u32) -> String {
    format!(
        r#"{{"topicName":"v2.users.{user}.presence","eventBody":{{"presenceDefinition":{{"id":"p","systemPresence":"Available"}},"modifiedDate":"2026-08-15T08:39:{n:02}.000Z"}},"metadata":{{"CorrelationId":"c{n}"}}}}"#
    )
}

async fn next_presence(h: &mut Harness) -> String {
    match h.events.recv().await.expect("event") {
        UpstreamEvent::Notification {
            notification: Notification::Presence(p),
            ..
        } => p.user_id,
        other => panic!("{other:?}"),
    }
}

#[tokio::test(start_paused = true)]
async fn silent_socket_gets_a_ping_then_times_out() {
    let mut h = start();
    let t0 = Instant::now();
    let ping = h.server.recv.next().await.expect("ping");
    assert_eq!(ping, Message::text(r#"{"message":"ping"}"#));
    assert_eq!(t0.elapsed(), HEARTBEAT);
    let end = h.task.await.unwrap();
    assert_eq!(end, SessionEnd::HeartbeatTimeout);
    assert_eq!(t0.elapsed(), HEARTBEAT + PONG);
}

#[tokio::test(start_paused = true)]
async fn pong_keeps_the_session_alive() {
    let mut h = start();
    assert!(h.server.recv.next().await.is_some(), "ping sent");
    h.server
        .text(r#"{"topicName":"channel.metadata","eventBody":{"message":"pong"}}"#);
    tokio::time::sleep(PONG * 2).await;
    assert!(!h.task.is_finished(), "a pong resets the watchdog");
    h.server.text(&presence("u1", 1));
    assert_eq!(next_presence(&mut h).await, "u1");
    // heartbeats also count as liveness
    for _ in 0..5 {
        tokio::time::sleep(HEARTBEAT - Duration::from_secs(1)).await;
        h.server
            .text(r#"{"topicName":"channel.metadata","eventBody":{"message":"WebSocket Heartbeat"}}"#);
    }
    tokio::task::yield_now().await;
    assert!(!h.task.is_finished());
    h.cancel.cancel();
    assert_eq!(h.task.await.unwrap(), SessionEnd::Cancelled);
}

#[tokio::test(start_paused = true)]
async fn malformed_frames_are_counted_and_survived() {
    let recorder = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
    let handle = recorder.handle();
    let _guard = metrics::set_default_local_recorder(&recorder);
    let (etx, mut events) = mpsc::channel(64);
    let (server, _n, _c, _task) = start_with(Arc::new(Mutex::new(RecentFrames::default())), etx);
    let mut h_events = || events.try_recv();
    server.text("{not json");
    server.text(r#"{"topicName":"v2.routing.queues.q.members","eventBody":{}}"#);
    server.text(r#"{"topicName":"v2.users.u1.presence","eventBody":{"modifiedDate":42}}"#);
    server.text(&"x".repeat(5000));
    server
        .send
        .unbounded_send(Ok(Message::binary(vec![1u8, 2, 3])))
        .unwrap();
    server.text(&presence("u2", 2));
    let mut got = None;
    for _ in 0..100 {
        tokio::task::yield_now().await;
        if let Ok(e) = h_events() {
            got = Some(e);
            break;
        }
    }
    let Some(UpstreamEvent::Notification {
        notification: Notification::Presence(p),
        ..
    }) = got
    else {
        panic!("valid event after bad ones: {got:?}")
    };
    assert_eq!(p.user_id, "u2");
    let text = handle.render();
    for reason in [
        "invalid_json",
        "unknown_topic",
        "wrong_type",
        "oversized",
        "binary",
    ] {
        let line = format!("wfm_reactor_frames_rejected_total{{reason=\"{reason}\"}} 1");
        assert!(text.contains(&line), "missing {line} in\n{text}");
    }
    assert!(
        text.contains("wfm_reactor_notifications_received_total{kind=\"presence\"} 1"),
        "{text}"
    );
}

#[tokio::test(start_paused = true)]
async fn result_404_ends_with_channel_gone() {
    let h = start();
    h.server.text(r#"{"result":"404","message":"channel expired"}"#);
    assert_eq!(
        h.task.await.unwrap(),
        SessionEnd::ChannelGone("channel expired".into())
    );
}

#[tokio::test(start_paused = true)]
async fn socket_closing_notifies_and_keeps_delivering() {
    let mut h = start();
    h.server
        .text(r#"{"topicName":"v2.system.socket_closing","eventBody":{"message":"maintenance"}}"#);
    assert_eq!(h.notices.recv().await, Some(SessionNotice::SocketClosing));
    h.server.text(&presence("u3", 3));
    // the system event itself is forwarded too
    let mut users = Vec::new();
    while users.is_empty() {
        if let UpstreamEvent::Notification {
            notification: Notification::Presence(p),
            ..
        } = h.events.recv().await.unwrap()
        {
            users.push(p.user_id);
        }
    }
    assert_eq!(users, vec!["u3"]);
    drop(h.server.send);
    assert!(matches!(h.task.await.unwrap(), SessionEnd::Closed(_)));
}

#[tokio::test(start_paused = true)]
async fn overlapping_sockets_deliver_each_frame_once() {
    let recent = Arc::new(Mutex::new(RecentFrames::default()));
    let (etx, mut events) = mpsc::channel(64);
    let (old, _n1, c1, _t1) = start_with(recent.clone(), etx.clone());
    let (new, _n2, c2, _t2) = start_with(recent, etx);
    old.text(&presence("a", 1));
    new.text(&presence("a", 1));
    new.text(&presence("b", 2));
    old.text(&presence("b", 2));
    new.text(&presence("c", 3));
    let mut users = Vec::new();
    for _ in 0..3 {
        if let UpstreamEvent::Notification {
            notification: Notification::Presence(p),
            ..
        } = events.recv().await.unwrap()
        {
            users.push(p.user_id);
        }
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(events.try_recv().is_err(), "no duplicate delivered");
    users.sort();
    assert_eq!(users, vec!["a", "b", "c"]);
    c1.cancel();
    c2.cancel();
}

/// A token rollover winds the old socket down instead of closing it: frames the server
/// already sent (here queued behind a reactor that takes one event at a time) are all
/// still delivered, and the socket closes once it has been quiet for the drain window.
#[tokio::test(start_paused = true)]
async fn a_winding_down_session_delivers_what_was_sent_then_closes_when_quiet() {
    let (etx, mut events) = mpsc::channel(1);
    let stops = Stops::default();
    let (server, _n, _c, task) =
        start_stoppable(Arc::new(Mutex::new(RecentFrames::default())), etx, stops.clone());
    for n in 0..5 {
        server.text(&presence(&format!("u{n}"), n));
    }
    tokio::task::yield_now().await;
    stops.wind_down.cancel();
    let t0 = Instant::now();
    let mut users = Vec::new();
    while users.len() < 5 {
        match events.recv().await.expect("an event before the close") {
            UpstreamEvent::Notification {
                notification: Notification::Presence(p),
                ..
            } => users.push(p.user_id),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(users, ["u0", "u1", "u2", "u3", "u4"]);
    assert_eq!(task.await.unwrap(), SessionEnd::Superseded);
    assert_eq!(
        t0.elapsed(),
        Duration::from_millis(500),
        "closed after the quiet window"
    );
}

/// While frames keep coming (the old channel's subscriptions not yet removed) a
/// winding-down socket stays open; `stop` still closes it at once.
#[tokio::test(start_paused = true)]
async fn a_winding_down_session_stays_while_frames_flow_and_stop_still_closes_it() {
    let (etx, mut events) = mpsc::channel(64);
    let stops = Stops::default();
    let (server, _n, _c, task) =
        start_stoppable(Arc::new(Mutex::new(RecentFrames::default())), etx, stops.clone());
    stops.wind_down.cancel();
    for n in 0..4 {
        tokio::time::sleep(Duration::from_millis(400)).await;
        server.text(&presence("u1", n));
        assert!(events.recv().await.is_some());
        assert!(!task.is_finished(), "frame {n} kept the socket open");
    }
    stops.stop.cancel();
    assert_eq!(task.await.unwrap(), SessionEnd::Superseded);
}
