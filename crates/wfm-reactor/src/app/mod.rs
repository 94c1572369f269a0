//! Wiring: builds every part from the configuration under one cancellation tree, and shuts
//! them down in order (intake → reactor → sinks → admin) within the grace period.

mod embedded;
mod ha;
mod readiness;
mod state_view;

pub use embedded::{EmbeddedSim, start_simulator};
pub use ha::run_replica;
pub use state_view::activity_at;

use crate::admin::{self, AdminState};
use crate::auth::{AuthError, TokenProvider};
use crate::config::Config;
use crate::notifications::{ChannelManager, ManagerExtras, ManagerHandle};
use crate::reactor::{Context, Reactor, ReactorHandle, resolve_membership, topic_set};
use crate::sinks::{DeliveryHandle, DeliveryOptions, spawn_delivery};
use crate::store::Store;
use crate::wfm::{ClientSettings, Credentials, RateBudget, WfmClient};
use anyhow::Context as _;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, watch};
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
    pub upstream: ManagerHandle,
    cancel: CancellationToken,
    intake_cancel: CancellationToken,
    reactor_cancel: CancellationToken,
    tracker: TaskTracker,
    reactor_task: tokio::task::JoinHandle<()>,
    grace: Duration,
}

/// Starts everything; returns once the daemon is running (not yet necessarily ready).
pub async fn start(config: Config, listeners: Listeners) -> anyhow::Result<RunningApp> {
    // Without a lease this daemon is the only one there is.
    metrics::gauge!(crate::telemetry::lease::LEADER).set(1.0);
    start_prepared(config, listeners, Prepared::default()).await
}

/// [`start`] with a store (and role) prepared by the caller: the `[ha]` leader's.
pub async fn start_prepared(
    mut config: Config,
    listeners: Listeners,
    prepared: Prepared,
) -> anyhow::Result<RunningApp> {
    let simulator = if config.genesys.is_simulator() {
        let sim = start_simulator(&mut config)
            .await
            .context("starting the embedded simulator")?;
        embedded::banner(&sim, &config);
        Some(sim)
    } else {
        None
    };
    let config = Arc::new(config);
    let cancel = CancellationToken::new();
    let tracker = TaskTracker::new();
    let store = match prepared.store {
        Some(s) => s,
        None => Store::open_configured(&config.state).await?,
    };
    let http = reqwest::Client::builder()
        .timeout(config.fetch.request_timeout)
        .user_agent(concat!("wfm-reactor/", env!("CARGO_PKG_VERSION")))
        .build()?;
    let g = &config.genesys;
    let tokens = TokenProvider::new(
        g.login_base(),
        g.client_id.clone(),
        g.client_secret.clone(),
        http.clone(),
    );
    match tokens.token().await {
        Ok(_) => tracing::info!(client_id = %g.client_id, "OAuth token obtained"),
        Err(err @ AuthError::InvalidClient { .. }) => return Err(err.into()),
        Err(err) => tracing::warn!(error = %err, "no token yet; continuing, every call retries"),
    }
    let budget = RateBudget::from_config(&config.fetch);
    let settings = ClientSettings {
        request_timeout: config.fetch.request_timeout,
        ..ClientSettings::default()
    };
    let api_base = g.api_base();
    let wfm = WfmClient::new(&api_base, Credentials::Provider(tokens.clone()), budget, settings)?;
    let membership = resolve_with_retry(&config, &wfm, &cancel).await?;
    let api_host = reqwest::Url::parse(&api_base)
        .ok()
        .and_then(|u| {
            u.host_str()
                .map(|h| u.port().map_or(h.to_string(), |p| format!("{h}:{p}")))
        })
        .unwrap_or_else(|| api_base.clone());
    let ctx = Arc::new(Context {
        store: store.clone(),
        wfm: wfm.clone(),
        api_host,
        config: config.clone(),
        membership: Mutex::new(membership),
        presence: Mutex::default(),
    });
    crate::reactor::reload_presence_cache(&ctx).await?;

    let (tx, rx) = mpsc::channel(UPSTREAM_BUFFER);
    let intake_cancel = cancel.child_token();
    // Notification calls share the REST budget's 429 pauses (the platform limit is per token).
    let extras = ManagerExtras {
        budget: Some(wfm.budget().clone()),
        ..ManagerExtras::default()
    };
    let upstream = ChannelManager::spawn_with(
        api_base,
        tokens.clone(),
        http,
        config.notifications.clone(),
        tx,
        extras,
        intake_cancel.clone(),
    );
    let topics = topic_set(&config, &ctx.membership.lock().expect("membership lock"));
    tracing::info!(topics = topics.len(), "subscribing");
    upstream.set_topics(topics).await?;

    let reactor_cancel = cancel.child_token();
    let (reactor, reactor_handle) = Reactor::new(ctx.clone(), rx);
    let reactor_task = tokio::spawn(reactor.run(reactor_cancel.clone()));

    let sinks: Vec<_> = config
        .sink_names()
        .into_iter()
        .zip(config.sinks.iter().cloned())
        .collect();
    let options = DeliveryOptions {
        prune_interval: config.state.prune_interval,
        grace: config.shutdown.grace,
        ..DeliveryOptions::default()
    };
    let delivery = spawn_delivery(store.clone(), sinks, options, cancel.child_token(), &tracker).await?;

    let (held_tx, token_held) = watch::channel(true);
    tracker.spawn(readiness::watch_token(
        tokens.clone(),
        held_tx,
        cancel.child_token(),
    ));
    tracker.spawn(refresh_membership(
        ctx.clone(),
        upstream.clone(),
        cancel.child_token(),
    ));
    if let Some(listener) = listeners.admin {
        let addr = listener.local_addr()?;
        let state_ctx = ctx.clone();
        let store_for_liveness = store.clone();
        let state = AdminState {
            liveness: Arc::new(move || {
                (!store_for_liveness.is_healthy())
                    .then(|| "state store writer stopped; nothing can be committed".to_string())
            }),
            readiness: readiness::readiness(readiness::ReadinessInputs {
                token_held,
                upstream: upstream.clone(),
                first_reconcile_done: reactor_handle.first_reconcile_done.clone(),
                delivery: delivery.clone(),
                store: store.clone(),
                role: prepared.role,
            }),
            metrics: crate::telemetry::prometheus::handle(),
            live: store.live_sender(),
            state: Arc::new(move || {
                let ctx = state_ctx.clone();
                Box::pin(async move { state_view::snapshot(&ctx).await })
            }),
            resync: reactor_handle.resync.clone(),
        };
        let admin_cancel = cancel.child_token();
        tracker.spawn(async move {
            if let Err(err) = admin::serve(listener, state, admin_cancel).await {
                tracing::error!(error = %err, "admin server failed");
            }
        });
        tracing::info!(%addr, "admin endpoints: /livez /readyz /metrics /v1/state /v1/events POST /v1/resync");
    }
    Ok(RunningApp {
        simulator,
        store,
        reactor: reactor_handle,
        delivery,
        upstream,
        cancel,
        intake_cancel,
        reactor_cancel,
        tracker,
        reactor_task,
        grace: config.shutdown.grace,
    })
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

/// Re-reads membership every `watch.membership_refresh` and applies the new topic set.
async fn refresh_membership(ctx: Arc<Context>, upstream: ManagerHandle, cancel: CancellationToken) {
    let every = ctx.config.watch.membership_refresh;
    loop {
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = tokio::time::sleep(every) => {}
        }
        match resolve_membership(&ctx.config, &ctx.wfm).await {
            Ok(m) => {
                let topics = topic_set(&ctx.config, &m);
                *ctx.membership.lock().expect("membership lock") = m;
                if let Err(err) = upstream.set_topics(topics).await {
                    tracing::error!(error = %err, "cannot apply the refreshed topic set");
                }
            }
            Err(err) => tracing::warn!(error = %err, "membership refresh failed; keeping the previous set"),
        }
    }
}
