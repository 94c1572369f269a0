//! Control routes for tests and benchmarks that drive a simulator running in another
//! process (`wfm-reactor sim`): they expose [`SimHandle`] load generation over HTTP.
//!
//! Why: a benchmark that runs the simulator in its own process measures the daemon's CPU
//! and latency alone, but then cannot call [`SimHandle::flood_presence`] directly. These
//! routes live under `/sim/`, outside `/api/`, so they take no token and do not count
//! against the simulated rate limit. They are not part of the Genesys surface.
//!
//! - `POST /sim/flood` `{"users": ["id", ...] | null, "total": N, "per_second": R}`: sends
//!   `N` presence changes round-robin over `users` (`null` = every agent), at `R` per second
//!   in 1 ms ticks if given (else as fast as the sockets drain), and answers when they are
//!   all handed to the sockets: `{"delivered": frames}`.
//! - `GET /sim/channels`: `[{"id", "connected", "topics"}]`, to wait for subscriptions.
//! - `GET /sim/agents`: every agent id, in the org's order (to pick flood targets).
//! - `POST /sim/clients/{id}/revoke` / `.../restore`: refuse one OAuth client's
//!   credentials (revoking its tokens) or accept them again.
//! - `GET /sim/schedules` and `POST /sim/schedule-bursts`: schedule edits driven from
//!   another process (see `control_schedules.rs`).

use super::errors::ApiError;
use super::flood::Pace;
use super::handle::SimHandle;
use super::state::AppState;
use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};

/// Most events one flood request may ask for, so a typo cannot tie the simulator up for hours.
pub(crate) const MAX_FLOOD: usize = 10_000_000;

/// Body of `POST /sim/flood`.
#[derive(Debug, Deserialize)]
pub(crate) struct FloodRequest {
    /// Agents to flood, round-robin; `None` (JSON `null` or absent) = every agent.
    #[serde(default)]
    users: Option<Vec<String>>,
    /// Notifications to send in total.
    total: usize,
    /// Events per second, in 1 ms ticks; absent = as fast as the sockets drain.
    #[serde(default)]
    per_second: Option<u32>,
}

/// Answer of `POST /sim/flood`.
#[derive(Debug, Serialize)]
pub(crate) struct FloodResponse {
    /// Frames handed to sockets, summed over sockets.
    delivered: usize,
}

/// One channel in `GET /sim/channels`.
#[derive(Debug, Serialize)]
pub(crate) struct ChannelStatus {
    id: String,
    connected: bool,
    topics: usize,
}

/// `POST /sim/flood`.
pub(crate) async fn flood(
    State(shared): State<AppState>,
    Json(req): Json<FloodRequest>,
) -> Result<Json<FloodResponse>, ApiError> {
    if req.total > MAX_FLOOD {
        tracing::warn!(total = req.total, "sim: flood request too large");
        metrics::counter!("wfm_reactor_sim_control_rejected_total", "route" => "flood").increment(1);
        return Err(ApiError::bad_request(
            "bad.request",
            format!("total {} is above the limit of {MAX_FLOOD}", req.total),
        ));
    }
    let handle = SimHandle { shared };
    let users = req.users.unwrap_or_else(|| handle.org().agent_ids());
    let pace = req
        .per_second
        .filter(|r| *r > 0)
        .map_or(Pace::Flood, Pace::PerSecond);
    let delivered = handle.flood_presence_paced(&users, req.total, pace).await;
    Ok(Json(FloodResponse { delivered }))
}

/// `GET /sim/channels`.
pub(crate) async fn channels(State(shared): State<AppState>) -> Json<Vec<ChannelStatus>> {
    let handle = SimHandle { shared };
    Json(
        handle
            .channels()
            .into_iter()
            .map(|c| ChannelStatus {
                id: c.id,
                connected: c.connected,
                topics: c.topics.len(),
            })
            .collect(),
    )
}

/// `POST /sim/clients/{id}/revoke`.
pub(crate) async fn revoke_client(
    State(shared): State<AppState>,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> axum::http::StatusCode {
    SimHandle { shared }.revoke_client(&id);
    axum::http::StatusCode::NO_CONTENT
}

/// `POST /sim/clients/{id}/restore`.
pub(crate) async fn restore_client(
    State(shared): State<AppState>,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> axum::http::StatusCode {
    SimHandle { shared }.restore_client(&id);
    axum::http::StatusCode::NO_CONTENT
}

/// `GET /sim/agents`.
pub(crate) async fn agents(State(shared): State<AppState>) -> Json<Vec<String>> {
    Json(SimHandle { shared }.org().agent_ids())
}
