//! `wfm-reactor sim`: runs the Genesys Cloud simulator on its own until Ctrl-C.

use crate::cli::exit;

/// Without the `embedded-sim` feature the simulator is not in this binary.
#[cfg(not(feature = "embedded-sim"))]
pub async fn execute(_cli: crate::cli::Cli) -> i32 {
    eprintln!("wfm-reactor sim: this binary was built without the `embedded-sim` feature");
    exit::USAGE
}

/// Runs the command; returns the process exit code.
#[cfg(feature = "embedded-sim")]
pub async fn execute(cli: crate::cli::Cli) -> i32 {
    use crate::cli::Command;
    let Some(Command::Sim(args)) = cli.command else {
        return exit::USAGE;
    };
    use genesys_sim::SimConfig;
    let config = SimConfig {
        business_units: args.business_units,
        agents: args.agents,
        seed: args.seed,
        activity: args.activity,
        rate_limit_per_minute: args.rate_limit_per_minute,
        download_threshold_agents: args.download_threshold_agents,
        download_bomb: args
            .download_bomb_unit
            .map(|management_unit| genesys_sim::DownloadBomb {
                management_unit,
                decoded_bytes: args.download_bomb_bytes,
                without_content_encoding: args.download_bomb_raw,
            }),
        extra_clients: (2..args.extra_clients + 2)
            .map(|k| (format!("sim-client-{k}"), format!("sim-secret-{k}")))
            .collect(),
        ..SimConfig::default()
    };
    let listener = match tokio::net::TcpListener::bind(args.listen).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("cannot listen on {}: {e}", args.listen);
            return exit::FAILURE;
        }
    };
    let handle = match genesys_sim::start(config, listener).await {
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
