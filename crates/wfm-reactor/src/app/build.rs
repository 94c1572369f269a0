//! Build, then spawn: [`App::build`] turns the configuration into inert parts (store open,
//! token asked for, membership resolved), [`App::spawn`] starts the daemon's tasks, each
//! in its span, and returns the [`RunningApp`] that shuts them down.

use super::embedded::{self, EmbeddedSim, start_simulator};
use super::{
    Listeners, Prepared, RunningApp, UPSTREAM_BUFFER, readiness, refresh::refresh_membership,
    resolve_with_retry, state_view,
};
use crate::admin::{self, AdminState};
use crate::auth::{AuthError, TokenProvider};
use crate::config::Config;
use crate::notifications::{ChannelManager, Fleet, FleetMember, ManagerExtras};
use crate::reactor::unit_slots::UnitSlots;
use crate::reactor::{Context, Membership, Reactor, ReactorHandle, topic_set};
use crate::sinks::{DeliveryHandle, DeliveryOptions, spawn_delivery};
use crate::store::Store;
use crate::wfm::{ClientSettings, Credentials, RateBudget, WfmClient};
use anyhow::Context as _;
use std::sync::Arc;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::Instrument;

/// The daemon built from its configuration, before any of its tasks runs: the store is
/// open, a token was asked for, the watched membership is resolved and the presence cache
/// is loaded. [`App::spawn`] starts the tasks.
pub struct App {
    config: Arc<Config>,
    simulator: Option<EmbeddedSim>,
    store: Store,
    http: reqwest::Client,
    /// Each OAuth client's token and REST budget, in configuration order.
    clients: Vec<ClientParts>,
    api_base: String,
    ctx: Arc<Context>,
    /// The watched org as resolved at start; handed to the reactor, its only owner.
    membership: Membership,
    cancel: CancellationToken,
    tracker: TaskTracker,
    /// `Some("leader")` under `[ha]` (for `/readyz`).
    role: Option<&'static str>,
}

// === impl App ===

impl App {
    /// Builds the parts (starting the embedded simulator first when `region = "simulator"`).
    /// Fails on a refused OAuth client or an unusable store; a token that cannot be had yet
    /// only warns (every call retries).
    pub async fn build(config: Config) -> anyhow::Result<App> {
        Self::build_prepared(config, Prepared::default()).await
    }

    /// [`App::build`] on a store the caller opened (the `[ha]` leader's, fenced by its
    /// lease epoch); without one, the store `[state]` describes.
    pub async fn build_prepared(mut config: Config, prepared: Prepared) -> anyhow::Result<App> {
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
        crate::telemetry::prometheus::handle();
        crate::telemetry::expose_known(&config.sink_names());
        let cancel = CancellationToken::new();
        let store = match prepared.store {
            Some(s) => s,
            None => Store::open_configured(&config.state).await?,
        };
        let http = reqwest::Client::builder()
            .timeout(config.fetch.request_timeout)
            .user_agent(concat!("wfm-reactor/", env!("CARGO_PKG_VERSION")))
            .build()?;
        let mut clients = Vec::new();
        for client in config.genesys.oauth_clients() {
            let tokens = first_token(&config, &client, &http).await?;
            let budget = RateBudget::from_config(&config.fetch);
            clients.push(ClientParts {
                client_id: client.client_id,
                tokens,
                budget,
            });
        }
        crate::telemetry::upstream::expose_clients(
            &clients.iter().map(|c| c.client_id.clone()).collect::<Vec<_>>(),
        );
        // REST calls are spread over every client's token and budget.
        let (tokens, budget) = (clients[0].tokens.clone(), clients[0].budget.clone());
        let lanes = clients[1..]
            .iter()
            .map(|c| (Credentials::Provider(c.tokens.clone()), c.budget.clone()))
            .collect();
        let settings = ClientSettings {
            request_timeout: config.fetch.request_timeout,
            max_download_bytes: config.fetch.max_download_bytes,
            ..ClientSettings::default()
        };
        let api_base = config.genesys.api_base();
        let wfm = WfmClient::new(&api_base, Credentials::Provider(tokens.clone()), budget, settings)?
            .with_lanes(lanes);
        let membership = resolve_with_retry(&config, &wfm, &cancel).await?;
        let ctx = Arc::new(Context {
            store: store.clone(),
            wfm,
            api_host: api_host(&api_base),
            config: config.clone(),
            unit_slots: UnitSlots::new(config.fetch.concurrency, clients.len()),
        });
        Ok(App {
            config,
            simulator,
            store,
            http,
            clients,
            api_base,
            ctx,
            membership,
            cancel,
            tracker: TaskTracker::new(),
            role: prepared.role,
        })
    }

    /// Spawns the tasks in dependency order: upstream (subscribed to the topic set), the
    /// reactor, the sinks, the readiness watchers and the admin server.
    pub async fn spawn(self, listeners: Listeners) -> anyhow::Result<RunningApp> {
        let App {
            config,
            simulator,
            store,
            http,
            clients,
            api_base,
            ctx,
            membership,
            cancel,
            tracker,
            role,
        } = self;
        let (tx, rx) = mpsc::channel(UPSTREAM_BUFFER);
        let intake_cancel = cancel.child_token();
        let topics = topic_set(&config, &membership);
        let upstream =
            spawn_upstream(&ctx, topics, api_base, clients, http, tx, intake_cancel.clone()).await?;

        let reactor_cancel = cancel.child_token();
        let (mut reactor, reactor_handle) = Reactor::new(ctx.clone(), membership, rx);
        let up = upstream.clone();
        reactor.watch_refusals(Arc::new(move || up.status().degraded.into_keys().collect()));
        reactor.load().await?;
        let reactor_task = tokio::spawn(
            reactor
                .run(reactor_cancel.clone())
                .instrument(tracing::info_span!("reactor")),
        );
        let delivery = spawn_sinks(&config, &store, &cancel, &tracker).await?;

        tracker.spawn(
            upstream
                .clone()
                .watch_health(cancel.child_token())
                .instrument(tracing::info_span!("client_health")),
        );
        tracker.spawn(
            refresh_membership(
                ctx.clone(),
                reactor_handle.clone(),
                upstream.clone(),
                cancel.child_token(),
            )
            .instrument(tracing::info_span!("membership_refresh")),
        );
        if let Some(listener) = listeners.admin {
            let inputs = readiness::ReadinessInputs {
                upstream: upstream.clone(),
                first_reconcile_done: reactor_handle.first_reconcile_done.clone(),
                delivery: delivery.clone(),
                store: store.clone(),
                role,
            };
            let state = admin_state(&ctx, &store, inputs, &reactor_handle);
            spawn_admin(listener, state, &cancel, &tracker)?;
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
}

/// One OAuth client's token and REST budget.
struct ClientParts {
    client_id: String,
    tokens: TokenProvider,
    budget: RateBudget,
}

/// The token provider, after one attempt at a token: a refused client is fatal, anything
/// else only warns.
async fn first_token(
    config: &Config,
    client: &crate::config::OAuthClient,
    http: &reqwest::Client,
) -> anyhow::Result<TokenProvider> {
    let tokens = TokenProvider::new(
        config.genesys.login_base(),
        client.client_id.clone(),
        client.client_secret.clone(),
        http.clone(),
    );
    match tokens.token().await {
        Ok(_) => tracing::info!(client_id = %client.client_id, "OAuth token obtained"),
        Err(err @ AuthError::InvalidClient { .. }) => return Err(err.into()),
        Err(err) => tracing::warn!(error = %err, "no token yet; continuing, every call retries"),
    }
    Ok(tokens)
}

/// `host[:port]` of the API base (events name it as their source), or the base itself.
fn api_host(api_base: &str) -> String {
    reqwest::Url::parse(api_base)
        .ok()
        .and_then(|u| {
            u.host_str()
                .map(|h| u.port().map_or(h.to_string(), |p| format!("{h}:{p}")))
        })
        .unwrap_or_else(|| api_base.to_string())
}

/// One channel manager per OAuth client, the topic set of the resolved membership spread
/// over them.
async fn spawn_upstream(
    ctx: &Context,
    topics: std::collections::BTreeSet<String>,
    api_base: String,
    clients: Vec<ClientParts>,
    http: reqwest::Client,
    tx: mpsc::Sender<crate::topics::UpstreamEvent>,
    intake_cancel: CancellationToken,
) -> anyhow::Result<Fleet> {
    let cfg = &ctx.config.notifications;
    let per_channel = cfg.max_topics_per_channel.clamp(1, 1000);
    let max_channels = crate::notifications::manager::usable_channels(cfg.max_channels);
    let members = clients
        .into_iter()
        .map(|c| {
            // A client's notification calls share its REST budget's 429 pauses (the
            // platform limit is per token).
            let extras = ManagerExtras {
                budget: Some(c.budget.clone()),
                ..ManagerExtras::default()
            };
            let manager = ChannelManager::spawn_with(
                api_base.clone(),
                c.tokens.clone(),
                http.clone(),
                cfg.clone(),
                tx.clone(),
                extras,
                intake_cancel.clone(),
            );
            FleetMember {
                client_id: c.client_id,
                tokens: c.tokens,
                budget: c.budget,
                manager,
                capacity: per_channel * max_channels,
                per_channel,
                max_channels,
            }
        })
        .collect();
    let upstream = Fleet::new(members);
    tracing::info!(
        topics = topics.len(),
        clients = upstream.members().len(),
        "subscribing"
    );
    upstream.set_topics(topics).await?;
    Ok(upstream)
}

/// One delivery task per configured sink (plus the outbox pruner).
async fn spawn_sinks(
    config: &Config,
    store: &Store,
    cancel: &CancellationToken,
    tracker: &TaskTracker,
) -> anyhow::Result<DeliveryHandle> {
    let sinks: Vec<_> = config
        .sink_names()
        .into_iter()
        .zip(config.sinks.iter().cloned())
        .collect();
    let options = DeliveryOptions {
        prune_interval: config.state.prune_interval,
        grace: config.shutdown.grace,
        linger: config.state.delivery_linger,
        ..DeliveryOptions::default()
    };
    spawn_delivery(store.clone(), sinks, options, cancel.child_token(), tracker).await
}

/// What the admin endpoints read: liveness, readiness, metrics, the live feed, state, resync.
fn admin_state(
    ctx: &Arc<Context>,
    store: &Store,
    inputs: readiness::ReadinessInputs,
    reactor: &ReactorHandle,
) -> AdminState {
    let state_ctx = (ctx.clone(), reactor.clone());
    let adherence_reactor = reactor.clone();
    let store_for_liveness = store.clone();
    let upstream_for_liveness = inputs.upstream.clone();
    AdminState {
        liveness: Arc::new(move || {
            (!store_for_liveness.is_healthy())
                .then(|| "state store writer stopped; nothing can be committed".to_string())
                .or_else(|| upstream_for_liveness.status().not_live())
        }),
        readiness: readiness::readiness(inputs),
        metrics: crate::telemetry::prometheus::handle(),
        live: store.live_sender(),
        state: Arc::new(move || {
            let (ctx, reactor) = state_ctx.clone();
            Box::pin(async move { state_view::snapshot(&ctx, &reactor).await })
        }),
        resync: reactor.resync.clone(),
        store: Some(store.clone()),
        adherence: Arc::new(move |mu| {
            let reactor = adherence_reactor.clone();
            Box::pin(async move {
                let rows = reactor.adherence(mu).await?;
                serde_json::to_value(rows).ok()
            })
        }),
        access: admin::AccessConfig::of(&ctx.config),
    }
}

/// The admin server on the caller's listener, in its own span.
fn spawn_admin(
    listener: tokio::net::TcpListener,
    state: AdminState,
    cancel: &CancellationToken,
    tracker: &TaskTracker,
) -> anyhow::Result<()> {
    let addr = listener.local_addr()?;
    let token_set = !state.access.token.is_empty();
    let admin_cancel = cancel.child_token();
    tracker.spawn(
        async move {
            if let Err(err) = admin::serve(listener, state, admin_cancel).await {
                tracing::error!(error = %err, "admin server failed");
            }
        }
        .instrument(tracing::info_span!("admin", %addr)),
    );
    tracing::info!(url = %format!("http://{addr}/"), "intraday board");
    tracing::info!(%addr, "admin endpoints: / /livez /readyz /metrics /v1/state /v1/events /v1/adherence POST /v1/resync POST /v1/session");
    if token_set {
        tracing::info!("admin token set: /v1/* and / need it; /livez /readyz /metrics are open");
    } else {
        tracing::info!("no admin token: loopback Host names and same-origin requests only");
    }
    Ok(())
}
