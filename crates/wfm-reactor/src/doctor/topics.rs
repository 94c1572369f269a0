//! The topic checks: every topic the daemon would subscribe, on one temporary channel
//! with `ignoreErrors=true` (so one refused topic does not hide the others), grouped by
//! topic shape. The channel's subscriptions are deleted afterwards; the channel itself
//! expires on its own (the platform has no delete).

use super::Check;
use crate::auth::TokenProvider;
use crate::config::Config;
use crate::notifications::channel::{ChannelClient, RejectedTopic, SubscribeMode};
use std::collections::{BTreeMap, BTreeSet};

/// Subscribes `topics` in chunks of `max_topics_per_channel` and pushes one row per shape.
pub async fn check(
    config: &Config,
    api_base: &str,
    tokens: TokenProvider,
    http: reqwest::Client,
    topics: &BTreeSet<String>,
    out: &mut Vec<Check>,
) {
    if topics.is_empty() {
        out.push(Check::skipped(
            "topics",
            "nothing to subscribe (no watched business unit or user)",
        ));
        return;
    }
    let client = ChannelClient::new(api_base.to_string(), tokens, http);
    let channel = match client.create().await {
        Ok((c, _)) => c,
        Err(err) => {
            out.push(Check::fail(
                "notifications.channels.create",
                err.to_string(),
                Vec::new(),
            ));
            return;
        }
    };
    out.push(Check::pass(
        "notifications.channels.create",
        format!("temporary channel {}", channel.id),
    ));
    let all: Vec<String> = topics.iter().cloned().collect();
    let mut rejected: Vec<RejectedTopic> = Vec::new();
    let mut failed = None;
    for chunk in all.chunks(config.notifications.max_topics_per_channel.max(1)) {
        match client.subscribe(&channel.id, chunk, SubscribeMode::Replace).await {
            Ok(r) => rejected.extend(r),
            Err(err) => {
                failed = Some(err);
                break;
            }
        }
    }
    if let Err(err) = client.unsubscribe_all(&channel.id).await {
        tracing::warn!(channel = %channel.id, error = %err, "doctor: cannot delete the temporary subscriptions");
    }
    if let Some(err) = failed {
        out.push(Check::fail(
            "notifications.subscriptions",
            err.to_string(),
            Vec::new(),
        ));
        return;
    }
    out.extend(rows(&all, &rejected));
}

/// One row per topic shape: how many were subscribed, which were refused and why.
fn rows(all: &[String], rejected: &[RejectedTopic]) -> Vec<Check> {
    let mut shapes: BTreeMap<String, (usize, Vec<&RejectedTopic>)> = BTreeMap::new();
    for t in all {
        shapes.entry(shape(t)).or_default().0 += 1;
    }
    for r in rejected {
        shapes.entry(shape(&r.topic)).or_default().1.push(r);
    }
    shapes
        .into_iter()
        .map(|(shape, (count, refused))| {
            let name = format!("topic {shape}");
            if refused.is_empty() {
                return Check::pass(name, format!("{count} topic(s) subscribed"));
            }
            let missing: BTreeSet<String> = refused
                .iter()
                .flat_map(|r| r.missing_permissions.iter().cloned())
                .collect();
            let first = refused[0];
            let detail = format!(
                "{} of {count} rejected (e.g. {}: {})",
                refused.len(),
                first.topic,
                first.reason.as_deref().unwrap_or("no reason given")
            );
            let check = Check::fail(name, detail, missing.into_iter().collect());
            // without it, schedule fetches are simply not narrowed to the named agents
            if shape.ends_with(".agentschedules.changed") {
                check.optional()
            } else {
                check
            }
        })
        .collect()
}

/// The topic with its ids replaced by `{id}`: `v2.users.{id}.presence`.
fn shape(topic: &str) -> String {
    let (base, query) = match topic.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (topic, None),
    };
    let mut parts: Vec<&str> = base.split('.').collect();
    match parts.as_slice() {
        ["v2", "users", ..] if parts.len() > 2 => parts[2] = "{id}",
        ["v2", "workforcemanagement", "businessunits", ..] if parts.len() > 3 => parts[3] = "{id}",
        ["v2", "workforcemanagement", "users", ..] if parts.len() > 3 => parts[3] = "{id}",
        ["v2", "workforcemanagement", "managementunits", ..] if parts.len() > 3 => parts[3] = "{id}",
        _ => {}
    }
    let base = parts.join(".");
    match query {
        Some(q) => format!("{base}?{q}"),
        None => base,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_hide_ids() {
        assert_eq!(shape("v2.users.u-1.presence"), "v2.users.{id}.presence");
        assert_eq!(
            shape("v2.users.u-1?presence&routingStatus"),
            "v2.users.{id}?presence&routingStatus"
        );
        assert_eq!(
            shape("v2.workforcemanagement.businessunits.b1.schedules"),
            "v2.workforcemanagement.businessunits.{id}.schedules"
        );
    }

    #[test]
    fn rejected_topics_name_their_permissions() {
        let all = vec![
            "v2.users.a.presence".to_string(),
            "v2.users.b.presence".to_string(),
        ];
        let rejected = vec![RejectedTopic {
            topic: "v2.users.b.presence".into(),
            reason: Some("Missing permissions".into()),
            missing_permissions: vec!["presence:userPresence:view".into()],
        }];
        let rows = rows(&all, &rejected);
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].outcome, super::super::Outcome::Fail);
        assert_eq!(rows[0].missing_permissions, vec!["presence:userPresence:view"]);
        assert!(
            rows[0].detail.starts_with("1 of 2 rejected"),
            "{}",
            rows[0].detail
        );
    }
}
