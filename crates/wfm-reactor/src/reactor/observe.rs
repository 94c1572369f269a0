//! What a reconcile observes of presence and routing status, at the fewest REST calls.
//!
//! One unit adherence answer (`GET .../managementunits/{id}/adherence`, already read for
//! units on Genesys adherence) carries every agent's `systemPresence`,
//! `organizationSecondaryPresenceId` (the presence definition id), `presenceUpdateTime`
//! (the presence's `modifiedDate`) and `routingStatus`: one call per unit instead of one
//! bulk presence call per 50 users (200 calls, ~50 s of a 240/min budget, for 10,000
//! agents). So presence is taken from it for every watched user it describes fully, and
//! the bulk presence route is called only for the rest (units whose re-read was refused
//! or failed, `watch.users` outside every unit, entities missing a field).
//!
//! The observation is the same as the bulk route's: the same `PresenceState` (built by
//! [`PresenceState::from_api`], so the same display form and unknown-presence metric),
//! decided by the reactor with the same duplicate and stale rules, so agreeing paths emit
//! nothing. That `organizationSecondaryPresenceId` is the presence routes'
//! `presenceDefinition.id` is what the simulator does and Genesys's naming suggests, not
//! verified against a real org; so an answer naming the presence already known under
//! another id is not trusted either way, and that user is read in bulk (a wrong id can
//! cost calls, never an event). The one field the adherence model lacks is the presence `source`; it is
//! `PURECLOUD`, the source whose presence the replaced bulk route reads
//! (`/users/presences/purecloud/bulk`).
//!
//! The adherence model has no routing `startTime`, and an event's `startTime` (and the
//! stale rule) needs it, so routing status is used only to skip: a user whose answer names
//! the routing status already known costs no call; any other is read as before, one call
//! per user.

use super::Context;
use crate::genesys::adherence::UserScheduleAdherence;
use crate::genesys::presence::{PresenceDefinition, UserPresence};
use crate::presence::{PresenceState, RoutingState};
use std::collections::{BTreeSet, HashMap};

/// What a reconcile read over REST, handed to the reactor to decide (it may be older than
/// notifications decided meanwhile; the stale rule sorts that out).
#[derive(Debug, Default)]
pub struct Observed {
    /// (user id, presence, `source`) per user that has one.
    pub presence: Vec<(String, PresenceState, Option<String>)>,
    /// (user id, routing status) per user that has one.
    pub routing: Vec<(String, RoutingState)>,
}

/// What the reactor knew when it started a reconcile, and what to re-read.
#[derive(Debug, Default)]
pub struct Start {
    /// Units on Genesys adherence (their adherence is re-read, and gives presence).
    pub adherence_units: Vec<String>,
    /// Routing status per user as decided (a user whose adherence answer agrees costs no
    /// routing call).
    pub known_routing: std::collections::HashMap<String, String>,
    /// Presence per user as decided (an answer naming the same presence under another
    /// definition id is read over the presence route instead).
    pub known_presence: KnownPresence,
}

/// Presence ids per bulk call (platform maximum).
const BULK: usize = 50;
/// The `source` of a presence read from an adherence answer (see the module doc).
const ADHERENCE_SOURCE: &str = "PURECLOUD";
/// Longest id or timestamp accepted from an adherence answer.
const MAX_FIELD: usize = 128;
/// The routing statuses the routing status route answers (the adherence model adds
/// `__EMPTY__` and `OFFLINE`, which the route never reports: such users are read as before).
const ROUTING: [&str; 5] = [
    "OFF_QUEUE",
    "IDLE",
    "INTERACTING",
    "NOT_RESPONDING",
    "COMMUNICATING",
];

/// Unit adherence answers by management unit (what the reconcile re-read).
pub type Answers = [(String, Vec<UserScheduleAdherence>)];

/// What the adherence answers say about watched users.
#[derive(Debug, Default, PartialEq)]
pub struct FromAdherence {
    /// Users described fully, with the presence the bulk route would have given.
    pub presence: HashMap<String, UserPresence>,
    /// Users with a routing status the routing route would also report.
    pub routing: HashMap<String, String>,
}

fn field(s: Option<&str>) -> Option<&str> {
    s.filter(|s| !s.is_empty() && s.len() <= MAX_FIELD)
}

/// The presence an entity describes, in the bulk route's form; `None` when a field the
/// event needs is missing (that user is read in bulk).
fn presence_of(user: &str, a: &UserScheduleAdherence) -> Option<UserPresence> {
    let system = field(a.system_presence.as_deref())?;
    let definition = field(a.organization_secondary_presence_id.as_deref())?;
    let modified = field(a.presence_update_time.as_deref())
        .filter(|t| chrono::DateTime::parse_from_rfc3339(t).is_ok())?;
    Some(UserPresence {
        user_id: Some(user.to_string()),
        source: Some(ADHERENCE_SOURCE.into()),
        presence_definition: Some(PresenceDefinition {
            id: Some(definition.to_string()),
            system_presence: Some(system.to_string()),
        }),
        modified_date: Some(modified.to_string()),
        ..UserPresence::default()
    })
}

/// Presence (display form) and definition id per user, as the reactor knew them.
pub type KnownPresence = HashMap<String, (String, Option<String>)>;

/// True when the answer's presence is the known system presence under another definition
/// id: a secondary presence changed, or the answer's id is not the presence routes' id.
/// Either way the presence route decides (no event can come from an id mismatch).
fn ambiguous(p: &UserPresence, known: Option<&(String, Option<String>)>) -> bool {
    let Some((system, id)) = known else { return false };
    let def = p.presence_definition.as_ref();
    let same_system = def
        .and_then(|d| d.system_presence.as_deref())
        .is_some_and(|s| crate::presence::normalise_system_presence(s).display == *system);
    same_system && def.and_then(|d| d.id.as_ref()) != id.as_ref()
}

/// Reads the answers for the `watched` users (pure: no call, no clock); a user whose
/// answer is [`ambiguous`] against `known` is left to the presence routes.
pub fn from_adherence(answers: &Answers, watched: &BTreeSet<String>, known: &KnownPresence) -> FromAdherence {
    let mut out = FromAdherence::default();
    for a in answers.iter().flat_map(|(_, entities)| entities) {
        let Some(user) = a.user.as_ref().and_then(|u| u.id.as_deref()) else {
            continue;
        };
        if !watched.contains(user) || a.removed_from_management_unit == Some(true) {
            continue;
        }
        if let Some(p) = presence_of(user, a).filter(|p| !ambiguous(p, known.get(user))) {
            out.presence.insert(user.to_string(), p);
        }
        if let Some(r) = a.routing_status.as_deref().filter(|r| ROUTING.contains(r)) {
            out.routing.insert(user.to_string(), r.to_string());
        }
    }
    out
}

/// Presence (and routing status, when watched) of every watched user: from `answers`
/// where they describe the user, over the presence routes otherwise. `start` holds the
/// presence and routing status the reactor knew when the reconcile started.
pub async fn presence_and_routing(
    ctx: &Context,
    users: &BTreeSet<String>,
    answers: &Answers,
    start: &Start,
) -> anyhow::Result<Observed> {
    let known_routing = &start.known_routing;
    let from = from_adherence(answers, users, &start.known_presence);
    let rest: Vec<String> = users
        .iter()
        .filter(|u| !from.presence.contains_key(*u))
        .cloned()
        .collect();
    let mut answered: Vec<UserPresence> = from.presence.into_values().collect();
    for chunk in rest.chunks(BULK) {
        answered.extend(ctx.wfm.presences(chunk).await?);
    }
    let mut observed = Observed::default();
    for p in answered {
        let Some(user) = p.user_id.clone() else { continue };
        if let Some(state) = PresenceState::from_api(&p) {
            observed.presence.push((user, state, p.source.clone()));
        }
    }
    // decided in user order, as when every presence came from the bulk route
    observed.presence.sort_by(|a, b| a.0.cmp(&b.0));
    let mut routing_calls = 0;
    if ctx.config.watch.routing_status {
        for user in users {
            let same = from
                .routing
                .get(user)
                .is_some_and(|s| known_routing.get(user) == Some(s));
            if same {
                continue;
            }
            routing_calls += 1;
            let r = ctx.wfm.routing_status(user).await?;
            if let Some(state) = RoutingState::from_api(&r) {
                observed.routing.push((user.clone(), state));
            }
        }
    }
    crate::telemetry::reactor::reconcile_presence_read(users.len() - rest.len(), rest.len());
    tracing::debug!(
        users = users.len(),
        presence_from_adherence = users.len() - rest.len(),
        presence_in_bulk = rest.len(),
        routing_calls,
        "reconcile observed presence"
    );
    Ok(observed)
}

/// Genesys's adherence of every agent of `units`, one call per unit. A unit whose read
/// fails (a refused route included) is left out, logged and counted by the client: its
/// state stays as last known, its users' presence is read in bulk, and the next reconcile
/// reads it again; the rest of the reconcile goes on.
pub async fn adherence(ctx: &Context, units: &[String]) -> Vec<(String, Vec<UserScheduleAdherence>)> {
    let mut out = Vec::with_capacity(units.len());
    for mu in units {
        match ctx.wfm.management_unit_adherence(mu).await {
            Ok(entities) => out.push((mu.clone(), entities)),
            Err(e) => {
                tracing::warn!(management_unit = %mu, error = %e, "re-reading the unit's adherence failed; the next reconcile retries");
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn entity(v: serde_json::Value) -> UserScheduleAdherence {
        serde_json::from_value(v).unwrap()
    }

    fn full(user: &str) -> serde_json::Value {
        json!({"user": {"id": user}, "systemPresence": "ON_QUEUE",
               "organizationSecondaryPresenceId": "def-oq", "routingStatus": "IDLE",
               "presenceUpdateTime": "2026-12-01T09:00:00.000Z", "adherenceState": "InAdherence"})
    }

    #[test]
    fn a_full_entity_reads_as_the_bulk_route_would() {
        let answers = vec![("mu".to_string(), vec![entity(full("u1"))])];
        let watched = BTreeSet::from(["u1".to_string()]);
        let from = from_adherence(&answers, &watched, &KnownPresence::new());
        let p = &from.presence["u1"];
        let state = PresenceState::from_api(p).unwrap();
        assert_eq!(state.system_presence, "On Queue");
        assert_eq!(state.presence_definition_id.as_deref(), Some("def-oq"));
        assert_eq!(state.modified_date.as_deref(), Some("2026-12-01T09:00:00.000Z"));
        assert_eq!(p.source.as_deref(), Some("PURECLOUD"));
        assert_eq!(from.routing["u1"], "IDLE");
    }

    #[test]
    fn missing_fields_unwatched_and_removed_users_are_left_to_the_presence_routes() {
        let mut no_def = full("u2");
        no_def["organizationSecondaryPresenceId"] = json!(null);
        let mut bad_time = full("u3");
        bad_time["presenceUpdateTime"] = json!("yesterday");
        let mut removed = full("u4");
        removed["removedFromManagementUnit"] = json!(true);
        let mut empty = full("u5");
        empty["routingStatus"] = json!("__EMPTY__");
        let answers = vec![(
            "mu".to_string(),
            [no_def, bad_time, removed, empty, full("stranger")]
                .into_iter()
                .map(entity)
                .collect(),
        )];
        let watched: BTreeSet<String> = ["u2", "u3", "u4", "u5"].map(String::from).into();
        let from = from_adherence(&answers, &watched, &KnownPresence::new());
        let mut covered: Vec<&String> = from.presence.keys().collect();
        covered.sort();
        assert_eq!(covered, ["u5"]);
        let mut routed: Vec<&String> = from.routing.keys().collect();
        routed.sort();
        assert_eq!(
            routed,
            ["u2", "u3"],
            "__EMPTY__ is no routing status of the route"
        );
    }

    #[test]
    fn the_known_system_presence_under_another_id_is_left_to_the_presence_routes() {
        let answers = vec![(
            "mu".to_string(),
            [full("same"), full("other"), full("moved")].map(entity).to_vec(),
        )];
        let watched: BTreeSet<String> = ["same", "other", "moved"].map(String::from).into();
        let known = KnownPresence::from([
            (
                "same".to_string(),
                ("On Queue".to_string(), Some("def-oq".to_string())),
            ),
            (
                "other".to_string(),
                ("On Queue".to_string(), Some("def-elsewhere".to_string())),
            ),
            (
                "moved".to_string(),
                ("Break".to_string(), Some("def-break".to_string())),
            ),
        ]);
        let from = from_adherence(&answers, &watched, &known);
        let mut covered: Vec<&String> = from.presence.keys().collect();
        covered.sort();
        assert_eq!(
            covered,
            ["moved", "same"],
            "a changed system presence is taken as is"
        );
    }
}
