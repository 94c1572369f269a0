//! The command line (clap derive), exactly as the contract's table, plus `dlq`.
//! `--config` is one global flag (before or after the subcommand), so every command
//! reads the same `Cli::config`.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::net::SocketAddr;
use std::path::PathBuf;

/// Exit codes of the contract.
pub mod exit {
    /// Success.
    pub const OK: i32 = 0;
    /// Runtime failure.
    pub const FAILURE: i32 = 1;
    /// Usage error (also: a command not available yet).
    pub const USAGE: i32 = 2;
    /// Bad configuration (EX_CONFIG).
    pub const CONFIG: i32 = 78;
}

/// Genesys Cloud WFM schedule and presence change reactor.
#[derive(Debug, Parser)]
#[command(name = "wfm-reactor", version, about)]
pub struct Cli {
    /// Log format; pretty on a terminal by default.
    #[arg(long, global = true, env = "WFM_REACTOR_LOG_FORMAT", value_enum)]
    pub log_format: Option<LogFormat>,
    /// `--config PATH`, global (contract, second tranche): `wfm-reactor --config PATH` is
    /// `wfm-reactor run --config PATH`, and it is still accepted after any subcommand.
    #[command(flatten)]
    pub config: ConfigArg,
    /// What to do; `run` when omitted.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Pretty,
    /// One JSON object per line.
    Json,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the daemon (the default).
    Run,
    /// Run the Genesys Cloud simulator on its own.
    Sim(SimArgs),
    /// Validate the configuration offline and print the effective settings.
    Check,
    /// Online preflight against the configured org: token, REST routes, topics.
    Doctor,
    /// Connect and print raw notifications as NDJSON.
    Tap(TapArgs),
    /// Inspect and replay dead-lettered events.
    Dlq(DlqArgs),
}

/// `--config PATH`
#[derive(Debug, Clone, Args)]
pub struct ConfigArg {
    /// Configuration file.
    #[arg(
        long,
        short = 'c',
        global = true,
        default_value = "config.toml",
        env = "WFM_REACTOR_CONFIG"
    )]
    pub config: PathBuf,
}

impl Default for ConfigArg {
    fn default() -> Self {
        Self {
            config: PathBuf::from("config.toml"),
        }
    }
}

/// `sim` options.
#[derive(Debug, Clone, Args)]
pub struct SimArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8089")]
    pub listen: SocketAddr,
    /// Generated business units.
    #[arg(long, default_value_t = 2)]
    pub business_units: usize,
    /// Generated agents.
    #[arg(long, default_value_t = 200)]
    pub agents: usize,
    /// Generator seed.
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// Produce presence changes and schedule publishes in bursts.
    #[arg(long)]
    pub activity: bool,
    /// Requests per minute per token before 429 (benchmarks raise it).
    #[arg(long, default_value_t = 300)]
    pub rate_limit_per_minute: u32,
    /// Schedule query results with more agents than this are answered by `downloadUrl`.
    #[arg(long, default_value_t = 100)]
    pub download_threshold_agents: usize,
    /// Hostile mode for measurements: this management unit's agent schedules are a
    /// `downloadUrl` gzip bomb inflating to `--download-bomb-bytes`.
    #[arg(long)]
    pub download_bomb_unit: Option<String>,
    /// Decompressed size of the bomb.
    #[arg(long, default_value_t = 1 << 30)]
    pub download_bomb_bytes: u64,
    /// Serve the bomb without `Content-Encoding: gzip` (raw gzip bytes).
    #[arg(long)]
    pub download_bomb_raw: bool,
    /// Accept this many more OAuth clients, `sim-client-2`/`sim-secret-2` onwards, each
    /// with its own channels and rate limit (for `[[genesys.clients]]`).
    #[arg(long, default_value_t = 0)]
    pub extra_clients: usize,
}

/// `tap` options.
#[derive(Debug, Clone, Args)]
pub struct TapArgs {
    /// Only print notifications whose topic matches this glob (`*` wildcard).
    #[arg(long)]
    pub topic: Option<String>,
    /// Also print heartbeats.
    #[arg(long)]
    pub heartbeats: bool,
}

/// `dlq` options.
#[derive(Debug, Clone, Args)]
pub struct DlqArgs {
    /// list or replay.
    #[command(subcommand)]
    pub action: DlqAction,
}

/// What to do with dead letters.
#[derive(Debug, Clone, Subcommand)]
pub enum DlqAction {
    /// Print dead-lettered events as NDJSON.
    List,
    /// Re-queue dead letters for delivery (all, or only `--id`).
    Replay {
        /// Dead-letter ids to replay; all when omitted.
        #[arg(long)]
        id: Vec<i64>,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config_of(args: &[&str]) -> (PathBuf, bool) {
        let cli = Cli::try_parse_from(args).expect("parses");
        let is_run = matches!(cli.command, None | Some(Command::Run));
        (cli.config.config, is_run)
    }

    #[test]
    fn config_is_global_before_and_after_the_subcommand() {
        let x = PathBuf::from("x.toml");
        assert_eq!(
            config_of(&["wfm-reactor", "--config", "x.toml"]),
            (x.clone(), true)
        );
        assert_eq!(
            config_of(&["wfm-reactor", "run", "--config", "x.toml"]),
            (x.clone(), true)
        );
        assert_eq!(
            config_of(&["wfm-reactor", "--config", "x.toml", "run"]),
            (x.clone(), true)
        );
        assert_eq!(config_of(&["wfm-reactor", "check", "-c", "x.toml"]).0, x);
        assert_eq!(
            config_of(&["wfm-reactor", "dlq", "--config", "x.toml", "list"]).0,
            x
        );
        assert_eq!(config_of(&["wfm-reactor", "tap", "--config", "x.toml"]).0, x);
    }
}
