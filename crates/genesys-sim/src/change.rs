//! Scripted schedule edits: bump revisions for some agents and emit the real BU schedule
//! event sequence (Processing, then Complete with the changed MUs and agents), with the
//! unit topics' `agentschedules.changed` first for a published schedule.

use super::notify::publish_locked;
use super::schedules::{date_as_datetime, iso};
use super::state::Shared;
use chrono::Utc;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// Which agents a [`ScheduleChange`] edits.
#[derive(Debug, Clone)]
pub enum AgentPick {
    /// This many agents of the management unit (the first MU of the BU when none is given).
    Count(usize),
    /// Exactly these agent ids (they may span management units).
    Ids(Vec<String>),
}

/// Which events a change emits on `v2.workforcemanagement.businessunits.{id}.schedules`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Emit {
    /// No event: the state changes silently (to test reconcile).
    Silent,
    /// One `Complete` event.
    Complete,
    /// `Processing`, then `Complete`, then `duplicate_complete` more identical `Complete`s.
    ProcessingThenComplete {
        /// Extra copies of the Complete event.
        duplicate_complete: usize,
    },
    /// `Complete` first, then a late `Processing` of the same operation (reordered delivery).
    CompleteThenLateProcessing,
}

/// A scripted schedule edit.
#[derive(Debug, Clone)]
pub struct ScheduleChange {
    /// Business unit id.
    pub business_unit_id: String,
    /// Schedule id.
    pub schedule_id: String,
    /// Management unit to pick agents from (with [`AgentPick::Count`]).
    pub management_unit_id: Option<String>,
    /// Agents to edit.
    pub agents: AgentPick,
    /// Events to emit.
    pub emit: Emit,
}

/// What a change did.
#[derive(Debug, Clone)]
pub struct ChangeOutcome {
    /// The operation id carried by every emitted event.
    pub operation_id: String,
    /// The (first) management unit that changed.
    pub management_unit_id: String,
    /// Agent ids whose shifts changed.
    pub changed_agents: Vec<String>,
    /// The schedule's new `metadata.version`.
    pub version: u32,
}

/// Why a scripted change could not be applied.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// No such business unit.
    #[error("unknown business unit {0}")]
    UnknownBusinessUnit(String),
    /// No such (live) schedule in the business unit.
    #[error("unknown schedule {0}")]
    UnknownSchedule(String),
    /// No such management unit in the business unit.
    #[error("unknown management unit {0}")]
    UnknownManagementUnit(String),
    /// No such agent in the business unit.
    #[error("unknown agent {0}")]
    UnknownAgent(String),
}

/// The BU schedule topic.
pub(crate) fn bu_topic(bu_id: &str) -> String {
    format!("v2.workforcemanagement.businessunits.{bu_id}.schedules")
}

/// Applies a change and emits its events.
pub(crate) fn apply(shared: &Shared, change: &ScheduleChange) -> Result<ChangeOutcome, SimError> {
    let org = &shared.org;
    let b = org
        .bus
        .iter()
        .position(|x| x.id == change.business_unit_id)
        .ok_or_else(|| SimError::UnknownBusinessUnit(change.business_unit_id.clone()))?;
    let mut inner = shared.lock();
    let idx = inner
        .schedules
        .iter()
        .position(|s| s.bu == b && s.id == change.schedule_id && !s.deleted)
        .ok_or_else(|| SimError::UnknownSchedule(change.schedule_id.clone()))?;
    let agents: Vec<usize> = match &change.agents {
        AgentPick::Ids(ids) => ids
            .iter()
            .map(|id| {
                org.agent_index
                    .get(id)
                    .copied()
                    .filter(|&a| org.mus[org.agents[a].mu].bu == b)
                    .ok_or_else(|| SimError::UnknownAgent(id.clone()))
            })
            .collect::<Result<_, _>>()?,
        AgentPick::Count(n) => {
            let m = match &change.management_unit_id {
                Some(id) => org
                    .mu_index(id)
                    .filter(|&m| org.mus[m].bu == b)
                    .ok_or_else(|| SimError::UnknownManagementUnit(id.clone()))?,
                None => org.bus[b].mus[0],
            };
            let members = &org.mus[m].agents;
            let start = if members.is_empty() {
                0
            } else {
                rand::random_range(0..members.len())
            };
            (0..(*n).min(members.len()))
                .map(|i| members[(start + i) % members.len()])
                .collect()
        }
    };
    for &a in &agents {
        *inner.revisions.entry((idx, a)).or_insert(0) += 1;
    }
    let s = &mut inner.schedules[idx];
    s.version += 1;
    s.modified = Utc::now();
    let mut by_mu: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for &a in &agents {
        by_mu.entry(org.agents[a].mu).or_default().push(a);
    }
    let start = date_as_datetime(s.week_date);
    let end = date_as_datetime(s.week_date + chrono::Duration::days(7));
    let mus: Vec<Value> = by_mu.iter().map(|(&m, list)| json!({
        "managementUnit": {"id": org.mus[m].id}, "startDate": start, "endDate": end,
        "agents": list.iter().map(|&a| json!({"id": org.agents[a].id})).collect::<Vec<_>>(), "agentCount": list.len(),
    })).collect();
    let operation_id = uuid::Uuid::new_v4().to_string();
    let result = json!({
        "id": s.id, "weekDate": date_as_datetime(s.week_date), "weekCount": 1, "description": s.description,
        "published": s.published, "managementUnits": mus,
        "generationResults": {"failed": false, "messageCount": 0, "messageSeverityCounts": []},
        "metadata": {"version": s.version, "modifiedBy": {"id": org.org_id}, "dateModified": iso(s.modified)},
    });
    let (version, published, s_week) = (s.version, s.published, s.week_date);
    let management_unit_id = by_mu
        .keys()
        .next()
        .map(|&m| org.mus[m].id.clone())
        .or_else(|| change.management_unit_id.clone())
        .unwrap_or_default();
    let topic = bu_topic(&org.bus[b].id);
    let complete =
        json!({"status": "Complete", "operationId": operation_id, "eventType": "Update", "result": result});
    if change.emit != Emit::Silent && published {
        let week_start = s_week.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc();
        let range = (week_start, week_start + chrono::Duration::days(7));
        for (&m, list) in &by_mu {
            super::agent_schedules::publish(shared, &inner, m, list, range);
        }
    }
    match change.emit {
        Emit::Silent => {}
        Emit::Complete => {
            publish_locked(&inner, &topic, &complete);
        }
        Emit::ProcessingThenComplete { duplicate_complete } => {
            let processing =
                json!({"status": "Processing", "operationId": operation_id, "eventType": "Update"});
            publish_locked(&inner, &topic, &processing);
            for _ in 0..=duplicate_complete {
                publish_locked(&inner, &topic, &complete);
            }
        }
        Emit::CompleteThenLateProcessing => {
            publish_locked(&inner, &topic, &complete);
            let processing =
                json!({"status": "Processing", "operationId": operation_id, "eventType": "Update"});
            publish_locked(&inner, &topic, &processing);
        }
    }
    Ok(ChangeOutcome {
        operation_id,
        management_unit_id,
        changed_agents: agents.iter().map(|&a| org.agents[a].id.clone()).collect(),
        version,
    })
}

/// Deletes a schedule (GETs then 404) and emits a `Delete` event unless silent.
pub(crate) fn delete(
    shared: &Shared,
    bu_id: &str,
    schedule_id: &str,
    emit: Emit,
) -> Result<String, SimError> {
    let b = shared
        .org
        .bus
        .iter()
        .position(|x| x.id == bu_id)
        .ok_or_else(|| SimError::UnknownBusinessUnit(bu_id.into()))?;
    let mut inner = shared.lock();
    let s = inner
        .schedules
        .iter_mut()
        .find(|s| s.bu == b && s.id == schedule_id && !s.deleted)
        .ok_or_else(|| SimError::UnknownSchedule(schedule_id.into()))?;
    s.deleted = true;
    s.version += 1;
    let result = json!({"id": s.id, "weekDate": date_as_datetime(s.week_date), "weekCount": 1,
                        "metadata": {"version": s.version, "dateModified": iso(Utc::now())}});
    let operation_id = uuid::Uuid::new_v4().to_string();
    let topic = bu_topic(bu_id);
    if emit != Emit::Silent {
        if matches!(emit, Emit::ProcessingThenComplete { .. }) {
            publish_locked(
                &inner,
                &topic,
                &json!({"status": "Processing", "operationId": operation_id, "eventType": "Delete"}),
            );
        }
        publish_locked(
            &inner,
            &topic,
            &json!({"status": "Complete", "operationId": operation_id, "eventType": "Delete", "result": result}),
        );
    }
    Ok(operation_id)
}
