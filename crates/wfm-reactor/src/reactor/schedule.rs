//! The schedule path: fetch one (business unit, schedule) after its debounce window,
//! diff every affected management unit against the store, commit state + events at once.
//!
//! Three steps: `resolve` completes the hint and decides what the key needs, `fetch`
//! reads and diffs each management unit, and [`diff_to_batch`] turns one unit's diff into
//! the state changes and event committed together.

use super::Context;
use super::adherence::ScheduleUpdate;
use super::convert::{MuDiff, diff_to_batch};
pub use super::hint::{Announced, Hint, HintCause};
use super::membership::Membership;
use super::unit_updates::UnitSender;
use crate::adherence::Timeline;
use crate::coalesce::ScheduleKey;
use crate::diff::{CanonicalAnswer, diff, resolve_codes};
use crate::events::{NewEvent, ScheduleDeleted};
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
///
/// Each committed management unit's timelines go to the adherence engine through `units`
/// as soon as that unit is committed (none are built when it is `None`: the engine is
/// off); the returned updates are the schedule's deletion, if it was deleted.
pub async fn fetch_and_commit(
    ctx: &Context,
    membership: &Membership,
    key: &ScheduleKey,
    hint: Hint,
    announced: &Announced,
    units: &UnitSender,
) -> (bool, Vec<ScheduleUpdate>) {
    crate::telemetry::reactor::schedule_fetch_started();
    let mut updates = Vec::new();
    let ok = match run(ctx, membership, key, (hint, announced), units, &mut updates).await {
        Ok(()) => true,
        Err(err) => {
            tracing::warn!(business_unit = %key.business_unit_id, schedule = %key.schedule_id, error = %format!("{err:#}"), "schedule fetch failed; will retry with backoff");
            crate::telemetry::reactor::schedule_fetch_failed();
            false
        }
    };
    (ok, updates)
}

/// What a key needs, once the hint is completed.
enum Resolved {
    /// The schedule is gone: emit its deletion.
    Deleted(Hint),
    /// Nothing to fetch (unpublished under `published_only`).
    Ignored,
    /// The stored version is current: only the dirty mark goes.
    Known,
    /// Fetch every management unit of the plan.
    Fetch(Plan),
}

/// A completed hint, ready to fetch.
struct Plan {
    hint: Hint,
    week_date: String,
    /// Only the management units a notification named (the stored version must not advance).
    narrowed: bool,
}

async fn run(
    ctx: &Context,
    membership: &Membership,
    key: &ScheduleKey,
    (hint, announced): (Hint, &Announced),
    units: &UnitSender,
    updates: &mut Vec<ScheduleUpdate>,
) -> anyhow::Result<()> {
    let stored = ctx.store.known_schedule(&key.schedule_id).await?;
    let plan = match resolve(ctx, membership, key, hint, stored.as_ref()).await? {
        Resolved::Deleted(hint) => return commit_deletion(ctx, key, &hint, stored, updates).await,
        Resolved::Ignored => return Ok(()),
        Resolved::Known => return clear_dirty(ctx, key).await,
        Resolved::Fetch(plan) => plan,
    };
    let Some(events) = fetch(ctx, membership, key, &plan, announced, units).await? else {
        return commit_deletion(ctx, key, &plan.hint, stored, updates).await;
    };
    let stored_version = stored.as_ref().map(|s| s.version);
    let version = if plan.narrowed {
        stored_version.unwrap_or(0)
    } else {
        plan.hint.version.unwrap_or_default()
    };
    let Plan { hint, week_date, .. } = plan;
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

/// Completes the hint (week from the store, management units from membership, the rest
/// with one metadata call when still unknown) and decides what the key needs.
async fn resolve(
    ctx: &Context,
    membership: &Membership,
    key: &ScheduleKey,
    mut hint: Hint,
    stored: Option<&StoredSchedule>,
) -> anyhow::Result<Resolved> {
    if hint.deleted {
        return Ok(Resolved::Deleted(hint));
    }
    if hint.week_date.is_none() {
        hint.week_date = stored.map(|s| s.week_date.clone());
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
        hint.management_units = known_management_units(membership, &key.business_unit_id);
    }
    if hint.version.is_none() || hint.management_units.is_empty() || hint.published.is_none() {
        match ctx
            .wfm
            .schedule_metadata(&key.business_unit_id, &week_date, &key.schedule_id)
            .await
        {
            Ok(meta) => hint.complete_from(&meta),
            Err(WfmError::NotFound { .. }) => return Ok(Resolved::Deleted(hint)),
            Err(err) => return Err(err.into()),
        }
    }
    if ctx.config.watch.published_only && hint.published == Some(false) {
        tracing::debug!(schedule = %key.schedule_id, "unpublished schedule ignored (published_only)");
        return Ok(Resolved::Ignored);
    }
    if let (Some(s), Some(v)) = (stored, hint.version)
        && s.version >= v
        && hint.cause != HintCause::Snapshot
    {
        tracing::debug!(schedule = %key.schedule_id, version = v, "schedule version already known; nothing to fetch");
        return Ok(Resolved::Known);
    }
    Ok(Resolved::Fetch(Plan {
        hint,
        week_date,
        narrowed,
    }))
}

/// Fetches and diffs every management unit of the plan, committing each one's changes on
/// its own; returns the events emitted, or `None` when the schedule turned out deleted.
///
/// One transaction per management unit (its agents' state + its event): a snapshot event
/// can be a megabyte, so holding a whole schedule's worth at once is costly. The schedule
/// row (version) is written after every MU, so a crash in between re-fetches; already
/// committed MUs then diff as unchanged.
async fn fetch(
    ctx: &Context,
    membership: &Membership,
    key: &ScheduleKey,
    plan: &Plan,
    announced: &Announced,
    units: &UnitSender,
) -> anyhow::Result<Option<usize>> {
    let bu = &key.business_unit_id;
    let tz = super::membership::time_zone(ctx, membership, bu).await;
    let mut codes = ctx.wfm.activity_codes(bu).await?;
    let mut events = 0;
    for mu in &plan.hint.management_units {
        // Held from the query to the commit: bounds the parsed units alive at once.
        let _slot = ctx.unit_slots.acquire().await;
        let label = plan.hint.version.max(announced.get());
        // narrowed: only the agents `agentschedules.changed` named, on both sides of the
        // diff, so an agent not asked for is never taken as removed
        let only = plan.hint.narrow.get(mu);
        if let Some(only) = only {
            crate::telemetry::reactor::schedule_fetch_narrowed(only.len());
        }
        let user_ids = only.map(|s| s.iter().cloned().collect());
        // Read straight into canonical schedules (`diff::CanonicalAnswer`): one pass.
        let answer: CanonicalAnswer = match ctx
            .wfm
            .agent_schedules_as(bu, &plan.week_date, &key.schedule_id, mu, user_ids)
            .await
        {
            Ok(a) => a,
            Err(WfmError::NotFound { .. }) => return Ok(None),
            Err(err) => return Err(err.into()),
        };
        let mut current = answer.agents;
        if let Some(only) = only {
            current.retain(|(user, _)| only.contains(user));
        }
        let mut previous = ctx.store.agent_hashes(&key.schedule_id, mu).await?;
        if let Some(only) = only {
            previous.retain(|user, _| only.contains(user));
        }
        let mut diffs = diff(&previous, current);
        if diffs.is_empty() {
            continue;
        }
        let unknown: BTreeSet<_> = diffs
            .iter_mut()
            .flat_map(|d| resolve_codes(&mut d.schedule, &codes))
            .collect();
        if !unknown.is_empty() {
            tracing::info!(business_unit = %bu, unknown = ?unknown, "unknown activity codes; refreshing the cache");
            codes = ctx.wfm.refresh_activity_codes(bu).await?;
            for d in &mut diffs {
                resolve_codes(&mut d.schedule, &codes);
            }
        }
        let mu_diff = MuDiff {
            mu,
            week_date: &plan.week_date,
            diffs: &diffs,
            label,
            time_zone: &tz,
        };
        let batch = diff_to_batch(ctx, key, &plan.hint, &mu_diff)?;
        events += batch.events.len();
        ctx.store.commit(batch).await?;
        // Committed: the reactor's adherence engine follows it at once (unit_updates.rs).
        if let Some(tx) = units {
            let unit = diffs
                .iter()
                .map(|d| ScheduleUpdate::Agent {
                    schedule_id: key.schedule_id.clone(),
                    mu_id: mu.clone(),
                    user_id: d.user_id.clone(),
                    timeline: (d.change != crate::diff::Change::Removed)
                        .then(|| Timeline::from_schedules([&d.schedule])),
                })
                .collect();
            // The reactor is gone only when stopping: nothing left to follow.
            let _ = tx.send(unit);
        }
    }
    Ok(Some(events))
}

/// The business unit's management units as last resolved (empty when not watched).
fn known_management_units(membership: &Membership, bu: &str) -> BTreeSet<String> {
    membership
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
    updates: &mut Vec<ScheduleUpdate>,
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
    updates.push(ScheduleUpdate::Deleted {
        schedule_id: key.schedule_id.clone(),
    });
    tracing::info!(business_unit = %key.business_unit_id, schedule = %key.schedule_id, "schedule deleted");
    Ok(())
}
