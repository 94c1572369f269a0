//! `wfm-reactor tap`.

/// Runs the command; returns the process exit code.
pub async fn execute(_args: crate::cli::Cli) -> i32 {
    super::not_yet_available("tap")
}
