//! Benchmark helpers on [`SimHandle`]: load generation (presence floods, schedule bursts)
//! and request counting, so a benchmark can drive the daemon hard and measure what it
//! asked of the platform.

use super::change::{self, ChangeOutcome, ScheduleChange, SimError};
use super::flood::{self, Pace};
use super::handle::SimHandle;
use super::state::LoggedRequest;
use tokio::time::Instant;

impl SimHandle {
    /// Sends `total` presence notifications round-robin over `user_ids` (unknown ids are
    /// skipped, duplicates counted once) to every socket subscribed to
    /// `v2.users.{id}.presence`, directly or through a combined topic. Every event is a
    /// real change: a new `systemPresence` and a strictly increasing `modifiedDate` per
    /// user; the REST presence follows. It runs on its own task, paced by how fast the
    /// sockets drain, so the simulator's routes stay served meanwhile. Returns the frames
    /// delivered summed over sockets (`total` with one subscribed socket).
    pub async fn flood_presence(&self, user_ids: &[String], total: usize) -> usize {
        self.flood_presence_paced(user_ids, total, Pace::Flood).await
    }

    /// [`SimHandle::flood_presence`] at `pace` (a steady rate for latency and per-event
    /// cost at realistic arrival patterns, still bounded by how fast the sockets drain).
    pub async fn flood_presence_paced(&self, user_ids: &[String], total: usize, pace: Pace) -> usize {
        let task = tokio::spawn(flood::run(self.shared.clone(), user_ids.to_vec(), total, pace));
        match task.await {
            Ok(n) => n,
            Err(e) => {
                tracing::warn!(error = %e, "sim: presence flood task failed");
                metrics::counter!("wfm_reactor_sim_flood_failed_total").increment(1);
                0
            }
        }
    }

    /// Applies schedule changes back to back (each emits its own event sequence), as a
    /// burst of publishes would; one result per change, in order.
    pub fn burst_schedules(&self, changes: Vec<ScheduleChange>) -> Vec<Result<ChangeOutcome, SimError>> {
        changes.iter().map(|c| change::apply(&self.shared, c)).collect()
    }

    /// How many logged requests match `route`: a path substring, optionally prefixed by a
    /// method (`"POST /agentschedules/query"`), as in [`SimHandle::fail_next`]. Only the
    /// bounded log is counted (the newest 20,000 requests).
    pub fn request_count(&self, route: &str) -> usize {
        let (method, path) = match route.split_once(' ') {
            Some((m, p)) => (Some(m), p),
            None => (None, route),
        };
        self.shared
            .lock()
            .log
            .iter()
            .filter(|r| method.is_none_or(|m| m.eq_ignore_ascii_case(&r.method)) && r.path.contains(path))
            .count()
    }

    /// The logged requests that arrived at or after `since` (tokio clock), in the order they were answered.
    pub fn request_log_since(&self, since: Instant) -> Vec<LoggedRequest> {
        self.shared
            .lock()
            .log
            .iter()
            .filter(|r| r.at >= since)
            .cloned()
            .collect()
    }
}
