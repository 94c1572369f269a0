//! The `wfm-reactor` binary: parse the command line, set up logging, dispatch.
#![forbid(unsafe_code)]

use clap::Parser;
use wfm_reactor::cli::{Cli, Command};
use wfm_reactor::commands;

/// mimalloc instead of glibc malloc: the ingest profile spent ~18 % of the daemon's CPU in
/// glibc malloc/free (see docs/performance.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let cli = Cli::parse();
    wfm_reactor::telemetry::init_tracing(cli.log_format);
    if let Some(Command::Check) = &cli.command {
        std::process::exit(commands::check::execute(&cli.config));
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(err) => {
            eprintln!("cannot start the tokio runtime: {err}");
            std::process::exit(wfm_reactor::cli::exit::FAILURE);
        }
    };
    let code = runtime.block_on(async move {
        match &cli.command {
            None | Some(Command::Run) => commands::run::execute(cli).await,
            Some(Command::Sim(_)) => commands::sim::execute(cli).await,
            Some(Command::Doctor) => commands::doctor::execute(cli).await,
            Some(Command::Tap(_)) => commands::tap::execute(cli).await,
            Some(Command::Dlq(_)) => commands::dlq::execute(cli).await,
            Some(Command::Check) => unreachable!("handled before the runtime starts"),
        }
    });
    std::process::exit(code);
}
