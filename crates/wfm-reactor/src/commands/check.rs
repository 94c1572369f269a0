//! `wfm-reactor check`: offline validation, prints the effective settings with secrets masked.

use crate::cli::{ConfigArg, exit};

/// Prints the effective configuration and every problem; 0 when valid, 78 otherwise.
pub fn execute(args: &ConfigArg) -> i32 {
    let config = match crate::config::Config::load(&args.config) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{}: {e}", args.config.display());
            return exit::CONFIG;
        }
    };
    println!(
        "# effective configuration of {} (secrets masked)",
        args.config.display()
    );
    println!("{}", config.to_masked_toml());
    for w in config.warnings() {
        eprintln!("{}: warning: {w}", args.config.display());
    }
    let problems = config.validate();
    if problems.is_empty() {
        eprintln!("{}: ok", args.config.display());
        return exit::OK;
    }
    eprintln!("{}: {} problem(s):", args.config.display(), problems.len());
    for p in &problems {
        eprintln!("  - {p}");
    }
    exit::CONFIG
}
