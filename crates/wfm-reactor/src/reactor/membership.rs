//! Which business units, management units and agents are watched, and the topic set that
//! follows from `[watch]`. Re-read periodically; the channel manager applies the difference.
//!
//! The reactor owns the current [`Membership`]: a refresh is a message to it, and the
//! tasks it spawns get an immutable snapshot (`Arc`) taken when they start, so nothing
//! reads it behind a lock while another place writes it.

use super::Context;
use crate::config::{Config, PresenceScope};
use crate::topics::{bu_schedule_topic, mu_adherence_topic, mu_agent_schedules_topic, presence_topics};
use crate::wfm::{WfmClient, WfmError};
use std::collections::{BTreeMap, BTreeSet};

/// One watched business unit.
#[derive(Debug, Clone, Default)]
pub struct WatchedBu {
    /// IANA time zone from the BU settings.
    pub time_zone: String,
    /// Management unit id → agent user ids.
    pub management_units: BTreeMap<String, Vec<String>>,
}

/// The watched org as last resolved.
#[derive(Debug, Clone, Default)]
pub struct Membership {
    /// Business unit id → details.
    pub business_units: BTreeMap<String, WatchedBu>,
    /// Agent user id → display name, where the management unit users route gave one.
    pub names: BTreeMap<String, String>,
}

/// Longest agent name kept (longer ones are cut at a character boundary).
const MAX_NAME: usize = 200;

/// A printable, bounded name, or `None`.
fn clean_name(name: Option<String>) -> Option<String> {
    let name: String = name?.chars().filter(|c| !c.is_control()).collect();
    let name = name.trim();
    let cut = name.char_indices().nth(MAX_NAME).map_or(name.len(), |(i, _)| i);
    Some(name[..cut].to_string()).filter(|n| !n.is_empty())
}

impl Membership {
    /// Every watched management unit id.
    pub fn management_units(&self) -> impl Iterator<Item = &str> {
        self.business_units
            .values()
            .flat_map(|bu| bu.management_units.keys().map(String::as_str))
    }

    /// Every agent of every watched management unit.
    pub fn agents(&self) -> BTreeSet<String> {
        self.business_units
            .values()
            .flat_map(|bu| bu.management_units.values().flatten().cloned())
            .collect()
    }
}

/// Users whose presence is watched: the agents (per `watch.presence`) plus `watch.users`.
pub fn watched_users(config: &Config, m: &Membership) -> BTreeSet<String> {
    let mut users: BTreeSet<String> = config.watch.users.iter().cloned().collect();
    if config.watch.presence == PresenceScope::ScheduledAgents {
        users.extend(m.agents());
    }
    users
}

/// The topic set for the channel manager (what is counted against the channels' capacity
/// and spread over them): per watched business unit its schedule topic, with Genesys
/// adherence per watched management unit its adherence topic, the presence topics, and
/// per watched management unit its `agentschedules.changed` topic when they all fit.
/// That last one only narrows schedule fetches, so it is left out (logged) rather than
/// have the set refused as too large.
pub fn topic_set(config: &Config, m: &Membership) -> BTreeSet<String> {
    let mut topics: BTreeSet<String> = m.business_units.keys().map(|bu| bu_schedule_topic(bu)).collect();
    topics.extend(presence_topics(
        watched_users(config, m),
        config.watch.routing_status,
    ));
    if genesys_adherence(config) {
        topics.extend(m.management_units().map(mu_adherence_topic));
    }
    let hints: Vec<String> = m.management_units().map(mu_agent_schedules_topic).collect();
    let capacity = topic_capacity(config);
    if topics.len() + hints.len() <= capacity {
        topics.extend(hints);
    } else if !hints.is_empty() {
        tracing::warn!(
            topics = topics.len(),
            left_out = hints.len(),
            capacity,
            "no room for the units' agentschedules.changed topics: schedule fetches are not narrowed"
        );
    }
    topics
}

/// Topics every OAuth client's channels hold together (one channel each kept spare).
pub fn topic_capacity(config: &Config) -> usize {
    let n = &config.notifications;
    let per_channel = n.max_topics_per_channel.clamp(1, 1000);
    let channels = crate::notifications::manager::usable_channels(n.max_channels);
    config.genesys.oauth_clients().len().max(1) * per_channel * channels
}

/// Whether Genesys's own adherence is wanted: `[watch] adherence` on and `[adherence]
/// mode` not `"local"`. Presence topics stay either way (presence events, and the local
/// engine's fallback for a unit whose adherence topic is refused).
pub fn genesys_adherence(config: &Config) -> bool {
    config.watch.adherence && config.adherence.mode != crate::config::AdherenceMode::Local
}

/// Resolves `[watch] business_units` (`"*"` = every BU the client can see) with their time
/// zones, management units and agents.
pub async fn resolve_membership(config: &Config, wfm: &WfmClient) -> Result<Membership, WfmError> {
    let ids: Vec<String> = if config.watch.business_units.iter().any(|b| b == "*") {
        wfm.business_units()
            .await?
            .into_iter()
            .filter(|b| b.authorized != Some(false))
            .filter_map(|b| b.id)
            .collect()
    } else {
        config.watch.business_units.clone()
    };
    let mut m = Membership::default();
    for bu in ids {
        let details = wfm.business_unit(&bu).await?;
        let time_zone = details
            .settings
            .and_then(|s| s.time_zone)
            .unwrap_or_else(|| "UTC".to_string());
        let mut management_units = BTreeMap::new();
        for mu in wfm.management_units(&bu).await? {
            let Some(mu_id) = mu.id else { continue };
            let members = wfm.management_unit_members(&mu_id).await?;
            let mut agents = Vec::with_capacity(members.len());
            for (id, name) in members {
                if let Some(name) = clean_name(name) {
                    m.names.insert(id.clone(), name);
                }
                agents.push(id);
            }
            management_units.insert(mu_id, agents);
        }
        m.business_units.insert(
            bu,
            WatchedBu {
                time_zone,
                management_units,
            },
        );
    }
    Ok(m)
}

/// The business unit's time zone (from membership; one REST call if unknown).
pub async fn time_zone(ctx: &Context, membership: &Membership, bu: &str) -> String {
    if let Some(b) = membership.business_units.get(bu) {
        return b.time_zone.clone();
    }
    match ctx.wfm.business_unit(bu).await {
        Ok(details) => details
            .settings
            .and_then(|s| s.time_zone)
            .unwrap_or_else(|| "UTC".into()),
        Err(err) => {
            tracing::warn!(business_unit = %bu, error = %err, "cannot read the business unit time zone; using UTC");
            "UTC".into()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn org(agents: usize) -> Membership {
        let mus = (0..10)
            .map(|m| {
                let ids = (0..agents / 10).map(|a| format!("u{m}-{a}")).collect();
                (format!("mu{m}"), ids)
            })
            .collect();
        let bu = WatchedBu {
            time_zone: "UTC".into(),
            management_units: mus,
        };
        Membership {
            business_units: BTreeMap::from([("bu".to_string(), bu)]),
            names: BTreeMap::new(),
        }
    }

    fn config(max_channels: usize) -> Config {
        let text = format!(
            "[genesys]\nregion = \"mypurecloud.com\"\nclient_id = \"c\"\nclient_secret = \"s\"\n\
             [notifications]\nmax_channels = {max_channels}\n[[sinks]]\ntype = \"stdout\"\n"
        );
        Config::from_toml_str(&text).unwrap()
    }

    #[test]
    fn names_are_printable_and_bounded() {
        assert_eq!(
            clean_name(Some(" Ada\u{7} Lovelace ".into())).as_deref(),
            Some("Ada Lovelace")
        );
        assert_eq!(
            clean_name(Some("é".repeat(300))).unwrap().chars().count(),
            MAX_NAME
        );
        assert_eq!(clean_name(Some("  ".into())), None);
    }

    #[test]
    fn unit_hint_topics_are_counted_and_left_out_only_when_they_do_not_fit() {
        // one channel: 1,000 topics
        let set = topic_set(&config(1), &org(900));
        let hints = set
            .iter()
            .filter(|t| t.ends_with(".agentschedules.changed"))
            .count();
        assert_eq!(hints, 10);
        assert!(set.len() <= topic_capacity(&config(1)));
        let set = topic_set(&config(1), &org(980));
        assert!(set.iter().all(|t| !t.ends_with(".agentschedules.changed")));
        assert!(set.contains("v2.users.u0-0.presence"), "presence kept");
    }
}
