//! Logging and metrics set-up, once per process, and the per-subsystem event functions.
//!
//! Each notable happening is one function in a submodule here that logs one structured
//! line and increments one metric, so names stay consistent and greppable.

pub mod delivery;
mod known;
pub mod lease;
pub mod ops;
pub mod prometheus;
pub mod reactor;
pub mod upstream;

pub use known::expose_known;

use crate::cli::LogFormat;
use std::io::IsTerminal;
use tracing_subscriber::EnvFilter;

/// Installs the global tracing subscriber: pretty on a TTY, JSON otherwise when asked.
/// The filter comes from `RUST_LOG` (default `info`). Logs go to stderr so that stdout
/// stays clean NDJSON for the stdout sink and `tap`.
pub fn init_tracing(format: Option<LogFormat>) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let result = match format.unwrap_or(LogFormat::Pretty) {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .try_init(),
        LogFormat::Pretty => builder.with_ansi(std::io::stderr().is_terminal()).try_init(),
    };
    if let Err(err) = result {
        eprintln!("tracing already initialised: {err}");
    }
}

pub mod rest;
