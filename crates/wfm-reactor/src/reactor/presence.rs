//! The presence path: no debounce (a presence event carries its own payload); decide against
//! the in-memory cache (loaded from the store), batch the commits, never block on one.

use super::Context;
use crate::events::{Cause, NewEvent, PresenceChanged, PresenceRef, RoutingStatusChanged};
use crate::presence::{
    Decision, PresenceState, RoutingState, decide, decide_routing, normalise_system_presence,
};
use crate::store::{Batch, StateChange, StoredPresence, StoredRoutingStatus};
use crate::topics::{PresenceUpdate, RoutingStatusUpdate};
use std::collections::HashMap;
use std::sync::Arc;
use tokio::task::JoinSet;
use tokio::time::Instant;

/// Commits in flight before the reactor waits (backpressure onto the websocket reader).
const MAX_IN_FLIGHT: usize = 16;

/// Last-known presence and routing status per user. The reactor's copy is authoritative for
/// decisions (single writer); every change is also committed to the store.
#[derive(Debug, Default)]
pub struct PresenceCache {
    /// Presence per user id.
    pub presence: HashMap<String, PresenceState>,
    /// Routing status per user id.
    pub routing: HashMap<String, RoutingState>,
}

fn rfc3339(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn skipped(kind: &'static str, reason: &'static str) {
    metrics::counter!("wfm_reactor_updates_skipped_total", "kind" => kind, "reason" => reason).increment(1);
}

/// The store's row for a presence state (the store keeps empty strings for unknowns).
fn stored_form(p: &PresenceState, modified_date: String) -> StoredPresence {
    StoredPresence {
        system_presence: p.system_presence.clone(),
        presence_definition_id: p.presence_definition_id.clone().unwrap_or_default(),
        modified_date,
    }
}

/// Where an observation came from, and whether a real change is emitted (a snapshot with
/// `initial_snapshot = false` records silently).
#[derive(Debug, Clone, Copy)]
pub struct Origin {
    /// The `cause` of emitted events.
    pub cause: Cause,
    /// Emit events for real changes (false: record the baseline only).
    pub emit: bool,
    /// When the triggering frame arrived (latency metric).
    pub received_at: Option<Instant>,
}

impl Origin {
    fn live(received_at: Instant) -> Self {
        Self {
            cause: Cause::Notification,
            emit: true,
            received_at: Some(received_at),
        }
    }
}

/// Applies one observed presence (notification or REST) to the cache, adding the state
/// change and, for a real change, the event to `batch`.
pub fn apply_presence(
    ctx: &Context,
    cache: &mut PresenceCache,
    user_id: &str,
    incoming: PresenceState,
    source: Option<String>,
    origin: Origin,
    batch: &mut Batch,
) {
    let Origin {
        cause,
        emit,
        received_at,
    } = origin;
    match decide(cache.presence.get(user_id), &incoming) {
        Decision::Emit { previous } => {
            let modified = incoming
                .modified_date
                .clone()
                .unwrap_or_else(|| rfc3339(chrono::Utc::now()));
            batch.changes.push(StateChange::Presence {
                user_id: user_id.to_string(),
                presence: stored_form(&incoming, modified.clone()),
            });
            if emit {
                let data = PresenceChanged {
                    user_id: user_id.to_string(),
                    system_presence: incoming.system_presence.clone(),
                    presence_definition_id: incoming.presence_definition_id.clone().unwrap_or_default(),
                    previous: previous.map(|p| PresenceRef {
                        system_presence: p.system_presence,
                        presence_definition_id: p.presence_definition_id.unwrap_or_default(),
                    }),
                    modified_date: modified,
                    source,
                    cause,
                };
                batch
                    .events
                    .push(NewEvent::presence_changed(&ctx.api_host, &data).received_at(received_at));
            }
            cache.presence.insert(user_id.to_string(), incoming);
        }
        Decision::Duplicate { advance } => {
            skipped("presence", "duplicate");
            if advance && let Some(stored) = cache.presence.get_mut(user_id) {
                stored.modified_date = incoming.modified_date.clone();
                let modified = stored.modified_date.clone().unwrap_or_default();
                batch.changes.push(StateChange::Presence {
                    user_id: user_id.to_string(),
                    presence: stored_form(stored, modified),
                });
            }
        }
        Decision::Stale => skipped("presence", "stale"),
    }
}

/// Applies one observed routing status, like [`apply_presence`].
pub fn apply_routing(
    ctx: &Context,
    cache: &mut PresenceCache,
    user_id: &str,
    incoming: RoutingState,
    origin: Origin,
    batch: &mut Batch,
) {
    let Origin {
        cause,
        emit,
        received_at,
    } = origin;
    match decide_routing(cache.routing.get(user_id), &incoming) {
        Decision::Emit { previous } => {
            let start = incoming
                .start_time
                .clone()
                .unwrap_or_else(|| rfc3339(chrono::Utc::now()));
            batch.changes.push(StateChange::RoutingStatus {
                user_id: user_id.to_string(),
                status: StoredRoutingStatus {
                    status: incoming.status.clone(),
                    start_time: start.clone(),
                },
            });
            if emit {
                let data = RoutingStatusChanged {
                    user_id: user_id.to_string(),
                    status: incoming.status.clone(),
                    previous_status: previous.map(|p| p.status),
                    start_time: start,
                    cause,
                };
                batch
                    .events
                    .push(NewEvent::routing_status_changed(&ctx.api_host, &data).received_at(received_at));
            }
            cache.routing.insert(user_id.to_string(), incoming);
        }
        Decision::Duplicate { .. } => skipped("routing_status", "duplicate"),
        Decision::Stale => skipped("routing_status", "stale"),
    }
}

/// Batches live presence/routing changes and commits them without blocking the reactor loop.
pub struct Pipeline {
    ctx: Arc<Context>,
    batch: Batch,
    commits: JoinSet<()>,
}

impl Pipeline {
    /// An empty pipeline.
    pub fn new(ctx: Arc<Context>) -> Self {
        Self {
            ctx,
            batch: Batch::default(),
            commits: JoinSet::new(),
        }
    }

    /// A live presence notification.
    pub fn presence(&mut self, p: PresenceUpdate, received_at: Instant) {
        let Some(raw) = p.system_presence.as_deref() else {
            skipped("presence", "no_system_presence");
            return;
        };
        let incoming = PresenceState {
            system_presence: normalise_system_presence(raw).display,
            presence_definition_id: p.presence_definition_id.clone(),
            modified_date: p.modified_date.map(rfc3339),
        };
        let mut cache = self.ctx.presence.lock().expect("presence cache lock");
        apply_presence(
            &self.ctx,
            &mut cache,
            &p.user_id,
            incoming,
            p.source,
            Origin::live(received_at),
            &mut self.batch,
        );
    }

    /// A live routing-status notification.
    pub fn routing(&mut self, r: RoutingStatusUpdate, received_at: Instant) {
        let Some(status) = r.status else {
            skipped("routing_status", "no_status");
            return;
        };
        let incoming = RoutingState {
            status,
            start_time: r.start_time.map(rfc3339),
        };
        let mut cache = self.ctx.presence.lock().expect("presence cache lock");
        apply_routing(
            &self.ctx,
            &mut cache,
            &r.user_id,
            incoming,
            Origin::live(received_at),
            &mut self.batch,
        );
    }

    /// Sends the accumulated batch to the store (group commit batches further), waiting only
    /// when too many commits are already in flight.
    pub async fn flush(&mut self) {
        while let Some(done) = self.commits.try_join_next() {
            if let Err(err) = done {
                tracing::error!(error = %err, "presence commit task panicked");
            }
        }
        if self.batch.changes.is_empty() && self.batch.events.is_empty() {
            return;
        }
        while self.commits.len() >= MAX_IN_FLIGHT {
            self.commits.join_next().await;
        }
        let batch = std::mem::take(&mut self.batch);
        let ctx = self.ctx.clone();
        self.commits.spawn(async move {
            if let Err(err) = ctx.store.commit(batch).await {
                // The cache is ahead of the store now: reload it from the store, so later
                // decisions (and `previous`) match what was really committed.
                tracing::error!(error = %err, "presence commit failed; reloading the presence cache from the store");
                metrics::counter!("wfm_reactor_commit_failures_total", "path" => "presence").increment(1);
                if let Err(err) = reload_cache(&ctx).await {
                    tracing::error!(error = %err, "cannot reload the presence cache");
                }
            }
        });
    }

    /// Flushes and waits for every commit (shutdown).
    pub async fn drain(&mut self) {
        self.flush().await;
        while self.commits.join_next().await.is_some() {}
    }
}

/// Replaces the cache with the store's copy (start-up, and after a failed commit).
pub async fn reload_cache(ctx: &Context) -> Result<(), crate::store::StoreError> {
    let stored = ctx.store.all_presences().await?;
    let presence = stored
        .into_iter()
        .map(|(user, p)| {
            let state = PresenceState {
                system_presence: p.system_presence,
                presence_definition_id: Some(p.presence_definition_id).filter(|d| !d.is_empty()),
                modified_date: Some(p.modified_date).filter(|d| !d.is_empty()),
            };
            (user, state)
        })
        .collect();
    let mut cache = ctx.presence.lock().expect("presence cache lock");
    cache.presence = presence;
    Ok(())
}
