//! Happenings between an event and its commit (coalescer, presence normalising, the
//! reactor's tasks): one log line + one metric each. The functions for `reactor/` are here
//! for its rewrite to call; until then `reactor/` still counts inline.

use tracing::warn;

/// The coalescer released a key for fetching.
pub fn coalescer_fired() {
    metrics::counter!("wfm_reactor_coalescer_fires_total").increment(1);
}

/// A `systemPresence` outside the documented set, kept as given.
pub fn presence_unknown(system_presence: &str) {
    warn!(system_presence, "unknown systemPresence, kept as given");
    metrics::counter!("wfm_reactor_presence_unknown_total").increment(1);
}

/// A schedule event was ignored (`reason`: why).
pub fn schedule_event_ignored(reason: &'static str) {
    metrics::counter!("wfm_reactor_schedule_events_ignored_total", "reason" => reason).increment(1);
}

/// A presence or routing update was skipped (`kind`, `reason`).
pub fn update_skipped(kind: &'static str, reason: &'static str) {
    metrics::counter!("wfm_reactor_updates_skipped_total", "kind" => kind, "reason" => reason).increment(1);
}

/// A management unit's schedule fetch was narrowed to `agents` named agents
/// (`agentschedules.changed`).
pub fn schedule_fetch_narrowed(agents: usize) {
    metrics::counter!("wfm_reactor_schedule_fetches_narrowed_total").increment(1);
    tracing::debug!(agents, "schedule fetch narrowed to the named agents");
}

/// A reactor task panicked (`task`: fetch, reconcile, unknown).
pub fn task_panicked(task: &'static str) {
    metrics::counter!("wfm_reactor_task_panics_total", "task" => task).increment(1);
}

/// A schedule fetch started.
pub fn schedule_fetch_started() {
    metrics::counter!("wfm_reactor_schedule_fetches_total").increment(1);
}

/// A schedule fetch failed.
pub fn schedule_fetch_failed() {
    metrics::counter!("wfm_reactor_schedule_fetch_failures_total").increment(1);
}

/// A reconcile started.
pub fn reconcile_started() {
    metrics::counter!("wfm_reactor_reconciles_total").increment(1);
}

/// Where a reconcile read its users' presence: `adherence` (the unit answers) or `bulk`
/// (the bulk presence route).
pub fn reconcile_presence_read(from_adherence: usize, in_bulk: usize) {
    metrics::counter!("wfm_reactor_reconcile_presence_reads_total", "source" => "adherence")
        .increment(from_adherence as u64);
    metrics::counter!("wfm_reactor_reconcile_presence_reads_total", "source" => "bulk")
        .increment(in_bulk as u64);
}

/// A reconcile skipped a key.
pub fn reconcile_key_skipped() {
    metrics::counter!("wfm_reactor_reconcile_keys_skipped_total").increment(1);
}

/// A reconcile failed.
pub fn reconcile_failed() {
    metrics::counter!("wfm_reactor_reconcile_failures_total").increment(1);
}

/// A commit failed on `path` (presence, schedule).
pub fn commit_failed(path: &'static str) {
    metrics::counter!("wfm_reactor_commit_failures_total", "path" => path).increment(1);
}

/// A presence or routing frame for a user who is not watched: ignored, not stored.
pub fn unwatched_user(kind: &'static str, user_id: &str) {
    metrics::counter!("wfm_reactor_updates_skipped_total", "kind" => kind, "reason" => "unwatched_user")
        .increment(1);
    tracing::debug!(kind, user_id, "frame for an unwatched user ignored");
}

/// Presence rows of users no longer watched were dropped (membership changed).
pub fn presence_pruned(users: usize) {
    if users > 0 {
        metrics::counter!("wfm_reactor_presence_pruned_total").increment(users as u64);
        tracing::info!(users, "presence of users no longer watched forgotten");
    }
}

/// Agents of one management unit in one adherence state (the gauge
/// `wfm_reactor_adherence_agents{management_unit,state}`).
pub fn adherence_agents(management_unit: &str, state: &'static str, agents: i64) {
    metrics::gauge!("wfm_reactor_adherence_agents", "management_unit" => management_unit.to_string(), "state" => state)
        .set(agents as f64);
}
