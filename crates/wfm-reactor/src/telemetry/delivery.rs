//! Store and delivery happenings: each logs one structured line and updates one metric.
//! The `sink_*` functions run inside the sink task's span (`sink{sink=NAME}`), so their
//! lines do not repeat the name; the metrics still carry it as a label.

use std::time::Duration;
use tracing::{debug, error, info, warn};

/// Counter: events committed to the outbox, by `type`.
pub const EVENTS_EMITTED: &str = "wfm_reactor_events_emitted_total";
/// Histogram: seconds from the triggering frame to the outbox commit.
pub const EVENT_TO_OUTBOX: &str = "wfm_reactor_event_to_outbox_seconds";
/// Gauge: events kept in the outbox.
pub const OUTBOX_DEPTH: &str = "wfm_reactor_outbox_depth";
/// Counter: delivery attempts by `sink` and `outcome` (ok, retry, dead_letter, replayed).
pub const SINK_DELIVERIES: &str = "wfm_reactor_sink_deliveries_total";
/// Gauge: committed events a sink has not acknowledged yet.
pub const SINK_LAG: &str = "wfm_reactor_sink_lag";
/// Gauge: dead letters stored.
pub const DEAD_LETTERS: &str = "wfm_reactor_dead_letters";
/// Gauge: 1 while a sink with a connection of its own (NATS) is connected, else 0.
pub const SINK_CONNECTED: &str = "wfm_reactor_sink_connected";
/// Counter: store transactions that failed.
pub const STORE_COMMIT_FAILURES: &str = "wfm_reactor_store_commit_failures_total";

/// Counter: outbox reads for sinks and the feed, by `from` (`tail`: the newest committed
/// events in memory; `store`: read back from the database).
pub const OUTBOX_READS: &str = "wfm_reactor_outbox_reads_total";

/// One outbox read was answered `from` the committed tail or the store.
pub(crate) fn outbox_read(from: &'static str) {
    metrics::counter!(OUTBOX_READS, "from" => from).increment(1);
}

/// A group transaction could not commit; `requests` callers get the error.
pub(crate) fn store_commit_failed(err: &str, requests: usize) {
    error!(error = %err, requests, "store commit failed");
    metrics::counter!(STORE_COMMIT_FAILURES).increment(1);
}

/// The events of one commit: `(type, when the triggering frame arrived)` each.
///
/// Counted with one registry lookup per event type and commit rather than per event:
/// under a presence flood a commit carries hundreds of events of one type, and the
/// per-event label lookup was a visible share of the daemon's CPU (docs/performance.md).
pub(crate) fn events_emitted(events: &[(&'static str, Option<tokio::time::Instant>)]) {
    let now = tokio::time::Instant::now();
    let mut latency = None;
    // A commit holds one or two event types: a short list beats a map.
    let mut per_type: Vec<(&'static str, u64)> = Vec::with_capacity(2);
    for &(event_type, received_at) in events {
        match per_type.iter_mut().find(|(t, _)| *t == event_type) {
            Some((_, n)) => *n += 1,
            None => per_type.push((event_type, 1)),
        }
        if let Some(at) = received_at {
            latency
                .get_or_insert_with(|| metrics::histogram!(EVENT_TO_OUTBOX))
                .record(now.saturating_duration_since(at).as_secs_f64());
        }
    }
    for (event_type, n) in per_type {
        metrics::counter!(EVENTS_EMITTED, "type" => event_type).increment(n);
    }
}

/// The outbox was measured (after a prune).
pub fn outbox_depth(depth: u64, pruned: usize) {
    debug!(depth, pruned, "outbox pruned");
    metrics::gauge!(OUTBOX_DEPTH).set(depth as f64);
}

/// A sink acknowledged `count` events up to `upto`.
pub(crate) fn sink_delivered(sink: &str, count: usize, upto: u64) {
    debug!(count, upto, "delivered");
    metrics::counter!(SINK_DELIVERIES, "sink" => sink.to_string(), "outcome" => "ok").increment(count as u64);
}

/// A delivery failed in a retryable way and will be retried after `delay`.
pub(crate) fn sink_retry(sink: &str, seq: u64, err: &str, delay: Duration) {
    warn!(sequence = seq, error = %err, retry_in = ?delay, "delivery failed, will retry");
    metrics::counter!(SINK_DELIVERIES, "sink" => sink.to_string(), "outcome" => "retry").increment(1);
}

/// A sink refused an event permanently; it went to the dead-letter table.
pub(crate) fn sink_dead_lettered(sink: &str, seq: u64, status: Option<u16>, err: &str) {
    warn!(sequence = seq, status = ?status, error = %err, "event dead-lettered");
    metrics::counter!(SINK_DELIVERIES, "sink" => sink.to_string(), "outcome" => "dead_letter").increment(1);
    metrics::gauge!(DEAD_LETTERS).increment(1.0);
}

/// A replayed dead letter was delivered.
pub(crate) fn sink_replayed(sink: &str, dead_letter_id: i64) {
    info!(dead_letter = dead_letter_id, "dead letter replayed");
    metrics::counter!(SINK_DELIVERIES, "sink" => sink.to_string(), "outcome" => "replayed").increment(1);
    metrics::gauge!(DEAD_LETTERS).decrement(1.0);
}

/// The number of stored dead letters was measured.
pub fn dead_letters(count: u64) {
    metrics::gauge!(DEAD_LETTERS).set(count as f64);
}

/// A sink's lag was measured.
pub(crate) fn sink_lag(sink: &str, lag: u64) {
    metrics::gauge!(SINK_LAG, "sink" => sink.to_string()).set(lag as f64);
}

/// A sink task hit a store error (it retries after a pause).
pub(crate) fn sink_store_error(sink: &str, err: &str) {
    error!(error = %err, "sink cannot read or acknowledge the outbox");
    metrics::counter!(SINK_DELIVERIES, "sink" => sink.to_string(), "outcome" => "store_error").increment(1);
}

/// A sink task stopped (cancelled or failed to start).
pub(crate) fn sink_stopped(cursor: u64) {
    info!(cursor, "sink stopped");
}

/// A WAL checkpoint ran; `frames` is the WAL size it reported.
pub(crate) fn wal_checkpointed(frames: i64) {
    metrics::gauge!("wfm_reactor_store_wal_frames").set(frames.max(0) as f64);
}

/// A WAL checkpoint failed (the next one retries).
pub(crate) fn wal_checkpoint_failed(err: &impl std::fmt::Display, mode: &str) {
    warn!(error = %err, mode, "WAL checkpoint failed");
    metrics::counter!("wfm_reactor_store_checkpoint_failures_total").increment(1);
}

/// A sink's own connection (NATS) came up or went away.
pub fn sink_connection(sink: &str, connected: bool) {
    if connected {
        info!(sink = %sink, "sink connected");
    } else {
        warn!(sink = %sink, "sink not connected");
    }
    metrics::gauge!(SINK_CONNECTED, "sink" => sink.to_string()).set(if connected { 1.0 } else { 0.0 });
}

/// Something else happened on a sink's connection (lame duck mode, a server error...).
pub fn sink_connection_event(sink: &str, event: &str) {
    warn!(sink = %sink, event = %event, "sink connection event");
}

/// The sink already held this event (a JetStream `duplicate` PubAck): counted as delivered.
pub fn sink_duplicate(sink: &str, seq: u64) {
    debug!(sink = %sink, sequence = seq, "duplicate acknowledged");
    metrics::counter!(SINK_DELIVERIES, "sink" => sink.to_string(), "outcome" => "duplicate").increment(1);
}
