//! `wfm-reactor dlq`: list dead letters as NDJSON, or flag them for replay.
//!
//! Replay only flags rows in the store; the running daemon's sink task redelivers them
//! to the same sink (within a couple of seconds, or at the next start), so the command
//! never writes to a file or endpoint concurrently with the daemon.

use crate::cli::{Cli, Command, DlqAction, exit};
use crate::store::Store;

/// Runs the command; returns the process exit code.
pub async fn execute(cli: Cli) -> i32 {
    let Some(Command::Dlq(args)) = cli.command else {
        return exit::USAGE;
    };
    let config = match super::load_config(&cli.config.config) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let store = match Store::open_configured(&config.state).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            return exit::FAILURE;
        }
    };
    match args.action {
        DlqAction::List => match store.dead_letters().await {
            Ok(rows) => {
                for row in rows {
                    match serde_json::to_string(&row) {
                        Ok(line) => println!("{line}"),
                        Err(e) => eprintln!("dead letter {}: {e}", row.id),
                    }
                }
                exit::OK
            }
            Err(e) => {
                eprintln!("{e}");
                exit::FAILURE
            }
        },
        DlqAction::Replay { id } => {
            let asked = id.len();
            match store.request_replay(id).await {
                Ok(n) => {
                    eprintln!(
                        "{n} dead letter(s) flagged for replay; the running daemon redelivers them to their sink"
                    );
                    if asked > 0 && n < asked {
                        eprintln!("{} id(s) not found", asked - n);
                        return exit::FAILURE;
                    }
                    exit::OK
                }
                Err(e) => {
                    eprintln!("{e}");
                    exit::FAILURE
                }
            }
        }
    }
}
