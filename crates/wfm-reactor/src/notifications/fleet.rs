//! Every OAuth client's upstream: one channel manager, token provider and REST budget per
//! client, the topic set spread over them ([`super::spread`]).
//!
//! Why a fleet over managers rather than one manager with more channels: the platform's
//! limits (20 channels, 1,000 topics each, the request rate) are per OAuth client, and a
//! refused client must fail alone. The fleet owns the desired topic set and each client's
//! health; a client whose token is refused gives its topics to the healthy clients (where
//! they have room) and gets them back when its token is granted again.

use super::manager::ManagerHandle;
use super::shard::ShardError;
use super::spread::{Seat, spread};
use super::status::UpstreamStatus;
use crate::auth::TokenProvider;
use crate::wfm::RateBudget;
use serde::Serialize;
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// How often each client's token is looked at for health.
const HEALTH_INTERVAL: Duration = Duration::from_secs(1);

/// One client's parts.
pub struct FleetMember {
    /// OAuth client id (never the secret).
    pub client_id: String,
    /// Its token.
    pub tokens: TokenProvider,
    /// Its REST budget (shared with its channel manager's calls).
    pub budget: RateBudget,
    /// Its channel manager.
    pub manager: ManagerHandle,
    /// Topics it can hold (its channels × topics per channel).
    pub capacity: usize,
    /// Topics per channel and channels (for the refusal's message).
    pub per_channel: usize,
    /// Channels it may open.
    pub max_channels: usize,
}

/// One client's state in `/readyz`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ClientReport {
    /// The OAuth client id.
    pub client: String,
    /// `"held"`, `"refused"` or `"none"`.
    pub token: &'static str,
    /// Channels open and how many are subscribed and connected.
    pub channels: usize,
    /// Channels subscribed and connected.
    pub channels_ready: usize,
    /// Topics assigned to it.
    pub topics: usize,
    /// Seconds its budget is paused after a 429 (0 when not paused).
    pub budget_paused_secs: u64,
    /// Requests its budget would let start at once now (whole tokens; at most the burst).
    pub budget_available: u32,
}

struct State {
    desired: BTreeSet<String>,
    healthy: Vec<bool>,
    refused: Vec<bool>,
    assigned: Vec<usize>,
}

/// Cheap-to-clone handle to every client's upstream.
#[derive(Clone)]
pub struct Fleet {
    members: Arc<Vec<FleetMember>>,
    state: Arc<tokio::sync::Mutex<()>>,
    current: Arc<Mutex<State>>,
}

impl Fleet {
    /// A fleet over `members` (at least one), subscribing nothing yet.
    pub fn new(members: Vec<FleetMember>) -> Self {
        let n = members.len();
        Self {
            members: Arc::new(members),
            state: Arc::new(tokio::sync::Mutex::new(())),
            current: Arc::new(Mutex::new(State {
                desired: BTreeSet::new(),
                healthy: vec![true; n],
                refused: vec![false; n],
                assigned: vec![0; n],
            })),
        }
    }

    /// The clients, in configuration order.
    pub fn members(&self) -> &[FleetMember] {
        &self.members
    }

    /// Replaces the desired topic set and spreads it. Fails (changing nothing) when it
    /// does not fit in every client's capacity together.
    pub async fn set_topics(&self, topics: BTreeSet<String>) -> Result<(), ShardError> {
        let _one_at_a_time = self.state.lock().await;
        let healthy = self.lock().healthy.clone();
        self.apply(&topics, &healthy).await?;
        self.lock().desired = topics;
        Ok(())
    }

    async fn apply(&self, topics: &BTreeSet<String>, healthy: &[bool]) -> Result<(), ShardError> {
        let seats: Vec<Seat> = self
            .members
            .iter()
            .zip(healthy)
            .map(|(m, &healthy)| Seat {
                client_id: m.client_id.clone(),
                capacity: m.capacity,
                healthy,
            })
            .collect();
        let sets = spread(topics, &seats).map_err(|o| ShardError {
            topics: o.topics,
            capacity: o.capacity,
            max_channels: self.members.iter().map(|m| m.max_channels).sum(),
            per_channel: self.members.first().map_or(1000, |m| m.per_channel),
        })?;
        // Shrinking clients first, so a moved topic is never held by two clients at once
        // for longer than one subscribe call.
        let mut order: Vec<usize> = (0..sets.len()).collect();
        let before = self.lock().assigned.clone();
        order.sort_by_key(|&i| sets[i].len() as i64 - before[i] as i64);
        for i in order {
            let n = sets[i].len();
            self.members[i].manager.set_topics(sets[i].clone()).await?;
            self.lock().assigned[i] = n;
            crate::telemetry::upstream::client_topics(&self.members[i].client_id, n);
        }
        Ok(())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.current.lock().expect("fleet state lock")
    }

    /// Every client's channels as one status; slots are numbered per client
    /// (`client index × 1,000 + slot`) so they stay distinct.
    pub fn status(&self) -> UpstreamStatus {
        let mut all = UpstreamStatus::default();
        for (i, m) in self.members.iter().enumerate() {
            let s = m.manager.status();
            let base = i as u64 * 1000;
            all.channels
                .extend(s.channels.into_iter().map(|(slot, c)| (base + slot, c)));
            all.given_up
                .extend(s.given_up.into_iter().map(|(slot, w)| (base + slot, w)));
            all.degraded.extend(s.degraded);
            if let Some(e) = s.error {
                let e = format!("client {}: {e}", m.client_id);
                all.error = Some(all.error.map_or(e.clone(), |prev| format!("{prev}; {e}")));
            }
        }
        all
    }

    /// Each client's token, channels, topics and budget, for `/readyz`.
    pub fn reports(&self) -> Vec<ClientReport> {
        let state = self.lock();
        let now = tokio::time::Instant::now();
        self.members
            .iter()
            .enumerate()
            .map(|(i, m)| {
                let s = m.manager.status();
                ClientReport {
                    client: m.client_id.clone(),
                    token: match (state.refused[i], state.healthy[i]) {
                        (true, _) => "refused",
                        (false, true) => "held",
                        (false, false) => "none",
                    },
                    channels: s.channels.len(),
                    channels_ready: s
                        .channels
                        .values()
                        .filter(|c| c.subscribed && c.connected)
                        .count(),
                    topics: state.assigned[i],
                    budget_paused_secs: m
                        .budget
                        .paused_until()
                        .map_or(0, |t| t.saturating_duration_since(now).as_secs()),
                    budget_available: m.budget.available(),
                }
            })
            .collect()
    }

    /// True while at least one client holds a token.
    pub fn any_token_held(&self) -> bool {
        self.lock().healthy.iter().any(|&h| h)
    }

    /// Stops every client's manager.
    pub async fn shutdown(&self) {
        for m in self.members.iter() {
            m.manager.shutdown().await;
        }
    }

    /// Watches every client's token; when one is refused (or comes back) the topic set is
    /// spread again, so its topics move to the healthy clients and back.
    pub async fn watch_health(self, cancel: CancellationToken) {
        loop {
            let mut health = Vec::with_capacity(self.members.len());
            for m in self.members.iter() {
                health.push(client_health(&m.tokens).await);
            }
            self.on_health(&health).await;
            tokio::select! {
                _ = cancel.cancelled() => return,
                _ = tokio::time::sleep(HEALTH_INTERVAL) => {}
            }
        }
    }

    async fn on_health(&self, health: &[Health]) {
        let _one_at_a_time = self.state.lock().await;
        let healthy: Vec<bool> = health.iter().map(|h| *h == Health::Held).collect();
        // Runs every second: the topic set (one per watched agent) is copied only when a
        // client's health changed, not on every tick.
        let desired = {
            let mut s = self.lock();
            s.refused = health.iter().map(|h| *h == Health::Refused).collect();
            let changed = s.healthy != healthy && self.members.len() >= 2;
            s.healthy = healthy.clone();
            changed.then(|| s.desired.clone())
        };
        for (m, h) in self.members.iter().zip(health) {
            crate::telemetry::upstream::client_healthy(&m.client_id, *h == Health::Held);
        }
        let Some(desired) = desired else { return };
        tracing::warn!(healthy = ?healthy, "an OAuth client's token changed state; spreading topics again");
        if let Err(err) = self.apply(&desired, &healthy).await {
            tracing::error!(error = %err, "topics could not be spread again");
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Health {
    Held,
    Refused,
    Missing,
}

async fn client_health(tokens: &TokenProvider) -> Health {
    match tokens.token().await {
        Ok(_) => Health::Held,
        Err(e) if e.is_fatal() => Health::Refused,
        Err(_) => Health::Missing,
    }
}
