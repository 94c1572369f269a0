//! Topic rules: combined-topic expansion and the topic → permission map.
//!
//! The permission map is UNVERIFIED (the SDKs do not carry it): BU schedule topics need
//! `wfm:schedule:view` or `wfm:publishedSchedule:view`, presence needs
//! `presence:userPresence:view`, routing status needs `routing:agent:view`, unit
//! adherence `wfm:realtimeAdherence:view`, unit agent-schedule changes
//! `wfm:agentSchedule:view`.

/// The permission of `v2.workforcemanagement.managementunits.{id}.agentschedules.changed`.
pub(crate) const AGENT_SCHEDULES_PERMISSION: &str = "wfm:agentSchedule:view";

/// Longest combined topic accepted.
pub(crate) const MAX_COMBINED_LEN: usize = 200;

/// Expands `prefix?a&b` into `prefix.a`, `prefix.b`; a plain topic expands to itself.
pub(crate) fn expand(topic: &str) -> Result<Vec<String>, String> {
    let Some((prefix, suffixes)) = topic.split_once('?') else {
        return Ok(vec![topic.to_string()]);
    };
    if topic.len() > MAX_COMBINED_LEN {
        return Err(format!(
            "combined topic longer than {MAX_COMBINED_LEN} characters"
        ));
    }
    let parts: Vec<String> = suffixes
        .split('&')
        .filter(|s| !s.is_empty())
        .map(|s| format!("{prefix}.{s}"))
        .collect();
    if prefix.is_empty() || parts.is_empty() {
        return Err("malformed combined topic".into());
    }
    Ok(parts)
}

/// The permissions of which a subscriber needs at least one, for a concrete topic.
pub(crate) fn required(topic: &str) -> &'static [&'static str] {
    let p: Vec<&str> = topic.split('.').collect();
    match p.as_slice() {
        ["v2", "workforcemanagement", "businessunits", _, "schedules"] => {
            &["wfm:schedule:view", "wfm:publishedSchedule:view"]
        }
        ["v2", "users", _, "presence"] => &["presence:userPresence:view"],
        ["v2", "users", _, "routingStatus"] => &["routing:agent:view"],
        ["v2", "workforcemanagement", "managementunits", _, "adherence"] => &[super::adherence::PERMISSION],
        [
            "v2",
            "workforcemanagement",
            "managementunits",
            _,
            "agentschedules",
            "changed",
        ] => &[AGENT_SCHEDULES_PERMISSION],
        _ => &[],
    }
}

/// Whether `topic` is a schedule-query result topic (any user id).
pub(crate) fn is_query_result_topic(topic: &str) -> bool {
    let p: Vec<&str> = topic.split('.').collect();
    matches!(
        p.as_slice(),
        ["v2", "workforcemanagement", "users", _, "schedules", "query"]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn combined_topic_expands_to_each_suffix() {
        assert_eq!(
            expand("v2.users.u1?presence&routingStatus").unwrap(),
            vec![
                "v2.users.u1.presence".to_string(),
                "v2.users.u1.routingStatus".to_string()
            ]
        );
        assert_eq!(
            expand("v2.users.u1.presence").unwrap(),
            vec!["v2.users.u1.presence".to_string()]
        );
        assert!(expand("?presence").is_err());
        assert!(expand("v2.users.u1?").is_err());
    }

    #[test]
    fn permission_map_and_query_topic() {
        assert_eq!(required("v2.users.x.presence"), &["presence:userPresence:view"]);
        assert_eq!(
            required("v2.workforcemanagement.businessunits.b.schedules").len(),
            2
        );
        assert!(required("v2.workforcemanagement.businessunits.b.schedules.extra").is_empty());
        assert!(is_query_result_topic(
            "v2.workforcemanagement.users.me.schedules.query"
        ));
        assert!(!is_query_result_topic(
            "v2.workforcemanagement.users.me.schedules.search"
        ));
    }
}
