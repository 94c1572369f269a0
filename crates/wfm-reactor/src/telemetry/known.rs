//! The contract's metrics exposed from the first scrape: counters at 0 for their known label
//! values, gauges registered, before any task runs (contract: readiness, liveness, metrics).
//!
//! The label values are listed here rather than read from the domain enums so that
//! telemetry depends on nothing of the domain; a value added there and not here is only
//! exposed from its first use, as before.

use super::delivery::{
    DEAD_LETTERS, EVENT_TO_OUTBOX, EVENTS_EMITTED, OUTBOX_DEPTH, OUTBOX_READS, SINK_DELIVERIES, SINK_LAG,
};

/// `Notification::kind` values.
const NOTIFICATION_KINDS: [&str; 5] = [
    "presence",
    "routing_status",
    "bu_schedule",
    "schedule_query_result",
    "system",
];
/// Frame rejection reasons (session checks and `FrameError::reason`).
const FRAME_REJECTIONS: [&str; 6] = [
    "binary",
    "oversized",
    "invalid_json",
    "no_topic",
    "unknown_topic",
    "wrong_type",
];
/// Reconnect causes (`GapCause::as_str` of a lost socket, plus the worker's own).
const RECONNECT_CAUSES: [&str; 5] = [
    "socket_dropped",
    "channel_lost",
    "heartbeat_timeout",
    "socket_closing",
    "token_rollover",
];
/// Sink delivery outcomes.
const SINK_OUTCOMES: [&str; 6] = [
    "ok",
    "retry",
    "dead_letter",
    "replayed",
    "store_error",
    "duplicate",
];
/// CloudEvent types the daemon emits.
const EVENT_TYPES: [&str; 4] = [
    "wfm.schedule.changed",
    "wfm.schedule.deleted",
    "presence.changed",
    "routing.status.changed",
];

/// Registers every listed metric; `sinks` are the configured sink names. Counters move
/// with `absolute(0)` and gauges with `increment(0.0)`, so a value already recorded (tests
/// run several daemons on one recorder) is never lowered.
pub fn expose_known(sinks: &[String]) {
    for kind in NOTIFICATION_KINDS {
        metrics::counter!("wfm_reactor_notifications_received_total", "kind" => kind).absolute(0);
    }
    for reason in FRAME_REJECTIONS {
        metrics::counter!("wfm_reactor_frames_rejected_total", "reason" => reason).absolute(0);
    }
    for cause in RECONNECT_CAUSES {
        metrics::counter!("wfm_reactor_reconnects_total", "cause" => cause).absolute(0);
    }
    for event_type in EVENT_TYPES {
        metrics::counter!(EVENTS_EMITTED, "type" => event_type).absolute(0);
    }
    metrics::counter!("wfm_reactor_gaps_total").absolute(0);
    metrics::counter!("wfm_reactor_rest_rate_limited_total").absolute(0);
    metrics::counter!("wfm_reactor_schedule_fetches_total").absolute(0);
    metrics::gauge!("wfm_reactor_channels").increment(0.0);
    metrics::gauge!("wfm_reactor_topics").increment(0.0);
    metrics::gauge!(OUTBOX_DEPTH).increment(0.0);
    for from in ["tail", "store"] {
        metrics::counter!(OUTBOX_READS, "from" => from).absolute(0);
    }
    metrics::gauge!(DEAD_LETTERS).increment(0.0);
    // A registered histogram renders (count 0) before its first sample.
    let _ = metrics::histogram!(EVENT_TO_OUTBOX);
    metrics::gauge!("wfm_reactor_sse_clients").increment(0.0);
    metrics::gauge!("wfm_reactor_tokio_tasks").increment(0.0);
    metrics::counter!("wfm_reactor_sse_clients_refused_total").absolute(0);
    metrics::counter!("wfm_reactor_resync_refused_total").absolute(0);
    for reason in ["host", "origin"] {
        metrics::counter!("wfm_reactor_admin_refused_total", "reason" => reason).absolute(0);
    }
    metrics::gauge!(super::lease::LEADER).increment(0.0);
    metrics::counter!(super::lease::TAKEOVERS).absolute(0);
    metrics::counter!(super::lease::FENCED).absolute(0);
    for sink in sinks {
        for outcome in SINK_OUTCOMES {
            metrics::counter!(SINK_DELIVERIES, "sink" => sink.clone(), "outcome" => outcome).absolute(0);
        }
        metrics::gauge!(SINK_LAG, "sink" => sink.clone()).increment(0.0);
    }
}

#[cfg(test)]
mod tests {
    use metrics_exporter_prometheus::PrometheusBuilder;

    #[test]
    fn the_listed_metrics_are_in_the_first_scrape() {
        let recorder = PrometheusBuilder::new().build_recorder();
        let handle = recorder.handle();
        metrics::with_local_recorder(&recorder, || super::expose_known(&["stdout".to_string()]));
        let text = handle.render();
        for line in [
            "wfm_reactor_gaps_total 0",
            "wfm_reactor_notifications_received_total{kind=\"presence\"} 0",
            "wfm_reactor_sink_deliveries_total{sink=\"stdout\",outcome=\"dead_letter\"} 0",
            "wfm_reactor_sink_lag{sink=\"stdout\"} 0",
            "wfm_reactor_outbox_depth 0",
            "wfm_reactor_tokio_tasks 0",
        ] {
            assert!(text.contains(line), "{line} missing from:\n{text}");
        }
    }
}
