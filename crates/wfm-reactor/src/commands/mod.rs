//! One file per subcommand; `main.rs` only parses and dispatches here.

pub mod check;
pub mod dlq;
pub mod doctor;
pub mod run;
pub mod sim;
pub mod tap;

use crate::cli::exit;

/// Loads and validates a config file, printing every problem; `Err(exit code)` on failure.
pub(crate) fn load_config(path: &std::path::Path) -> Result<crate::config::Config, i32> {
    let config = crate::config::Config::load(path).map_err(|e| {
        eprintln!("{}: {e}", path.display());
        exit::CONFIG
    })?;
    for w in config.warnings() {
        tracing::warn!(key = %w.key, "{}", w.message);
    }
    let problems = config.validate();
    if problems.is_empty() {
        return Ok(config);
    }
    eprintln!("{}: {} problem(s):", path.display(), problems.len());
    for p in &problems {
        eprintln!("  - {p}");
    }
    Err(exit::CONFIG)
}
