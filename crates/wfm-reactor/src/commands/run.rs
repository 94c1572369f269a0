//! `wfm-reactor run` (the default): the daemon until SIGINT/SIGTERM; a second signal exits at once.

use crate::app::{self, Listeners};
use crate::cli::{Cli, exit};

/// Runs the daemon; returns the process exit code.
pub async fn execute(cli: Cli) -> i32 {
    // The recorder first (contract: every metric from the first scrape), so nothing the
    // start-up records is lost.
    crate::telemetry::prometheus::handle();
    let args = cli.config.clone();
    let config = match super::load_config(&args.config) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let admin = if config.admin.listen.is_empty() {
        None
    } else {
        match tokio::net::TcpListener::bind(&config.admin.listen).await {
            Ok(l) => Some(l),
            Err(err) => {
                tracing::error!(listen = %config.admin.listen, error = %err, "cannot bind the admin listener");
                return exit::FAILURE;
            }
        }
    };
    if config.ha.enabled {
        return match app::run_replica(config, admin, shutdown_signal()).await {
            Ok(()) => exit::OK,
            Err(err) => {
                tracing::error!(error = %format!("{err:#}"), "replica stopped");
                exit::FAILURE
            }
        };
    }
    let running = tokio::select! {
        r = app::start(config, Listeners { admin }) => r,
        _ = shutdown_signal() => {
            tracing::info!("signal during start-up; exiting");
            return exit::OK;
        }
    };
    let running = match running {
        Ok(r) => r,
        Err(err) => {
            tracing::error!(error = %format!("{err:#}"), "cannot start");
            return exit::FAILURE;
        }
    };
    shutdown_signal().await;
    tracing::info!("signal received: shutting down gracefully (send it again to exit at once)");
    tokio::select! {
        _ = running.shutdown() => exit::OK,
        _ = shutdown_signal() => {
            tracing::warn!("second signal: exiting immediately");
            exit::FAILURE
        }
    }
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(err) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %err, "cannot listen for SIGINT");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(err) => {
                tracing::error!(error = %err, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}
