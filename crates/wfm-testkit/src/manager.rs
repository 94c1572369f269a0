//! Driving the channel manager alone against the simulator: a manager with fast backoff,
//! its event stream, and waits for presence, gaps and silence on that stream.

use genesys_sim::SimHandle;
use std::collections::BTreeSet;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::{Instant, timeout};
use tokio_util::sync::CancellationToken;
use wfm_reactor::auth::TokenProvider;
use wfm_reactor::config::{NotificationsConfig, Secret};
use wfm_reactor::notifications::{ChannelManager, ManagerHandle};
use wfm_reactor::topics::{Gap, GapCause, Notification, UpstreamEvent, presence_topics};

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
pub use crate::org::bu_agents as agents;

/// Receives until a presence event of `user` arrives; returns the gaps seen meanwhile.
pub async fn presence_of(rx: &mut mpsc::Receiver<UpstreamEvent>, user: &str) -> Vec<Gap> {
    let deadline = Instant::now() + crate::patience(Duration::from_secs(5));
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
    crate::eventually!(
        sim.channels()
            .iter()
            .any(|c| c.connected && c.topics.iter().any(|t| t.contains(user))),
        "a subscribed socket"
    );
    sim.set_presence(user, "Available", true).unwrap();
    presence_of(rx, user).await
}

/// The next gap (notifications before it are skipped).
pub async fn next_gap(rx: &mut mpsc::Receiver<UpstreamEvent>) -> Gap {
    loop {
        match timeout(crate::patience(Duration::from_secs(5)), rx.recv())
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

/// A manager watching `users`' presence, past its start gap and ready.
pub async fn running(sim: &SimHandle, users: &[String]) -> (ManagerHandle, mpsc::Receiver<UpstreamEvent>) {
    let (m, mut rx) = manager(sim, notifications());
    m.set_topics(presence_topics(users, false).into_iter().collect())
        .await
        .unwrap();
    let gap = next_gap(&mut rx).await;
    assert_eq!(gap.cause, GapCause::Start);
    crate::eventually!(
        m.status().is_ready() && sim.channels().iter().any(|c| c.connected),
        "ready"
    );
    (m, rx)
}
