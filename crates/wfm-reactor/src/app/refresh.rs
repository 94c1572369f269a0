//! The membership refresh: the org changes (agents join or leave management units), so
//! membership is re-read on a timer. The reactor owns membership, so the refresh is a
//! message to it; the new topic set goes to the channel manager after.

use crate::notifications::Fleet;
use crate::reactor::{Context, ReactorHandle, resolve_membership, topic_set};
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// Re-reads membership every `watch.membership_refresh`, hands it to the reactor (its
/// only owner) and applies the new topic set.
pub(super) async fn refresh_membership(
    ctx: Arc<Context>,
    reactor: ReactorHandle,
    upstream: Fleet,
    cancel: CancellationToken,
) {
    let every = ctx.config.watch.membership_refresh;
    loop {
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = tokio::time::sleep(every) => {}
        }
        match resolve_membership(&ctx.config, &ctx.wfm).await {
            Ok(m) => {
                let topics = topic_set(&ctx.config, &m);
                if !reactor.set_membership(m).await {
                    return; // the reactor stopped: shutting down
                }
                if let Err(err) = upstream.set_topics(topics).await {
                    tracing::error!(error = %err, "cannot apply the refreshed topic set");
                }
            }
            Err(err) => tracing::warn!(error = %err, "membership refresh failed; keeping the previous set"),
        }
    }
}
