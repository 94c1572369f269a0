//! The embedded Genesys Cloud simulator: one axum server serving login (`/oauth/token`),
//! the REST API, downloads and the notification websockets, faithful to
//! `shared/spec/genesys-cloud.md` and rendering its JSON independently of `genesys/`.
//!
//! Tests start it on `127.0.0.1:0` with [`start`] and script it through [`SimHandle`].
#![forbid(unsafe_code)]

mod activity;
mod adherence;
mod agent_schedules;
mod bench;
mod bomb;
mod change;
mod channels;
mod config;
mod control;
mod control_schedules;
mod errors;
mod flood;
mod handle;
mod ids;
mod liveness;
mod notify;
mod oauth;
mod org;
mod platform;
mod presence_routes;
mod query;
mod reap;
mod schedule_routes;
mod schedules;
mod state;
mod topics;
mod view;
mod wfm_routes;
mod ws;

pub use bomb::DownloadBomb;
pub use change::{AgentPick, ChangeOutcome, Emit, ScheduleChange, SimError};
pub use config::SimConfig;
pub use flood::Pace;
pub use handle::SimHandle;
pub use org::ActivityCode;
pub use state::{DownloadFault, LoggedRequest};
pub use view::{BusinessUnitView, ChannelView, ManagementUnitView, OrgView, ScheduleView};

use axum::Router;
use axum::routing::{get, post};
use state::{AppState, Shared};
use std::sync::Arc;

/// Builds every route.
fn router(shared: AppState) -> Router {
    const WFM: &str = "/api/v2/workforcemanagement";
    const CH: &str = "/api/v2/notifications/channels";
    let weeks = format!("{WFM}/businessunits/{{bu}}/weeks/{{week}}/schedules");
    Router::new()
        .route("/oauth/token", post(oauth::token))
        .route(CH, post(channels::create).get(channels::list))
        .route(&format!("{CH}/{{id}}"), axum::routing::head(channels::head))
        .route(
            &format!("{CH}/{{id}}/subscriptions"),
            get(channels::get_subs)
                .put(channels::put_subs)
                .post(channels::post_subs)
                .delete(channels::delete_subs),
        )
        .route("/channels/{id}", get(ws::upgrade))
        .route(&format!("{WFM}/businessunits"), get(wfm_routes::list_bus))
        .route(&format!("{WFM}/businessunits/{{bu}}"), get(wfm_routes::get_bu))
        .route(
            &format!("{WFM}/businessunits/{{bu}}/managementunits"),
            get(wfm_routes::list_mus),
        )
        .route(
            &format!("{WFM}/businessunits/{{bu}}/activitycodes"),
            get(wfm_routes::activity_codes),
        )
        .route(
            &format!("{WFM}/managementunits/{{mu}}/adherence"),
            get(adherence::list),
        )
        .route(
            &format!("{WFM}/managementunits/{{mu}}/users"),
            get(wfm_routes::mu_users),
        )
        .route(
            &format!("{WFM}/agents/{{agent}}/managementunit"),
            get(wfm_routes::agent_mu),
        )
        .route(&weeks, get(schedule_routes::list))
        .route(&format!("{weeks}/{{id}}"), get(schedule_routes::metadata))
        .route(
            &format!("{weeks}/{{id}}/agentschedules/query"),
            post(schedule_routes::query),
        )
        .route("/downloads/{key}", get(schedule_routes::download))
        .route(
            "/api/v2/users/{id}/presences/purecloud",
            get(presence_routes::get_presence),
        )
        .route(
            "/api/v2/users/presences/purecloud/bulk",
            get(presence_routes::bulk_presence),
        )
        .route(
            "/api/v2/users/{id}/routingstatus",
            get(presence_routes::get_routing),
        )
        // Test/benchmark aid for a simulator in another process; not a Genesys route.
        .route("/sim/flood", post(control::flood))
        .route("/sim/channels", get(control::channels))
        .route("/sim/agents", get(control::agents))
        .route("/sim/schedules", get(control_schedules::schedules))
        .route("/sim/schedule-bursts", post(control_schedules::bursts))
        .route("/sim/clients/{id}/revoke", post(control::revoke_client))
        .route("/sim/clients/{id}/restore", post(control::restore_client))
        .fallback(|| async { errors::ApiError::not_found("resource") })
        .layer(axum::middleware::from_fn_with_state(
            shared.clone(),
            platform::layer,
        ))
        .with_state(shared)
}

/// Starts the simulator on `listener` (spawned on the current runtime) and returns its handle.
pub async fn start(config: SimConfig, listener: tokio::net::TcpListener) -> anyhow::Result<SimHandle> {
    let addr = listener.local_addr()?;
    let monday = org::monday_of(chrono::Utc::now().date_naive());
    let org = org::Org::generate(config.seed, config.business_units, config.agents, monday);
    let activity_on = config.activity;
    let shared = Arc::new(Shared::new(config, org, addr));
    let app = router(shared.clone());
    let cancel = shared.cancel.clone();
    tokio::spawn(async move {
        let serve = axum::serve(listener, app).with_graceful_shutdown(cancel.cancelled_owned());
        if let Err(e) = serve.await {
            tracing::error!(error = %e, "sim: server stopped with an error");
        }
    });
    let handle = SimHandle { shared };
    if activity_on {
        tokio::spawn(activity::run(handle.clone()));
    }
    Ok(handle)
}
