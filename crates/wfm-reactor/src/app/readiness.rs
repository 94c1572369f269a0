//! `/readyz`: token held, every channel subscribed and connected, first reconcile done.
//! Rejected topics and failing sinks are reported as degraded, never blocking: the daemon
//! is a sidecar, and an unready sidecar takes its whole pod out of service because a
//! downstream receiver is down, while the outbox holds the sink's backlog anyway.

use crate::admin::ReadinessReport;
use crate::notifications::Fleet;
use crate::sinks::DeliveryHandle;
use std::sync::Arc;
use tokio::sync::watch;

/// What readiness is computed from.
#[derive(Clone)]
pub struct ReadinessInputs {
    /// The channel manager.
    pub upstream: Fleet,
    /// Set once the first reconcile (and its fetches) finished.
    pub first_reconcile_done: watch::Receiver<bool>,
    /// Sink statuses.
    pub delivery: DeliveryHandle,
    /// The store (its writer thread must be alive).
    pub store: crate::store::Store,
    /// `Some("leader")` when running under `[ha]` (shown in `/readyz`).
    pub role: Option<&'static str>,
}

/// Builds the report closure the admin server calls on every `/readyz`.
pub fn readiness(inputs: ReadinessInputs) -> Arc<dyn Fn() -> ReadinessReport + Send + Sync> {
    Arc::new(move || {
        let mut report = ReadinessReport {
            role: inputs.role,
            ..ReadinessReport::default()
        };
        if !inputs.upstream.any_token_held() {
            report.reasons.push("no OAuth token held".into());
        }
        let clients = inputs.upstream.reports();
        for c in clients.iter().filter(|c| c.token != "held") {
            report
                .degraded
                .push(format!("OAuth client {} failing: token {}", c.client, c.token));
        }
        report.clients = serde_json::to_value(clients).ok();
        let status = inputs.upstream.status();
        report.reasons.extend(status.reasons());
        for (topic, rejected) in &status.degraded {
            let why = if rejected.missing_permissions.is_empty() {
                rejected
                    .reason
                    .clone()
                    .unwrap_or_else(|| "no reason given".into())
            } else {
                format!("missing {}", rejected.missing_permissions.join(" or "))
            };
            report.degraded.push(format!("topic {topic} rejected: {why}"));
        }
        if !inputs.store.is_healthy() {
            report
                .reasons
                .push("state store writer stopped; restart the daemon".into());
        }
        if !*inputs.first_reconcile_done.borrow() {
            report.reasons.push("first reconcile not finished".into());
        }
        for (name, s) in inputs.delivery.statuses() {
            if let Some(err) = &s.last_error {
                // A failing sink never takes the pod out of service (the contract's
                // correction): degraded, while the outbox holds its backlog.
                report.degraded.push(format!("sink {name} failing: {err}"));
            }
        }
        report
    })
}
