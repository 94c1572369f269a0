//! Helpers for driving the channel manager against the embedded simulator.

use genesys_sim::{self, SimConfig, SimHandle};
use std::collections::BTreeSet;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::{Instant, timeout};
use tokio_util::sync::CancellationToken;
use wfm_reactor::auth::TokenProvider;
use wfm_reactor::config::{NotificationsConfig, Secret};
use wfm_reactor::notifications::{ChannelManager, ManagerHandle};
use wfm_reactor::topics::{Gap, GapCause, Notification, UpstreamEvent, presence_topics};

/// A small org with a fast heartbeat.
pub fn sim_config() -> SimConfig {
    SimConfig {
        business_units: 1,
        agents: 6,
        heartbeat_interval: Duration::from_millis(200),
        ..SimConfig::default()
    }
}

/// Starts the simulator on an ephemeral port.
pub async fn start_sim(cfg: SimConfig) -> SimHandle {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    genesys_sim::start(cfg, listener).await.unwrap()
}

/// Fast backoff, generous watchdog.
pub fn notifications() -> NotificationsConfig {
    NotificationsConfig {
        backoff_min: Duration::from_millis(20),
        backoff_max: Duration::from_millis(200),
        heartbeat_timeout: Duration::from_secs(2),
        pong_timeout: Duration::from_secs(1),
        ..NotificationsConfig::default()
    }
}

/// A token provider for the simulator's client.
pub fn tokens(sim: &SimHandle) -> TokenProvider {
    TokenProvider::new(
        sim.base_url(),
        sim.client_id(),
        Secret::new(sim.client_secret()),
        reqwest::Client::new(),
    )
}

/// A manager on the simulator and its event stream.
pub fn manager(sim: &SimHandle, cfg: NotificationsConfig) -> (ManagerHandle, mpsc::Receiver<UpstreamEvent>) {
    let (tx, rx) = mpsc::channel(10_000);
    let m = ChannelManager::spawn(
        sim.base_url(),
        tokens(sim),
        reqwest::Client::new(),
        cfg,
        tx,
        CancellationToken::new(),
    );
    (m, rx)
}

/// Agent ids of the first business unit.
pub fn agents(sim: &SimHandle) -> Vec<String> {
    sim.org().business_units[0]
        .management_units
        .iter()
        .flat_map(|m| m.agent_ids.clone())
        .collect()
}

/// Polls `f` every 5 ms; panics after 5 s.
pub async fn until(what: &str, f: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Receives until a presence event of `user` arrives; returns the gaps seen meanwhile.
pub async fn presence_of(rx: &mut mpsc::Receiver<UpstreamEvent>, user: &str) -> Vec<Gap> {
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut gaps = Vec::new();
    loop {
        let ev = timeout(deadline.saturating_duration_since(Instant::now()), rx.recv())
            .await
            .expect("event in time")
            .expect("open");
        match ev {
            UpstreamEvent::Gap(g) => gaps.push(g),
            UpstreamEvent::Notification {
                notification: Notification::Presence(p),
                ..
            } if p.user_id == user => return gaps,
            UpstreamEvent::Notification { .. } => {}
        }
    }
}

/// Waits for a connected socket subscribed to something of `user`, emits a presence change
/// and receives it; returns the gaps seen meanwhile.
pub async fn deliver(sim: &SimHandle, rx: &mut mpsc::Receiver<UpstreamEvent>, user: &str) -> Vec<Gap> {
    until("a subscribed socket", || {
        sim.channels()
            .iter()
            .any(|c| c.connected && c.topics.iter().any(|t| t.contains(user)))
    })
    .await;
    sim.set_presence(user, "Available", true).unwrap();
    presence_of(rx, user).await
}

/// The next gap (notifications before it are skipped).
pub async fn next_gap(rx: &mut mpsc::Receiver<UpstreamEvent>) -> Gap {
    loop {
        match timeout(Duration::from_secs(5), rx.recv())
            .await
            .expect("gap in time")
            .expect("open")
        {
            UpstreamEvent::Gap(g) => return g,
            UpstreamEvent::Notification { .. } => {}
        }
    }
}

/// Panics on any event within `wait` (heartbeats are not events).
pub async fn assert_quiet(rx: &mut mpsc::Receiver<UpstreamEvent>, wait: Duration) {
    if let Ok(Some(ev)) = timeout(wait, rx.recv()).await {
        panic!("unexpected event: {ev:?}");
    }
}

/// A set of topic names.
pub fn set(topics: impl IntoIterator<Item = String>) -> BTreeSet<String> {
    topics.into_iter().collect()
}

/// The small org with more agents (12) and a short `socket_closing` grace (3 s).
pub fn closing_grace_config() -> SimConfig {
    SimConfig {
        agents: 12,
        socket_closing_grace: Duration::from_secs(3),
        ..sim_config()
    }
}

/// A manager watching `users`' presence, past its start gap and ready.
pub async fn running(sim: &SimHandle, users: &[String]) -> (ManagerHandle, mpsc::Receiver<UpstreamEvent>) {
    let (m, mut rx) = manager(sim, notifications());
    m.set_topics(presence_topics(users, false).into_iter().collect())
        .await
        .unwrap();
    let gap = next_gap(&mut rx).await;
    assert_eq!(gap.cause, GapCause::Start);
    until("ready", || {
        m.status().is_ready() && sim.channels().iter().any(|c| c.connected)
    })
    .await;
    (m, rx)
}
