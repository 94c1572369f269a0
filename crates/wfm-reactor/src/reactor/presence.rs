//! The presence path: no debounce (a presence event carries its own payload); decide against
//! the in-memory cache (loaded from the store) and collect the changes into the next batch.
//!
//! [`Presence`] lives inside the reactor and nowhere else: live notifications and what a
//! reconcile observed are decided here, on the reactor task, one after the other, so each
//! event's `previous` is the decision before it. Committing the batches in that same order
//! is [`super::commits`]' job.

use super::handle::UserState;
use super::reconcile::Observed;
use super::ties::InstantTies;
use crate::events::{Cause, NewEvent, PresenceChanged, PresenceRef, RoutingStatusChanged};
use crate::presence::{
    Decision, PresenceState, RoutingState, decide, decide_routing, normalise_system_presence,
};
use crate::store::{Batch, StateChange, Store, StoredPresence, StoredRoutingStatus};
use crate::topics::{PresenceUpdate, RoutingStatusUpdate};
use std::collections::{BTreeMap, HashMap};
use tokio::time::Instant;

/// Last-known presence and routing status per user. Authoritative for decisions; every
/// change is also committed to the store, its durable copy.
#[derive(Debug, Default)]
struct PresenceCache {
    presence: HashMap<String, PresenceState>,
    routing: HashMap<String, RoutingState>,
    /// Per user, the presences already decided at one instant ([`InstantTies`]).
    ties: InstantTies,
}

fn rfc3339(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn skipped(kind: &'static str, reason: &'static str) {
    crate::telemetry::reactor::update_skipped(kind, reason);
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
struct Origin {
    /// The `cause` of emitted events.
    cause: Cause,
    /// Emit events for real changes (false: record the baseline only).
    emit: bool,
    /// When the triggering frame arrived (latency metric).
    received_at: Option<Instant>,
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
fn apply_presence(
    api_host: &str,
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
    if cache.ties.seen(user_id, &incoming) {
        skipped("presence", "tie_seen");
        return;
    }
    match decide(cache.presence.get(user_id), &incoming) {
        Decision::Emit { previous } => {
            cache.ties.decided(user_id, previous.as_ref(), &incoming);
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
                    .push(NewEvent::presence_changed(api_host, &data).received_at(received_at));
            }
            cache.presence.insert(user_id.to_string(), incoming);
        }
        Decision::Duplicate { advance } => {
            skipped("presence", "duplicate");
            if advance && let Some(stored) = cache.presence.get_mut(user_id) {
                stored.modified_date = incoming.modified_date.clone();
                cache.ties.forget(user_id);
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
fn apply_routing(
    api_host: &str,
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
                    .push(NewEvent::routing_status_changed(api_host, &data).received_at(received_at));
            }
            cache.routing.insert(user_id.to_string(), incoming);
        }
        Decision::Duplicate { .. } => skipped("routing_status", "duplicate"),
        Decision::Stale => skipped("routing_status", "stale"),
    }
}

/// The reactor's presence state: the cache and the batch of changes not yet queued.
pub struct Presence {
    api_host: String,
    cache: PresenceCache,
    batch: Batch,
}

impl Presence {
    /// An empty cache; [`Presence::reload`] fills it from the store.
    pub fn new(api_host: String) -> Self {
        Self {
            api_host,
            cache: PresenceCache::default(),
            batch: Batch::default(),
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
        let origin = Origin::live(received_at);
        let (cache, batch) = (&mut self.cache, &mut self.batch);
        apply_presence(
            &self.api_host,
            cache,
            &p.user_id,
            incoming,
            p.source,
            origin,
            batch,
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
        let origin = Origin::live(received_at);
        apply_routing(
            &self.api_host,
            &mut self.cache,
            &r.user_id,
            incoming,
            origin,
            &mut self.batch,
        );
    }

    /// What a reconcile observed. A snapshot (`cause` snapshot) records silently unless
    /// `emit_snapshot`.
    pub fn observed(&mut self, observed: Observed, cause: Cause, emit_snapshot: bool) {
        let origin = Origin {
            cause,
            emit: cause != Cause::Snapshot || emit_snapshot,
            received_at: None,
        };
        let (host, cache, batch) = (&self.api_host, &mut self.cache, &mut self.batch);
        for (user, state, source) in observed.presence {
            apply_presence(host, cache, &user, state, source, origin, batch);
        }
        for (user, state) in observed.routing {
            apply_routing(host, cache, &user, state, origin, batch);
        }
    }

    /// Forgets every user not in `watched` (membership changed): cache entries go now,
    /// their store rows with the next batch. Returns how many were forgotten.
    pub fn prune(&mut self, watched: &std::collections::HashSet<String>) -> usize {
        let gone: std::collections::BTreeSet<String> = self
            .cache
            .presence
            .keys()
            .chain(self.cache.routing.keys())
            .filter(|u| !watched.contains(*u))
            .cloned()
            .collect();
        for user_id in &gone {
            self.cache.presence.remove(user_id);
            self.cache.ties.forget(user_id);
            self.cache.routing.remove(user_id);
            self.batch.changes.push(StateChange::UserForgotten {
                user_id: user_id.clone(),
            });
        }
        gone.len()
    }

    /// True when decisions wait to be committed.
    pub fn has_pending(&self) -> bool {
        !(self.batch.changes.is_empty() && self.batch.events.is_empty())
    }

    /// The changes decided since the last call, if any.
    pub fn take_batch(&mut self) -> Option<Batch> {
        self.has_pending().then(|| std::mem::take(&mut self.batch))
    }

    /// The batch being built (the adherence engine adds its changes to it, so they commit
    /// with the presence change that caused them).
    pub fn batch_mut(&mut self) -> &mut Batch {
        &mut self.batch
    }

    /// `user`'s presence (display form) and routing status, as decided.
    pub fn current(&self, user: &str) -> (Option<String>, Option<String>) {
        let p = self.cache.presence.get(user).map(|p| p.system_presence.clone());
        let r = self.cache.routing.get(user).map(|r| r.status.clone());
        (p, r)
    }

    /// Every user's routing status as decided (what a reconcile starts from).
    pub fn routing_statuses(&self) -> HashMap<String, String> {
        self.cache
            .routing
            .iter()
            .map(|(u, r)| (u.clone(), r.status.clone()))
            .collect()
    }

    /// Every user's presence (display form, definition id) as decided.
    pub fn presences(&self) -> HashMap<String, (String, Option<String>)> {
        self.cache
            .presence
            .iter()
            .map(|(u, p)| {
                (
                    u.clone(),
                    (p.system_presence.clone(), p.presence_definition_id.clone()),
                )
            })
            .collect()
    }

    /// Loads routing statuses from the store (start-up only: afterwards they stay as
    /// decided). The adherence engine needs them to judge On Queue agents after a restart.
    pub async fn load_routing(&mut self, store: &Store) -> Result<(), crate::store::StoreError> {
        for (user, r) in store.all_routing_statuses().await? {
            let state = RoutingState {
                status: r.status,
                start_time: Some(r.start_time).filter(|t| !t.is_empty()),
            };
            self.cache.routing.entry(user).or_insert(state);
        }
        Ok(())
    }

    /// The last-known state of `users`.
    pub fn users<'a>(&self, users: impl Iterator<Item = &'a String>) -> BTreeMap<String, UserState> {
        users
            .map(|u| {
                let state = UserState {
                    presence: self.cache.presence.get(u).cloned(),
                    routing: self.cache.routing.get(u).cloned(),
                };
                (u.clone(), state)
            })
            .collect()
    }

    /// Replaces the presence cache with the store's copy (start-up, and after a failed
    /// commit, once no commit is in flight). Routing statuses stay as decided.
    pub async fn reload(&mut self, store: &Store) -> Result<(), crate::store::StoreError> {
        let stored = store.all_presences().await?;
        self.cache.ties.clear();
        self.cache.presence = stored
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
        Ok(())
    }
}

#[cfg(test)]
mod tie_tests {
    use super::*;

    fn update(presence: &str, def: &str, ms: i64) -> PresenceUpdate {
        PresenceUpdate {
            user_id: "u1".into(),
            system_presence: Some(presence.into()),
            presence_definition_id: Some(def.into()),
            modified_date: chrono::DateTime::from_timestamp_millis(1_780_000_000_000 + ms),
            source: None,
        }
    }

    /// The soak's finding: X and Y with one `modifiedDate`, then X again, emitted X's id a
    /// second time with another `previous`. Now the repeat is ignored; a later date moves on.
    #[test]
    fn an_earlier_presence_of_the_same_instant_arriving_again_emits_nothing() {
        let mut p = Presence::new("api".into());
        let now = Instant::now();
        p.presence(update("Available", "a", 0), now);
        p.presence(update("Busy", "b", 5), now);
        p.presence(update("On Queue", "q", 5), now);
        p.presence(update("Busy", "b", 5), now);
        p.presence(update("On Queue", "q", 5), now);
        let events = p.take_batch().unwrap().events;
        let ids: Vec<&str> = events.iter().map(|e| e.id.as_str()).collect();
        assert_eq!(ids.len(), 3, "Available, Busy, On Queue; no flip back: {ids:?}");
        let unique: std::collections::BTreeSet<&str> = ids.iter().copied().collect();
        assert_eq!(unique.len(), 3, "no id emitted twice");
        p.presence(update("Busy", "b", 6), now);
        assert_eq!(
            p.take_batch().unwrap().events.len(),
            1,
            "a later date is a change again"
        );
        assert_eq!(p.current("u1").0.as_deref(), Some("Busy"));
    }

    /// The second week run's finding: the memory of one instant (Busy and On Queue at
    /// 5) outlived it; when On Queue arrived first at a new instant (a reconcile's read
    /// ahead of the frames) and Busy after it, Busy counted as "already decided" and the
    /// change was never emitted.
    #[test]
    fn the_memory_of_an_instant_does_not_outlive_it() {
        let mut p = Presence::new("api".into());
        let now = Instant::now();
        p.presence(update("Available", "a", 0), now);
        p.presence(update("Busy", "b", 5), now);
        p.presence(update("On Queue", "q", 5), now);
        p.take_batch();
        p.presence(update("On Queue", "q", 9), now);
        p.presence(update("Busy", "b", 9), now);
        let events = p.take_batch().unwrap().events;
        assert_eq!(events.len(), 1, "Busy at 9 is a change");
        assert_eq!(p.current("u1").0.as_deref(), Some("Busy"));
        p.presence(update("On Queue", "q", 9), now);
        p.presence(update("Busy", "b", 9), now);
        let again = p.take_batch().map(|b| b.events.len()).unwrap_or(0);
        assert_eq!(again, 0, "both presences of instant 9 repeated: nothing new");
    }
}
