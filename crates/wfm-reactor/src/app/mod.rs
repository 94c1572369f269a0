//! Wiring: builds every part from the configuration under one cancellation tree, and shuts
//! them down in order (intake → reactor → sinks → admin) within the grace period.

mod build;
mod embedded;
mod ha;
mod interim;
mod readiness;
mod refresh;
mod state_view;

pub use build::App;
pub use embedded::{EmbeddedSim, start_simulator};
pub use ha::run_replica;
pub use state_view::activity_at;

use crate::config::Config;
use crate::notifications::Fleet;
use crate::reactor::{ReactorHandle, resolve_membership};
use crate::sinks::DeliveryHandle;
use crate::store::Store;
use crate::wfm::WfmClient;
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Upstream events buffered between the websocket sessions and the reactor.
const UPSTREAM_BUFFER: usize = 8192;

/// Sockets bound by the caller before start (tests bind port 0; `run` binds the config's).
#[derive(Default)]
pub struct Listeners {
    /// The admin server's listener; `None` disables it.
    pub admin: Option<tokio::net::TcpListener>,
}

/// What an `[ha]` replica hands over when it becomes the leader.
#[derive(Default)]
pub struct Prepared {
    /// The store, opened fenced by the lease's epoch; `None` opens `[state]`'s.
    pub store: Option<Store>,
    /// `Some("leader")` under `[ha]`, for `/readyz`.
    pub role: Option<&'static str>,
}

/// A running daemon.
pub struct RunningApp {
    /// The embedded simulator, when `region = "simulator"`.
    pub simulator: Option<EmbeddedSim>,
    /// The store (tests read the outbox).
    pub store: Store,
    /// Reactor handles (resync, first reconcile).
    pub reactor: ReactorHandle,
    /// Sink statuses.
    pub delivery: DeliveryHandle,
    /// Channel manager.
    pub upstream: Fleet,
    cancel: CancellationToken,
    intake_cancel: CancellationToken,
    reactor_cancel: CancellationToken,
    tracker: TaskTracker,
    reactor_task: tokio::task::JoinHandle<()>,
    grace: Duration,
}

/// Starts everything; returns once the daemon is running (not yet necessarily ready).
pub async fn start(config: Config, mut listeners: Listeners) -> anyhow::Result<RunningApp> {
    // Without a lease this daemon is the only one there is.
    metrics::gauge!(crate::telemetry::lease::LEADER).set(1.0);
    // Resolving the org may wait out a Genesys outage: answer probes and scrapes meanwhile.
    let access = crate::admin::AccessConfig::of(&config);
    let interim = interim::Interim::serve(&mut listeners.admin, access, interim::resolving())?;
    let built = App::build(config).await;
    interim.stop().await;
    built?.spawn(listeners).await
}

/// [`start`] with a store (and role) prepared by the caller: the `[ha]` leader's.
pub async fn start_prepared(
    config: Config,
    listeners: Listeners,
    prepared: Prepared,
) -> anyhow::Result<RunningApp> {
    App::build_prepared(config, prepared)
        .await?
        .spawn(listeners)
        .await
}

impl RunningApp {
    /// Graceful shutdown: stop intake (closing sockets, deleting this process's
    /// subscriptions), let the reactor finish due fetches and persist pending keys, let the
    /// sinks drain what was committed, then stop everything. Logged step by step.
    pub async fn shutdown(self) {
        let deadline = tokio::time::Instant::now() + self.grace;
        tracing::info!("shutdown 1/4: stopping intake (closing sockets, deleting subscriptions)");
        self.upstream.shutdown().await;
        self.intake_cancel.cancel();
        tracing::info!("shutdown 2/4: reactor finishing due fetches, persisting pending keys");
        self.reactor_cancel.cancel();
        if tokio::time::timeout_at(deadline, self.reactor_task)
            .await
            .is_err()
        {
            tracing::warn!("reactor did not stop within the grace period");
        }
        tracing::info!("shutdown 3/4: letting sinks drain the outbox");
        let target = *self.store.committed().borrow();
        while tokio::time::Instant::now() < deadline
            && self
                .delivery
                .statuses()
                .values()
                .any(|s| s.cursor < target && s.last_error.is_none())
        {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        tracing::info!("shutdown 4/4: stopping sinks and the admin server");
        self.cancel.cancel();
        self.tracker.close();
        if tokio::time::timeout(Duration::from_secs(5), self.tracker.wait())
            .await
            .is_err()
        {
            tracing::warn!("some tasks did not stop in time");
        }
        if let Some(sim) = &self.simulator {
            sim.shutdown();
        }
        tracing::info!("shutdown complete");
    }
}

async fn resolve_with_retry(
    config: &Config,
    wfm: &WfmClient,
    cancel: &CancellationToken,
) -> anyhow::Result<crate::reactor::Membership> {
    let mut backoff = crate::backoff::BackoffPolicy::webhook().start();
    loop {
        match resolve_membership(config, wfm).await {
            Ok(m) => {
                tracing::info!(
                    business_units = m.business_units.len(),
                    agents = m.agents().len(),
                    "watched org resolved"
                );
                return Ok(m);
            }
            Err(err @ crate::wfm::WfmError::Forbidden { .. }) => return Err(err.into()),
            Err(err) => {
                let delay = backoff.next_delay();
                tracing::warn!(error = %err, retry_in = ?delay, "cannot resolve the watched business units yet");
                tokio::select! {
                    _ = cancel.cancelled() => anyhow::bail!("cancelled while resolving business units"),
                    _ = tokio::time::sleep(delay) => {}
                }
            }
        }
    }
}
