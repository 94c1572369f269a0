//! A cap on live feed (`/v1/events`) clients: each holds a task and a broadcast receiver
//! for as long as it stays connected, so without a cap any number of idle connections
//! grow the daemon's memory. One over `[admin] max_sse_clients` is answered 503.
//!
//! The slot is held by the response body, so it is given back (and the
//! `wfm_reactor_sse_clients` gauge lowered) exactly when the stream ends, however it
//! ends: client gone, client lagged and dropped, or the feed closed.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Connected clients and the cap; shared by the route's clones.
#[derive(Clone)]
pub(crate) struct Slots {
    max: usize,
    used: Arc<AtomicUsize>,
}

/// One client's place; dropping it frees the place.
struct Slot(Arc<AtomicUsize>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
        crate::telemetry::ops::sse_client_gone();
    }
}

impl Slots {
    /// At most `max` clients at once.
    pub(crate) fn new(max: usize) -> Self {
        Self {
            max,
            used: Arc::default(),
        }
    }

    fn take(&self) -> Option<Slot> {
        self.used
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                (n < self.max).then_some(n + 1)
            })
            .ok()?;
        crate::telemetry::ops::sse_client_connected();
        Some(Slot(self.used.clone()))
    }
}

/// The middleware on the live feed route.
pub(crate) async fn limit(State(slots): State<Slots>, req: Request, next: Next) -> Response {
    let Some(slot) = slots.take() else {
        crate::telemetry::ops::sse_client_refused(slots.max);
        let why = format!(
            "too many live feed clients: {} connected, the limit is admin.max_sse_clients = {}",
            slots.max, slots.max
        );
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(serde_json::json!({ "error": why })),
        )
            .into_response();
    };
    let (parts, body) = next.run(req).await.into_parts();
    let stream = body.into_data_stream().map(move |chunk| {
        let _held = &slot;
        chunk
    });
    Response::from_parts(parts, Body::from_stream(stream))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_capped_and_given_back_on_drop() {
        let slots = Slots::new(2);
        let a = slots.take().expect("first");
        let _b = slots.take().expect("second");
        assert!(slots.take().is_none(), "over the cap");
        drop(a);
        assert!(slots.take().is_some(), "a freed slot is reused");
    }
}
