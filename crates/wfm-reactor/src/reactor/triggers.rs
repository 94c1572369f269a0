//! What starts work besides notifications: the first reconcile's cause, dirty keys left
//! by the last run, and reconcile requests (start, gaps, timer, resync) folded into one.

use super::{Done, Hint, HintCause, Reactor, reconcile};
use crate::coalesce::ScheduleKey;
use std::time::Duration;
use tokio::time::Instant;
use tracing::Instrument;

impl Reactor {
    pub(super) async fn initial_cause(&self) -> HintCause {
        let initialized = self
            .ctx
            .store
            .meta(reconcile::META_INITIALIZED)
            .await
            .ok()
            .flatten()
            .is_some();
        if initialized {
            HintCause::Reconcile
        } else {
            HintCause::Snapshot
        }
    }

    pub(super) async fn offer_dirty_keys(&mut self) {
        match self.ctx.store.dirty_keys().await {
            Ok(keys) => {
                for k in keys {
                    let key = ScheduleKey {
                        business_unit_id: k.business_unit_id.clone(),
                        schedule_id: k.schedule_id.clone(),
                    };
                    tracing::info!(business_unit = %k.business_unit_id, schedule = %k.schedule_id, "re-fetching a schedule left pending by the last run");
                    self.offer(key, Hint::reconcile(None), Instant::now());
                }
            }
            Err(err) => tracing::error!(error = %err, "cannot read dirty keys from the store"),
        }
    }

    /// Asks for a reconcile `after` from now; folds into one already wanted (earliest time,
    /// strongest cause). One wanted while another runs starts when that one finished, since
    /// the running one may have listed before the gap ended.
    pub(super) fn request_reconcile(&mut self, cause: HintCause, after: Duration) {
        let at = Instant::now() + after;
        self.reconcile_due = Some(match self.reconcile_due {
            Some((t, c)) => (t.min(at), c.max(cause)),
            None => (at, cause),
        });
    }

    pub(super) fn start_reconcile(&mut self) {
        let Some((_, cause)) = self.reconcile_due.take() else {
            return;
        };
        self.reconcile_running = true;
        // refusals are known once the channels subscribed (their gaps brought us here):
        // units whose adherence topic is refused leave Genesys adherence first
        if let Some(refused) = &self.refusals {
            let refused = refused();
            self.adherence.set_refused(&refused, self.presence.batch_mut());
        }
        let start = reconcile::Start {
            adherence_units: self.adherence.genesys_units(),
            known_routing: self.presence.routing_statuses(),
            known_presence: self.presence.presences(),
        };
        let (ctx, membership) = (self.ctx.clone(), self.membership.clone());
        let span = tracing::info_span!("reconcile", cause = ?cause);
        self.tasks.spawn_reconcile(
            cause,
            async move { Done::Reconcile(cause, reconcile::run(&ctx, &membership, cause, &start).await) }
                .instrument(span),
        );
    }
}
