//! Building and classifying topic names (pure helpers).

/// Longest combined topic the platform accepts.
pub const MAX_COMBINED_TOPIC_LEN: usize = 200;

/// `v2.workforcemanagement.businessunits.{bu}.schedules`.
pub fn bu_schedule_topic(bu: &str) -> String {
    format!("v2.workforcemanagement.businessunits.{bu}.schedules")
}

/// `v2.workforcemanagement.managementunits.{mu}.agentschedules.changed`: which agents'
/// schedules of the unit changed (narrows the schedule fetch that follows).
pub fn mu_agent_schedules_topic(mu: &str) -> String {
    format!("v2.workforcemanagement.managementunits.{mu}.agentschedules.changed")
}

/// `v2.workforcemanagement.managementunits.{mu}.adherence`: Genesys's real-time adherence
/// of every agent of one unit (one topic per unit, not per agent).
pub fn mu_adherence_topic(mu: &str) -> String {
    format!("v2.workforcemanagement.managementunits.{mu}.adherence")
}

/// Presence topics for `user_ids`: `v2.users.{id}.presence`, or the combined
/// `v2.users.{id}?presence&routingStatus` (one subscription slot for both) when routing
/// status is watched. Sorted and deduplicated.
pub fn presence_topics<I, S>(user_ids: I, routing_status: bool) -> Vec<String>
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let mut out: Vec<String> = user_ids
        .into_iter()
        .filter(|id| !id.as_ref().is_empty())
        .flat_map(|id| {
            let id = id.as_ref();
            let combined = format!("v2.users.{id}?presence&routingStatus");
            if !routing_status {
                vec![format!("v2.users.{id}.presence")]
            } else if combined.len() <= MAX_COMBINED_TOPIC_LEN {
                vec![combined]
            } else {
                vec![
                    format!("v2.users.{id}.presence"),
                    format!("v2.users.{id}.routingStatus"),
                ]
            }
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The concrete topics a subscription stands for: `prefix?a&b` → `prefix.a`, `prefix.b`.
pub fn expand_topic(topic: &str) -> Vec<String> {
    match topic.split_once('?') {
        Some((prefix, suffixes)) => suffixes
            .split('&')
            .filter(|s| !s.is_empty())
            .map(|s| format!("{prefix}.{s}"))
            .collect(),
        None => vec![topic.to_string()],
    }
}

/// What a concrete topic name is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TopicKind {
    /// `channel.metadata` (heartbeat, pong).
    ChannelMetadata,
    /// `v2.users.{id}.presence`.
    Presence(String),
    /// `v2.users.{id}.routingStatus`.
    RoutingStatus(String),
    /// `v2.workforcemanagement.businessunits.{id}.schedules`.
    BuSchedule(String),
    /// `v2.workforcemanagement.users.{id}.schedules.query`.
    ScheduleQuery(String),
    /// `v2.workforcemanagement.managementunits.{id}.adherence`.
    MuAdherence(String),
    /// `v2.workforcemanagement.managementunits.{id}.agentschedules.changed`.
    MuAgentSchedules(String),
    /// `v2.system.*` or `v2.subscription.updated`.
    System,
    /// Anything else.
    Unknown,
}

impl TopicKind {
    /// Classifies a concrete topic name.
    pub fn of(topic: &str) -> Self {
        if topic == "channel.metadata" {
            return TopicKind::ChannelMetadata;
        }
        if topic.starts_with("v2.system.") || topic == "v2.subscription.updated" {
            return TopicKind::System;
        }
        let parts: Vec<&str> = topic.split('.').collect();
        let id = |i: usize| parts.get(i).filter(|s| !s.is_empty()).map(|s| s.to_string());
        match parts.as_slice() {
            ["v2", "users", _, "presence"] => id(2).map_or(TopicKind::Unknown, TopicKind::Presence),
            ["v2", "users", _, last] if last.eq_ignore_ascii_case("routingStatus") => {
                id(2).map_or(TopicKind::Unknown, TopicKind::RoutingStatus)
            }
            ["v2", "workforcemanagement", "businessunits", _, "schedules"] => {
                id(3).map_or(TopicKind::Unknown, TopicKind::BuSchedule)
            }
            ["v2", "workforcemanagement", "managementunits", _, "adherence"] => {
                id(3).map_or(TopicKind::Unknown, TopicKind::MuAdherence)
            }
            [
                "v2",
                "workforcemanagement",
                "managementunits",
                _,
                "agentschedules",
                "changed",
            ] => id(3).map_or(TopicKind::Unknown, TopicKind::MuAgentSchedules),
            ["v2", "workforcemanagement", "users", _, "schedules", "query"] => {
                id(3).map_or(TopicKind::Unknown, TopicKind::ScheduleQuery)
            }
            _ => TopicKind::Unknown,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presence_topics_combine_when_routing_status_is_on() {
        assert_eq!(
            presence_topics(["b", "a", "a"], false),
            vec!["v2.users.a.presence", "v2.users.b.presence"]
        );
        assert_eq!(
            presence_topics(["a"], true),
            vec!["v2.users.a?presence&routingStatus"]
        );
        let long = "x".repeat(190);
        assert_eq!(presence_topics([long.as_str()], true).len(), 2);
    }

    #[test]
    fn expands_and_classifies() {
        assert_eq!(
            expand_topic("v2.users.a?presence&routingStatus"),
            vec!["v2.users.a.presence", "v2.users.a.routingStatus"]
        );
        assert_eq!(
            TopicKind::of("v2.users.a.presence"),
            TopicKind::Presence("a".into())
        );
        assert_eq!(
            TopicKind::of("v2.users.a.routingStatus"),
            TopicKind::RoutingStatus("a".into())
        );
        assert_eq!(
            TopicKind::of(&bu_schedule_topic("bu1")),
            TopicKind::BuSchedule("bu1".into())
        );
        assert_eq!(
            TopicKind::of(&mu_adherence_topic("mu1")),
            TopicKind::MuAdherence("mu1".into())
        );
        assert_eq!(
            TopicKind::of(&mu_agent_schedules_topic("mu1")),
            TopicKind::MuAgentSchedules("mu1".into())
        );
        assert_eq!(TopicKind::of("v2.system.socket_closing"), TopicKind::System);
        assert_eq!(TopicKind::of("v2.users..presence"), TopicKind::Unknown);
        assert_eq!(TopicKind::of("v2.routing.queues.q.members"), TopicKind::Unknown);
    }
}
