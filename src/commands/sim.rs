//! `wfm-reactor sim`: runs the Genesys Cloud simulator on its own until Ctrl-C.

use crate::cli::{Command, exit};
use crate::sim::{self, SimConfig};

/// Runs the command; returns the process exit code.
pub async fn execute(cli: crate::cli::Cli) -> i32 {
    let Some(Command::Sim(args)) = cli.command else {
        return exit::USAGE;
    };
    let config = SimConfig {
        business_units: args.business_units,
        agents: args.agents,
        seed: args.seed,
        activity: args.activity,
        rate_limit_per_minute: args.rate_limit_per_minute,
        download_threshold_agents: args.download_threshold_agents,
        ..SimConfig::default()
    };
    let listener = match tokio::net::TcpListener::bind(args.listen).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("cannot listen on {}: {e}", args.listen);
            return exit::FAILURE;
        }
    };
    let handle = match sim::start(config, listener).await {
        Ok(h) => h,
        Err(e) => {
            eprintln!("cannot start the simulator: {e:#}");
            return exit::FAILURE;
        }
    };
    println!("base_url = {}", handle.base_url());
    println!("client_id = {}", handle.client_id());
    println!("client_secret = {}", handle.client_secret());
    if let Err(e) = tokio::signal::ctrl_c().await {
        eprintln!("cannot wait for Ctrl-C: {e}");
    }
    handle.shutdown();
    exit::OK
}
