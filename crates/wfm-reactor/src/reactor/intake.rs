//! Intake of BU schedule notifications: act on `Complete`, dedupe by (operationId, status),
//! respect `published_only`, and turn the event into a coalescer key plus a fetch hint.

use super::schedule::{Hint, HintCause};
use crate::coalesce::ScheduleKey;
use crate::config::Config;
use crate::topics::BuScheduleUpdate;
use std::collections::{HashSet, VecDeque};

/// How many recent (operationId, status) pairs are remembered for dedupe.
const DEDUPE_CAPACITY: usize = 10_000;

/// Dedupe memory (bounded FIFO).
#[derive(Default)]
pub struct Intake {
    seen: HashSet<(String, String)>,
    order: VecDeque<(String, String)>,
}

fn ignored(reason: &'static str) {
    crate::telemetry::reactor::schedule_event_ignored(reason);
}

impl Intake {
    /// The key and hint to coalesce for this event, or `None` when it needs no fetch.
    pub fn schedule_event(
        &mut self,
        config: &Config,
        update: BuScheduleUpdate,
    ) -> Option<(ScheduleKey, Hint)> {
        let n = update.notification;
        let status = n.status.clone().unwrap_or_default();
        let op = n.operation_id.clone().unwrap_or_default();
        match status.as_str() {
            "Complete" => {}
            "Processing" => {
                ignored("processing");
                return None;
            }
            "Error" | "Canceled" => {
                tracing::warn!(business_unit = %update.business_unit_id, operation_id = %op, status = %status, event_type = ?n.event_type, "schedule operation did not complete; nothing to fetch");
                ignored("failed_operation");
                return None;
            }
            other => {
                tracing::warn!(business_unit = %update.business_unit_id, status = %other, "unknown schedule event status; ignored");
                ignored("unknown_status");
                return None;
            }
        }
        if !op.is_empty() && !self.remember(op.clone(), status) {
            ignored("duplicate");
            return None;
        }
        let Some(result) = n.result else {
            tracing::warn!(business_unit = %update.business_unit_id, operation_id = %op, "Complete schedule event without result; reconcile will catch it");
            ignored("no_result");
            return None;
        };
        let Some(schedule_id) = result.id.clone() else {
            ignored("no_schedule_id");
            return None;
        };
        let deleted = n.event_type.as_deref() == Some("Delete");
        if !deleted && config.watch.published_only && result.published == Some(false) {
            ignored("unpublished");
            return None;
        }
        let hint = Hint {
            cause: HintCause::Notification,
            operation_id: (!op.is_empty()).then_some(op),
            week_date: result.week_date.map(|d| d.format("%Y-%m-%d").to_string()),
            week_count: result.week_count.map(|c| c as u32),
            published: result.published,
            version: result.metadata.as_ref().and_then(|m| m.version),
            management_units: result
                .management_units
                .iter()
                .filter_map(|m| m.management_unit.as_ref()?.id.clone())
                .collect(),
            deleted,
            agent_counts: result
                .management_units
                .iter()
                .filter_map(|m| Some((m.management_unit.as_ref()?.id.clone()?, m.agent_count?)))
                .collect(),
            narrow: Default::default(),
        };
        let key = ScheduleKey {
            business_unit_id: update.business_unit_id,
            schedule_id,
        };
        Some((key, hint))
    }

    /// True the first time this (operationId, status) is seen.
    fn remember(&mut self, op: String, status: String) -> bool {
        let k = (op, status);
        if self.seen.contains(&k) {
            return false;
        }
        if self.order.len() >= DEDUPE_CAPACITY
            && let Some(old) = self.order.pop_front()
        {
            self.seen.remove(&old);
        }
        self.seen.insert(k.clone());
        self.order.push_back(k);
        true
    }
}
