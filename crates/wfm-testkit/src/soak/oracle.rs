//! The soak oracle: the simulator-side record of every presence change the run made,
//! compared with what reached the file sink and the webhook receiver.

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// One presence change the run made in the simulator.
#[derive(Debug, Clone)]
pub struct Made {
    pub user: String,
    pub presence: String,
    /// The `modifiedDate` the simulator recorded.
    pub modified: String,
}

/// A schedule edit the run made: the schedule's version after it and the agents changed.
#[derive(Debug, Clone)]
pub struct Edit {
    pub schedule: String,
    pub version: u32,
    pub agents: Vec<String>,
}

/// Every agent of every edit listed in a `wfm.schedule.changed` of that schedule at the
/// edit's version or later (a later edit of the same agent may cover both). Returns how
/// many (edit, agent) pairs were covered.
pub fn judge_edits(edits: &[Edit], file: &[Value], bad: &mut Vec<String>) -> usize {
    let mut covered = 0;
    for edit in edits {
        for agent in &edit.agents {
            let seen = file.iter().any(|e| {
                let d = &e["data"];
                e["type"] == "wfm.schedule.changed"
                    && d["scheduleId"] == edit.schedule.as_str()
                    && d["version"]
                        .as_u64()
                        .is_some_and(|v| v >= u64::from(edit.version))
                    && d["agents"]
                        .as_array()
                        .is_some_and(|a| a.iter().any(|x| x["userId"] == agent.as_str()))
            });
            if seen {
                covered += 1;
            } else if bad.len() < 20 {
                bad.push(format!(
                    "schedule edit never emitted: agent {agent} of {} at version {}",
                    edit.schedule, edit.version
                ));
            }
        }
    }
    covered
}

/// A schedule the run published or deleted (by id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lifecycle {
    Published(String),
    Deleted(String),
}

/// Every published schedule announced as a published `wfm.schedule.changed`, every
/// deleted one as `wfm.schedule.deleted`.
pub fn judge_lifecycle(done: &[Lifecycle], file: &[Value], bad: &mut Vec<String>) {
    for op in done {
        let (kind, id) = match op {
            Lifecycle::Published(id) => ("wfm.schedule.changed", id),
            Lifecycle::Deleted(id) => ("wfm.schedule.deleted", id),
        };
        let found = file.iter().any(|e| {
            e["type"] == kind
                && e["data"]["scheduleId"] == id.as_str()
                && (kind != "wfm.schedule.changed" || e["data"]["published"] == true)
        });
        if !found {
            bad.push(format!("{op:?}: no {kind} event for it"));
        }
    }
}

/// What the oracle found.
#[derive(Debug, Default)]
pub struct Verdict {
    /// Changes made / present in the file sink at least once.
    pub made: usize,
    pub delivered: usize,
    /// Events seen more than once in the file sink, and at the webhook.
    pub file_duplicates: usize,
    pub webhook_duplicates: usize,
    /// Events of each type in the file sink (distinct ids).
    pub by_type: BTreeMap<String, usize>,
    /// Every broken property, one line each.
    pub violations: Vec<String>,
}

/// A `presence.changed` event's (user, presence, `modifiedDate`).
pub(super) fn presence_of(e: &Value) -> Option<(String, String, String)> {
    (e["type"] == "presence.changed").then(|| {
        let d = &e["data"];
        let s = |k: &str| d[k].as_str().unwrap_or_default().to_string();
        (s("userId"), s("systemPresence"), s("modifiedDate"))
    })
}

/// Checks `file` (file sink lines) and `webhook` (accepted bodies) against `made`;
/// `baseline` is each user's presence at the start (the first snapshot).
pub fn judge(
    made: &[Made],
    baseline: &HashMap<String, String>,
    file: &[Value],
    webhook: &[Value],
) -> Verdict {
    let mut v = Verdict {
        made: made.len(),
        ..Verdict::default()
    };
    v.file_duplicates = one_content_per_id("file", file, &mut v.violations);
    v.webhook_duplicates = one_content_per_id("webhook", webhook, &mut v.violations);
    let distinct = distinct(file);
    for e in &distinct {
        *v.by_type
            .entry(e["type"].as_str().unwrap_or("?").into())
            .or_default() += 1;
    }
    let file_ids: BTreeSet<&str> = distinct.iter().filter_map(|e| e["id"].as_str()).collect();
    let hook_ids: BTreeSet<&str> = webhook.iter().filter_map(|e| e["id"].as_str()).collect();
    for missing in file_ids.difference(&hook_ids).take(5) {
        v.violations.push(format!(
            "event {missing} reached the file sink but never the webhook"
        ));
    }
    let emitted: Vec<_> = distinct.iter().filter_map(presence_of).collect();
    let seen: BTreeSet<(&str, &str)> = emitted.iter().map(|(u, _, m)| (u.as_str(), m.as_str())).collect();
    v.delivered = made
        .iter()
        .filter(|c| seen.contains(&(c.user.as_str(), c.modified.as_str())))
        .count();
    for c in made
        .iter()
        .filter(|c| !seen.contains(&(c.user.as_str(), c.modified.as_str())))
        .take(5)
    {
        v.violations.push(format!("change never emitted: {c:?}"));
    }
    fabricated_or_reordered(made, &emitted, &mut v.violations);
    final_state(made, baseline, &emitted, &mut v.violations);
    v
}

/// Events by first appearance of their id.
fn distinct(events: &[Value]) -> Vec<Value> {
    let mut seen = BTreeSet::new();
    events
        .iter()
        .filter(|e| seen.insert(e["id"].to_string()))
        .cloned()
        .collect()
}

/// Counts repeats; a repeat whose content differs is a violation.
fn one_content_per_id(sink: &str, events: &[Value], bad: &mut Vec<String>) -> usize {
    let mut first: HashMap<String, &Value> = HashMap::new();
    let mut repeats = 0;
    for e in events {
        let id = e["id"].to_string();
        match first.get(&id) {
            Some(prev) if *prev != e => bad.push(format!(
                "{sink}: id {id} ({}) with two contents, differing in {}",
                e["type"],
                differing_fields(prev, e).join(", ")
            )),
            Some(_) => repeats += 1,
            None => {
                first.insert(id, e);
            }
        }
    }
    repeats
}

/// The fields (top level, and `data.*`) where two events differ, with both values, so a
/// failing seed says what differed.
fn differing_fields(a: &Value, b: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let (Some(a), Some(b)) = (a.as_object(), b.as_object()) else {
        return vec!["the whole event".into()];
    };
    for (k, va) in a {
        let vb = b.get(k).unwrap_or(&Value::Null);
        if va == vb {
            continue;
        }
        match (k.as_str(), va.as_object(), vb.as_object()) {
            ("data", Some(da), Some(db)) => out.extend(
                da.iter()
                    .filter(|(dk, dv)| db.get(*dk) != Some(*dv))
                    .map(|(dk, dv)| format!("data.{dk}: {dv} vs {}", db.get(dk).unwrap_or(&Value::Null))),
            ),
            _ => out.push(format!("{k}: {va} vs {vb}")),
        }
    }
    out
}

/// Every emitted presence of a touched user is a change the run made (or the snapshot),
/// and each user's emitted `modifiedDate`s never go back.
fn fabricated_or_reordered(made: &[Made], emitted: &[(String, String, String)], bad: &mut Vec<String>) {
    let real: BTreeSet<(&str, &str, &str)> = made
        .iter()
        .map(|c| (c.user.as_str(), c.presence.as_str(), c.modified.as_str()))
        .collect();
    let touched: BTreeSet<&str> = made.iter().map(|c| c.user.as_str()).collect();
    let mut last: HashMap<&str, &str> = HashMap::new();
    let first_change: HashMap<&str, &str> = made
        .iter()
        .rev()
        .map(|c| (c.user.as_str(), c.modified.as_str()))
        .collect();
    for (u, p, m) in emitted {
        if let Some(prev) = last.insert(u, m)
            && prev > m.as_str()
        {
            bad.push(format!("{u}: modifiedDate {m} emitted after {prev}"));
        }
        let before_run = first_change.get(u.as_str()).is_some_and(|f| m.as_str() < *f);
        if touched.contains(u.as_str()) && !before_run && !real.contains(&(u, p, m)) {
            bad.push(format!(
                "{u}: emitted {p} at {m}, a change the simulator never made"
            ));
        }
    }
}

/// Each user's last emitted presence is the simulator's final one.
fn final_state(
    made: &[Made],
    baseline: &HashMap<String, String>,
    emitted: &[(String, String, String)],
    bad: &mut Vec<String>,
) {
    let mut want: HashMap<&str, &str> = baseline.iter().map(|(u, p)| (u.as_str(), p.as_str())).collect();
    for c in made {
        want.insert(&c.user, &c.presence);
    }
    let mut got: HashMap<&str, &str> = HashMap::new();
    for (u, p, _) in emitted {
        got.insert(u, p);
    }
    for (u, p) in &want {
        if got.get(u) != Some(p) {
            bad.push(format!(
                "{u}: final presence {:?} in the sink, {p} in the simulator",
                got.get(u)
            ));
        }
    }
}
