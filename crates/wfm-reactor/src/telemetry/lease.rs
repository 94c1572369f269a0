//! Leader-lease happenings (`[ha] enabled`): each logs one line with the epoch and sets
//! the `wfm_reactor_leader` gauge where the role changes.

use tracing::{error, info, warn};

/// Gauge: 1 while this replica holds the lease (or runs without `[ha]`), 0 as standby.
pub const LEADER: &str = "wfm_reactor_leader";
/// Counter: takeovers by this replica.
pub const TAKEOVERS: &str = "wfm_reactor_lease_takeovers_total";
/// Counter: writes refused because the epoch moved on (fencing).
pub const FENCED: &str = "wfm_reactor_fenced_writes_total";

/// This replica waits for the lease (another one holds it).
pub fn standby(holder: &str) {
    info!(holder = %holder, role = "standby", "lease held elsewhere; standing by");
    metrics::gauge!(LEADER).set(0.0);
}

/// An attempt to reach the database or take the lock failed; it is retried.
pub fn acquire_failed(err: &str) {
    warn!(error = %err, "lease: cannot reach the database; retrying");
}

/// The lock was taken and the epoch incremented.
pub fn acquired(holder: &str, epoch: i64) {
    info!(holder = %holder, epoch, "lease acquired");
}

/// The new leader starts intake and delivery from the shared store.
pub fn takeover(epoch: i64) {
    info!(
        epoch,
        role = "leader",
        "takeover: subscribing, reconciling against the shared store, delivering from the shared cursors"
    );
    metrics::gauge!(LEADER).set(1.0);
    metrics::counter!(TAKEOVERS).increment(1);
}

/// The lease is gone: intake and delivery stop at once.
pub fn lost(epoch: i64, why: &str) {
    error!(epoch, reason = %why, "lease lost; stopping intake and delivery");
    metrics::gauge!(LEADER).set(0.0);
}

/// A write transaction found the epoch moved on and committed nothing.
pub fn fenced(ours: i64, current: i64) {
    error!(
        epoch = ours,
        current_epoch = current,
        "write fenced: another replica holds the lease"
    );
    metrics::counter!(FENCED).increment(1);
}
