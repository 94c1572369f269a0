//! An `[ha]` replica: standby until it holds the lease, then the whole daemon on the
//! shared store, fenced by the lease's epoch; back to standby when the lease is lost.
//!
//! A standby owns nothing upstream (no token, no channel, no REST call, no delivery):
//! its admin server answers `/livez`, `/metrics`, and `/readyz` with 200 and
//! `"role": "standby"`, so a rolling update of a two-replica Deployment is not held up
//! by the replica that is meant to wait.

use super::{Listeners, Prepared, RunningApp, interim};
use crate::admin;
use crate::config::Config;
use crate::store::{Store, lease};
use crate::telemetry::lease as tm;
use std::future::Future;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// Pause before retrying after the store could not be opened as leader.
const RETRY: Duration = Duration::from_secs(1);

/// Runs one replica until `shutdown` resolves (Ok) or the daemon cannot start (Err).
pub async fn run_replica(
    config: Config,
    admin: Option<TcpListener>,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    let url = config
        .state
        .url
        .as_ref()
        .map(|u| u.expose().to_string())
        .ok_or_else(|| anyhow::anyhow!("[ha] enabled needs [state] url"))?;
    let takeover = config.ha.takeover;
    let holder = holder_name();
    let admin = admin.map(TcpListener::into_std).transpose()?;
    tokio::pin!(shutdown);
    metrics::gauge!(tm::LEADER).set(0.0);
    loop {
        let standby = CancellationToken::new();
        if let Some(l) = interim::clone_listener(admin.as_ref())? {
            tokio::spawn(interim::serve(
                l,
                admin::AccessConfig::of(&config),
                interim::standby(),
                standby.clone(),
            ));
        }
        let acquired = tokio::select! {
            l = lease::acquire(&url, &holder, takeover, &standby) => l,
            _ = &mut shutdown => None,
        };
        standby.cancel();
        let Some(mut lease) = acquired else { return Ok(()) };
        let store = match Store::open_postgres(&url, lease.fence()).await {
            Ok(s) => s,
            Err(e) => {
                tracing::error!(error = %e, "cannot open the shared store as leader; standing by again");
                drop(lease);
                tokio::time::sleep(RETRY).await;
                continue;
            }
        };
        tm::takeover(lease.epoch());
        let prepared = Prepared {
            store: Some(store),
            role: Some("leader"),
        };
        let listeners = Listeners {
            admin: interim::clone_listener(admin.as_ref())?,
        };
        let running = tokio::select! {
            r = super::start_prepared(config.clone(), listeners, prepared) => r?,
            _ = lease.lost() => continue,
            _ = &mut shutdown => return Ok(()),
        };
        tokio::select! {
            _ = &mut shutdown => {
                running.shutdown().await;
                return Ok(());
            }
            _ = lease.lost() => running.abort().await,
        }
        // Give the standby the first chance: a replica whose session was cut may be the
        // one with the bad network, and racing straight back would keep it leader.
        tokio::select! {
            _ = tokio::time::sleep(takeover) => {}
            _ = &mut shutdown => return Ok(()),
        }
    }
}

/// `host/pid`: who holds the lease, as recorded in the epoch row and the logs.
fn holder_name() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "replica".into());
    format!("{host}/{}", std::process::id())
}

impl RunningApp {
    /// The lease is gone: stop intake and delivery at once, without draining (another
    /// replica delivers from the shared cursors now; fencing refuses any late write).
    pub async fn abort(self) {
        self.intake_cancel.cancel();
        self.reactor_cancel.cancel();
        self.cancel.cancel();
        self.reactor_task.abort();
        self.tracker.close();
        if tokio::time::timeout(Duration::from_secs(5), self.tracker.wait())
            .await
            .is_err()
        {
            tracing::warn!("some tasks did not stop in time after the lease was lost");
        }
        if let Some(sim) = &self.simulator {
            sim.shutdown();
        }
        tracing::info!("stopped after losing the lease; standing by");
    }
}
