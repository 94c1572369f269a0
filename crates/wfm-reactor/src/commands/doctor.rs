//! `wfm-reactor doctor`: the online preflight (see [`crate::doctor`]). With
//! `region = "simulator"` it starts the embedded simulator first, like `run` does.

use crate::cli::{Cli, exit};

/// Runs the command; returns the process exit code (0 all required checks pass, 1 not).
pub async fn execute(cli: Cli) -> i32 {
    let args = cli.config.clone();
    let mut config = match super::load_config(&args.config) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let sim = if config.genesys.is_simulator() {
        match crate::app::start_simulator(&mut config).await {
            Ok(s) => Some(s),
            Err(err) => {
                eprintln!("cannot start the embedded simulator: {err:#}");
                return exit::FAILURE;
            }
        }
    } else {
        None
    };
    println!("wfm-reactor doctor: {}", config.genesys.api_base());
    let report = crate::doctor::run(&config).await;
    print!("{}", report.render());
    if let Some(sim) = sim {
        sim.shutdown();
    }
    report.exit_code()
}
