//! The activity mode of the demo run: presence changes every second for a few agents and,
//! every ten seconds, a schedule edit burst (Processing, Complete, duplicate Complete).

use super::change::{AgentPick, Emit, ScheduleChange};
use super::handle::SimHandle;
use std::time::Duration;

/// Presences the activity mode cycles through.
const PRESENCES: &[&str] = &[
    "On Queue",
    "Available",
    "Break",
    "Meal",
    "Busy",
    "Away",
    "Meeting",
];

/// Runs until the simulator shuts down.
pub(crate) async fn run(handle: SimHandle) {
    let cancel = handle.shared.cancel.clone();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let mut n: u64 = 0;
    loop {
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = tick.tick() => {}
        }
        n += 1;
        let org = handle.org();
        let agents = org.agent_ids();
        if agents.is_empty() {
            continue;
        }
        for _ in 0..3 {
            let id = &agents[rand::random_range(0..agents.len())];
            let p = PRESENCES[rand::random_range(0..PRESENCES.len())];
            let _ = handle.set_presence(id, p, true);
            let routing = if p == "On Queue" { "IDLE" } else { "OFF_QUEUE" };
            let _ = handle.set_routing_status(id, routing, true);
        }
        if n.is_multiple_of(10) {
            let bu = &org.business_units[rand::random_range(0..org.business_units.len())];
            let published: Vec<_> = org
                .schedules_of(&bu.id)
                .into_iter()
                .filter(|s| s.published)
                .collect();
            if published.is_empty() || bu.management_units.is_empty() {
                continue;
            }
            let schedule = published[rand::random_range(0..published.len())];
            let mu = &bu.management_units[rand::random_range(0..bu.management_units.len())];
            let change = ScheduleChange {
                business_unit_id: bu.id.clone(),
                schedule_id: schedule.id.clone(),
                management_unit_id: Some(mu.id.clone()),
                agents: AgentPick::Count(3),
                emit: Emit::ProcessingThenComplete {
                    duplicate_complete: 1,
                },
            };
            if let Err(e) = handle.change_schedule(change) {
                tracing::warn!(error = %e, "sim: activity schedule change failed");
            }
        }
    }
}
