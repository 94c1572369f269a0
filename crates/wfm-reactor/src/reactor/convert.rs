//! A management unit's diff → what is committed for it: the agents' new state and the
//! `wfm.schedule.changed` event, whose agent entries are written from the canonical
//! schedules the diff compared (`agents_json.rs`).

use super::Context;
use super::agents_json::AgentsJson;
use super::hint::{Hint, HintCause};
use crate::coalesce::ScheduleKey;
use crate::diff::{AgentDiff, Change};
use crate::events::{NewEvent, ScheduleChanged};
use crate::store::{Batch, StateChange};

/// One management unit's changed agents, as the diff found them.
pub(super) struct MuDiff<'a> {
    pub mu: &'a str,
    pub week_date: &'a str,
    pub diffs: &'a [AgentDiff],
    /// The version its event is labelled with.
    pub label: Option<i64>,
    pub time_zone: &'a str,
}

/// The state changes and (unless a silent snapshot) the `wfm.schedule.changed` event of
/// one management unit's diff.
pub(super) fn diff_to_batch(
    ctx: &Context,
    key: &ScheduleKey,
    hint: &Hint,
    d: &MuDiff<'_>,
) -> anyhow::Result<Batch> {
    let mut batch = Batch::default();
    for a in d.diffs {
        batch.changes.push(match (a.change, &a.hash) {
            (Change::Removed, _) | (_, None) => StateChange::AgentRemoved {
                schedule_id: key.schedule_id.clone(),
                mu_id: d.mu.to_string(),
                user_id: a.user_id.clone(),
            },
            (_, Some(hash)) => StateChange::AgentSchedule {
                schedule_id: key.schedule_id.clone(),
                mu_id: d.mu.to_string(),
                user_id: a.user_id.clone(),
                hash: hash.clone(),
                canonical_json: serde_json::to_string(&a.schedule)?,
            },
        });
    }
    if hint.cause != HintCause::Snapshot || ctx.config.reconcile.initial_snapshot {
        let data = ScheduleChanged {
            business_unit_id: key.business_unit_id.clone(),
            management_unit_id: d.mu.to_string(),
            schedule_id: key.schedule_id.clone(),
            week_date: d.week_date.to_string(),
            week_count: hint.week_count.unwrap_or(1),
            published: hint.published.unwrap_or(true),
            version: d.label.unwrap_or_default(),
            operation_id: (hint.cause == HintCause::Notification)
                .then(|| hint.operation_id.clone())
                .flatten(),
            cause: hint.cause.event_cause(),
            business_unit_time_zone: d.time_zone.to_string(),
            // written straight from the canonical schedules (agents_json.rs)
            agents: AgentsJson(d.diffs),
        };
        let time = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        batch
            .events
            .push(NewEvent::schedule_changed(&ctx.api_host, &time, &data));
    }
    Ok(batch)
}
