//! Presence floods for benchmarks: `total` presence changes round-robin over some agents,
//! pushed to every subscribed socket as fast as the sockets drain them.
//!
//! Why it looks the way it does: the benchmark measures the daemon, so the simulator must
//! not be the bottleneck nor starve its own REST routes. Each frame is rendered once from
//! pre-rendered pieces (no `serde_json::Value` per event) outside the lock, shared between
//! sockets as reference-counted bytes, and dispatched in batches that take the lock
//! briefly. A per-socket pending counter gives backpressure, so a slow client bounds the
//! queue instead of growing memory.

use super::presence_routes::{definition, presence_of};
use super::reap::reap;
use super::schedules::iso;
use super::state::{AppState, Outbound, StatusState};
use axum::extract::ws::Utf8Bytes;
use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use std::fmt::Write;
use std::sync::atomic::Ordering;
use std::time::Duration;

/// Events rendered and dispatched per lock acquisition.
const BATCH: usize = 256;
/// A socket with more queued frames than this pauses the flood until it drains.
const HIGH_WATER: usize = 1024;

/// Presences a flooded agent cycles through (consecutive ones always differ).
const CYCLE: &[&str] = &[
    "On Queue",
    "Available",
    "Break",
    "Meal",
    "Busy",
    "Away",
    "Meeting",
];

/// One flooded agent with its pre-rendered pieces.
struct Target {
    agent: usize,
    topic: String,
    /// The frame up to the `presenceDefinition` value.
    prefix: String,
    /// Where in [`CYCLE`] its first event starts (after its current presence).
    start: usize,
}

/// The constant frame pieces.
struct Pieces {
    /// `presenceDefinition` JSON per [`CYCLE`] entry.
    definitions: Vec<String>,
    /// Correlation ids are this prefix plus the event number in hex.
    correlation_prefix: String,
}

/// How a flood is sent: as fast as the sockets drain, or paced at a steady rate.
#[derive(Debug, Clone, Copy, Default)]
pub enum Pace {
    /// Batches of [`BATCH`] as fast as the sockets drain (many frames per socket read).
    #[default]
    Flood,
    /// This many events per second, spread over 1 ms ticks (a real stream's arrival
    /// pattern: at 1,000/s one frame per tick, at 10,000/s ten).
    PerSecond(u32),
}

impl Pace {
    /// Events per batch and the time between batches (`None`: back to back).
    fn batch(self) -> (usize, Option<Duration>) {
        match self {
            Pace::Flood => (BATCH, None),
            Pace::PerSecond(r) => {
                let per_ms = (r as usize).div_ceil(1000).max(1);
                let tick = Duration::from_secs_f64(per_ms as f64 / f64::from(r.max(1)));
                (per_ms, Some(tick))
            }
        }
    }
}

/// Sends `total` presence events round-robin over `user_ids` (unknown ids are skipped) at
/// `pace`; returns the frames delivered, summed over sockets.
pub(crate) async fn run(shared: AppState, user_ids: Vec<String>, total: usize, pace: Pace) -> usize {
    let targets = targets(&shared, &user_ids);
    if targets.is_empty() || total == 0 {
        return 0;
    }
    let pieces = Pieces {
        definitions: CYCLE.iter().map(|p| definition(p).to_string()).collect(),
        correlation_prefix: uuid::Uuid::new_v4().to_string()[..24].to_string(),
    };
    let base = {
        let inner = shared.lock();
        let now = Utc::now()
            .duration_trunc(TimeDelta::milliseconds(1))
            .unwrap_or_else(|_| Utc::now());
        inner.flood_clock.map_or(now, |c| c.max(now)) + TimeDelta::milliseconds(1)
    };
    let n = targets.len();
    let mut delivered = 0;
    let mut k = 0;
    let mut frames: Vec<(usize, Utf8Bytes)> = Vec::with_capacity(BATCH);
    let mut date = (usize::MAX, String::new());
    let (batch, tick) = pace.batch();
    let mut ticks = tick.map(|t| {
        let mut i = tokio::time::interval(t);
        i.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
        i
    });
    while k < total {
        if let Some(i) = ticks.as_mut() {
            i.tick().await;
        }
        if !wait_for_room(&shared, &targets).await {
            break;
        }
        let end = (k + batch).min(total);
        frames.clear();
        for e in k..end {
            let round = e / n;
            if date.0 != round {
                date = (round, iso(stamp(base, round)));
            }
            let t = &targets[e % n];
            frames.push((
                e % n,
                render(t, &pieces, (t.start + round) % CYCLE.len(), &date.1, e),
            ));
        }
        delivered += dispatch(&shared, &targets, &frames, base, k, end);
        k = end;
        if ticks.is_none() {
            tokio::task::yield_now().await;
        }
    }
    metrics::counter!("wfm_reactor_sim_flood_events_total").increment(k as u64);
    delivered
}

/// The `modifiedDate` of round `round`: one millisecond per round keeps every agent's
/// dates strictly increasing.
fn stamp(base: DateTime<Utc>, round: usize) -> DateTime<Utc> {
    base + TimeDelta::milliseconds(i64::try_from(round).unwrap_or(i64::MAX / 2))
}

/// Resolves the agents and pre-renders their frame prefixes.
fn targets(shared: &AppState, user_ids: &[String]) -> Vec<Target> {
    let mut out = Vec::with_capacity(user_ids.len());
    let mut seen = std::collections::HashSet::new();
    for id in user_ids {
        if !seen.insert(id.as_str()) {
            continue; // twice in one round would repeat a modifiedDate
        }
        let Some(&agent) = shared.org.agent_index.get(id) else {
            tracing::warn!(user = %id, "sim: flood skips an unknown user");
            metrics::counter!("wfm_reactor_sim_flood_unknown_user_total").increment(1);
            continue;
        };
        let current = presence_of(shared, agent).value;
        let start = CYCLE.iter().position(|p| *p == current).map_or(0, |i| i + 1);
        let topic = format!("v2.users.{id}.presence");
        let prefix = format!(
            r#"{{"topicName":"{topic}","version":"2","eventBody":{{"source":"PURECLOUD","presenceDefinition":"#
        );
        out.push(Target {
            agent,
            topic,
            prefix,
            start,
        });
    }
    out
}

/// Renders event `e` of a target: one string, sized up front.
fn render(t: &Target, pieces: &Pieces, presence: usize, date: &str, e: usize) -> Utf8Bytes {
    let def = &pieces.definitions[presence];
    let mut s = String::with_capacity(t.prefix.len() + def.len() + date.len() + 120);
    s.push_str(&t.prefix);
    s.push_str(def);
    s.push_str(r#","primary":true,"message":"","modifiedDate":""#);
    s.push_str(date);
    s.push_str(r#""},"metadata":{"CorrelationId":""#);
    s.push_str(&pieces.correlation_prefix);
    let _ = write!(s, "{:012x}", e);
    s.push_str(r#""}}"#);
    Utf8Bytes::from(s)
}

/// Waits until no socket subscribed to a flooded topic has more than [`HIGH_WATER`]
/// frames queued; false if the simulator is shutting down.
async fn wait_for_room(shared: &AppState, targets: &[Target]) -> bool {
    loop {
        if shared.cancel.is_cancelled() {
            return false;
        }
        let full = shared.lock().channels.iter().any(|ch| {
            ch.socket
                .as_ref()
                .is_some_and(|s| s.pending.load(Ordering::Relaxed) > HIGH_WATER)
                && targets.iter().any(|t| ch.expanded.contains(&t.topic))
        });
        if !full {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

/// Hands one batch (events `k..end`) to the subscribed sockets and records the agents'
/// new presence; returns the frames delivered.
fn dispatch(
    shared: &AppState,
    targets: &[Target],
    frames: &[(usize, Utf8Bytes)],
    base: DateTime<Utc>,
    k: usize,
    end: usize,
) -> usize {
    let n = targets.len();
    let mut inner = shared.lock();
    reap(shared, &mut inner);
    let mut delivered = 0;
    for (ti, frame) in frames {
        let topic = &targets[*ti].topic;
        for ch in &inner.channels {
            if let Some(sock) = &ch.socket
                && ch.expanded.contains(topic)
                && sock.send(Outbound::Text(frame.clone()))
            {
                delivered += 1;
            }
        }
    }
    // The last min(batch, n) events are the newest of distinct agents (round-robin).
    for e in end.saturating_sub(n).max(k)..end {
        let t = &targets[e % n];
        let round = e / n;
        let value = CYCLE[(t.start + round) % CYCLE.len()].to_string();
        let since = stamp(base, round);
        inner.presence.insert(t.agent, StatusState { value, since });
        inner.flood_clock = Some(inner.flood_clock.map_or(since, |c| c.max(since)));
    }
    metrics::counter!("wfm_reactor_sim_events_published_total").increment(delivered as u64);
    delivered
}
