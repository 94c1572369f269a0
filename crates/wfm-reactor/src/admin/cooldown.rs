//! `POST /v1/resync` at most once per `[reconcile] resync_cooldown`: a full reconcile costs
//! one presence call per ~50 agents and every schedule list, so repeated POSTs (40 of them
//! once gave 42 reconciles) would drain the REST budget the notifications need. Sooner is
//! 429 with `Retry-After` in whole seconds (rounded up, so a client that waits that long
//! is never refused again).

use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;

/// When the last accepted request came; shared by the route's clones.
#[derive(Clone)]
pub(crate) struct Cooldown {
    every: Duration,
    // A std Mutex: held only to read and replace an instant, never across an await.
    last: Arc<Mutex<Option<Instant>>>,
}

impl Cooldown {
    /// At most one request per `every` passes.
    pub(crate) fn new(every: Duration) -> Self {
        Self {
            every,
            last: Arc::default(),
        }
    }

    /// `Ok` and the slot taken, or how long until the next one.
    fn take(&self) -> Result<(), Duration> {
        let now = Instant::now();
        let mut last = self.last.lock().expect("cooldown lock");
        let wait = last
            .and_then(|at| at.checked_add(self.every))
            .and_then(|free_at| free_at.checked_duration_since(now))
            .filter(|w| !w.is_zero());
        if let Some(wait) = wait {
            return Err(wait);
        }
        *last = Some(now);
        Ok(())
    }
}

/// The middleware on the resync route.
pub(crate) async fn limit(State(cooldown): State<Cooldown>, req: Request, next: Next) -> Response {
    match cooldown.take() {
        Ok(()) => next.run(req).await,
        Err(wait) => {
            let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            crate::telemetry::ops::resync_refused(secs);
            (
                StatusCode::TOO_MANY_REQUESTS,
                [(header::RETRY_AFTER, secs.to_string())],
                axum::Json(serde_json::json!({
                    "error": format!(
                        "a resync ran less than reconcile.resync_cooldown ({}) ago; retry in {secs}s",
                        humantime::format_duration(cooldown.every)
                    )
                })),
            )
                .into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn one_per_cooldown_and_the_wait_is_what_remains() {
        let c = Cooldown::new(Duration::from_secs(60));
        assert_eq!(c.take(), Ok(()));
        tokio::time::advance(Duration::from_millis(59_500)).await;
        assert_eq!(c.take(), Err(Duration::from_millis(500)));
        tokio::time::advance(Duration::from_millis(500)).await;
        assert_eq!(c.take(), Ok(()), "free again after exactly the cooldown");
        assert!(c.take().is_err());
    }
}
