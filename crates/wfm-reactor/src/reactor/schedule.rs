//! The schedule path: fetch one (business unit, schedule) after its debounce window,
//! diff every affected management unit against the store, commit state + events at once.

use super::Context;
use super::convert::agent_change;
pub use super::hint::{Announced, Hint, HintCause};
use crate::coalesce::ScheduleKey;
use crate::diff::{CanonicalAgentSchedule, Change, diff, resolve_codes};
use crate::events::{NewEvent, ScheduleChanged, ScheduleDeleted};
use crate::store::{Batch, DirtyKey, StateChange, StoredSchedule};
use crate::wfm::WfmError;
use std::collections::BTreeSet;

/// Fetches, diffs and commits one key. Returns false when it should be retried.
///
/// The version on each `wfm.schedule.changed` is a lower bound of what its agents show:
/// agent-schedule answers carry no schedule version, so a change landing during the fetch
/// can already be in them. Each management unit is labelled with the newest version
/// announced *before* its query was sent (`announced`), since an announcement (a
/// `Complete` notification or a listing) is only made once its change is visible. A change
/// landing after that is in the data with the older label; its own notification then
/// re-fetches the key, finds nothing new and emits nothing. The stored version stays the
/// one this fetch started from, so that re-fetch is never skipped as "already known".
pub async fn fetch_and_commit(ctx: &Context, key: &ScheduleKey, hint: Hint, announced: &Announced) -> bool {
    metrics::counter!("wfm_reactor_schedule_fetches_total").increment(1);
    match run(ctx, key, hint, announced).await {
        Ok(()) => true,
        Err(err) => {
            tracing::warn!(business_unit = %key.business_unit_id, schedule = %key.schedule_id, error = %format!("{err:#}"), "schedule fetch failed; will retry with backoff");
            metrics::counter!("wfm_reactor_schedule_fetch_failures_total").increment(1);
            false
        }
    }
}

async fn run(ctx: &Context, key: &ScheduleKey, mut hint: Hint, announced: &Announced) -> anyhow::Result<()> {
    let stored = ctx.store.known_schedule(&key.schedule_id).await?;
    if hint.deleted {
        return commit_deletion(ctx, key, &hint, stored).await;
    }
    // Fill in what the notification did not tell us with one metadata call.
    if hint.week_date.is_none() {
        hint.week_date = stored.as_ref().map(|s| s.week_date.clone());
    }
    let Some(week_date) = hint.week_date.clone() else {
        anyhow::bail!(
            "week of schedule {} unknown; the next reconcile will list it",
            key.schedule_id
        );
    };
    // A reconcile or snapshot hint knows the version but not the management units: take
    // the business unit's from membership instead of one metadata call per schedule. An
    // MU without agents in this schedule answers an empty list, and the diff reports its
    // previously known agents as removed.
    // A notification names only the management units it changed: fetching just those is
    // the point, but then the schedule's stored version must not advance (another MU may
    // hold a change whose notification was lost or is still on its way, and a reconcile
    // compares versions). Only a fetch of every MU records the version.
    let narrowed = !hint.management_units.is_empty();
    if hint.management_units.is_empty() {
        hint.management_units = known_management_units(ctx, &key.business_unit_id);
    }
    let need_metadata =
        hint.version.is_none() || hint.management_units.is_empty() || hint.published.is_none();
    if need_metadata {
        match ctx
            .wfm
            .schedule_metadata(&key.business_unit_id, &week_date, &key.schedule_id)
            .await
        {
            Ok(meta) => {
                hint.version = hint.version.or(meta.metadata.as_ref().and_then(|m| m.version));
                hint.published = hint.published.or(meta.published);
                hint.week_count = hint.week_count.or(meta.week_count.map(|c| c as u32));
                if hint.management_units.is_empty() {
                    hint.management_units = meta
                        .management_units
                        .iter()
                        .filter_map(|m| m.management_unit.as_ref()?.id.clone())
                        .collect();
                }
            }
            Err(WfmError::NotFound { .. }) => return commit_deletion(ctx, key, &hint, stored).await,
            Err(err) => return Err(err.into()),
        }
    }
    if ctx.config.watch.published_only && hint.published == Some(false) {
        tracing::debug!(schedule = %key.schedule_id, "unpublished schedule ignored (published_only)");
        return Ok(());
    }
    if let (Some(s), Some(v)) = (&stored, hint.version)
        && s.version >= v
        && hint.cause != HintCause::Snapshot
    {
        tracing::debug!(schedule = %key.schedule_id, version = v, "schedule version already known; nothing to fetch");
        return clear_dirty(ctx, key).await;
    }
    let tz = super::membership::time_zone(ctx, &key.business_unit_id).await;
    let mut codes = ctx.wfm.activity_codes(&key.business_unit_id).await?;
    let emit = hint.cause != HintCause::Snapshot || ctx.config.reconcile.initial_snapshot;
    let mut events = 0;
    for mu in &hint.management_units {
        // One transaction per management unit (its agents' state + its event): a snapshot
        // event can be a megabyte, so holding a whole schedule's worth at once is costly.
        // The schedule row (version) is written after every MU, so a crash in between
        // re-fetches; already committed MUs then diff as unchanged.
        let mut batch = Batch::default();
        let label = hint.version.max(announced.get());
        let answer = match ctx
            .wfm
            .agent_schedules(&key.business_unit_id, &week_date, &key.schedule_id, mu, None)
            .await
        {
            Ok(a) => a,
            Err(WfmError::NotFound { .. }) => return commit_deletion(ctx, key, &hint, stored).await,
            Err(err) => return Err(err.into()),
        };
        let current: Vec<(String, CanonicalAgentSchedule)> = answer
            .agent_schedules
            .iter()
            .filter_map(CanonicalAgentSchedule::from_api)
            .collect();
        let previous = ctx.store.agent_hashes(&key.schedule_id, mu).await?;
        let mut diffs = diff(&previous, &current);
        if diffs.is_empty() {
            continue;
        }
        let mut unknown = BTreeSet::new();
        for d in &mut diffs {
            unknown.extend(resolve_codes(&mut d.schedule, &codes));
        }
        if !unknown.is_empty() {
            tracing::info!(business_unit = %key.business_unit_id, unknown = ?unknown, "unknown activity codes; refreshing the cache");
            codes = ctx.wfm.refresh_activity_codes(&key.business_unit_id).await?;
            for d in &mut diffs {
                resolve_codes(&mut d.schedule, &codes);
            }
        }
        for d in &diffs {
            batch.changes.push(match (d.change, &d.hash) {
                (Change::Removed, _) | (_, None) => StateChange::AgentRemoved {
                    schedule_id: key.schedule_id.clone(),
                    mu_id: mu.clone(),
                    user_id: d.user_id.clone(),
                },
                (_, Some(hash)) => StateChange::AgentSchedule {
                    schedule_id: key.schedule_id.clone(),
                    mu_id: mu.clone(),
                    user_id: d.user_id.clone(),
                    hash: hash.clone(),
                    canonical_json: serde_json::to_string(&d.schedule)?,
                },
            });
        }
        if emit {
            let data = ScheduleChanged {
                business_unit_id: key.business_unit_id.clone(),
                management_unit_id: mu.clone(),
                schedule_id: key.schedule_id.clone(),
                week_date: week_date.clone(),
                week_count: hint.week_count.unwrap_or(1),
                published: hint.published.unwrap_or(true),
                version: label.unwrap_or_default(),
                operation_id: (hint.cause == HintCause::Notification)
                    .then(|| hint.operation_id.clone())
                    .flatten(),
                cause: hint.cause.event_cause(),
                business_unit_time_zone: tz.clone(),
                agents: diffs.iter().map(agent_change).collect(),
            };
            let time = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
            batch
                .events
                .push(NewEvent::schedule_changed(&ctx.api_host, &time, &data));
        }
        events += batch.events.len();
        ctx.store.commit(batch).await?;
    }
    let stored_version = stored.as_ref().map(|s| s.version);
    let version = if narrowed {
        stored_version.unwrap_or(0)
    } else {
        hint.version.unwrap_or_default()
    };
    let batch = Batch {
        changes: vec![
            StateChange::Schedule(StoredSchedule {
                schedule_id: key.schedule_id.clone(),
                business_unit_id: key.business_unit_id.clone(),
                week_date,
                week_count: hint.week_count.unwrap_or(1),
                published: hint.published.unwrap_or(true),
                version,
            }),
            StateChange::ClearDirty(dirty(key)),
        ],
        events: vec![],
    };
    ctx.store.commit(batch).await?;
    tracing::info!(business_unit = %key.business_unit_id, schedule = %key.schedule_id, version = ?hint.version, events, cause = ?hint.cause, "schedule reconciled");
    Ok(())
}

/// The business unit's management units as last resolved (empty when not watched).
fn known_management_units(ctx: &Context, bu: &str) -> BTreeSet<String> {
    ctx.membership
        .lock()
        .expect("membership lock")
        .business_units
        .get(bu)
        .map(|b| b.management_units.keys().cloned().collect())
        .unwrap_or_default()
}

/// The store's dirty-key form of a coalescer key.
pub fn dirty(key: &ScheduleKey) -> DirtyKey {
    DirtyKey {
        business_unit_id: key.business_unit_id.clone(),
        schedule_id: key.schedule_id.clone(),
    }
}

async fn clear_dirty(ctx: &Context, key: &ScheduleKey) -> anyhow::Result<()> {
    ctx.store
        .commit(Batch {
            changes: vec![StateChange::ClearDirty(dirty(key))],
            events: vec![],
        })
        .await?;
    Ok(())
}

async fn commit_deletion(
    ctx: &Context,
    key: &ScheduleKey,
    hint: &Hint,
    stored: Option<StoredSchedule>,
) -> anyhow::Result<()> {
    let Some(stored) = stored else {
        tracing::debug!(schedule = %key.schedule_id, "deletion of a schedule we never knew; nothing to emit");
        return clear_dirty(ctx, key).await;
    };
    let data = ScheduleDeleted {
        business_unit_id: key.business_unit_id.clone(),
        schedule_id: key.schedule_id.clone(),
        week_date: stored.week_date.clone(),
        operation_id: hint.operation_id.clone(),
        cause: hint.cause.event_cause(),
    };
    let time = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let batch = Batch {
        changes: vec![
            StateChange::ScheduleDeleted {
                schedule_id: key.schedule_id.clone(),
            },
            StateChange::ClearDirty(dirty(key)),
        ],
        events: vec![NewEvent::schedule_deleted(&ctx.api_host, &time, &data)],
    };
    ctx.store.commit(batch).await?;
    tracing::info!(business_unit = %key.business_unit_id, schedule = %key.schedule_id, "schedule deleted");
    Ok(())
}
