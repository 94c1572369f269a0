//! `wfm-reactor dlq`: list and replay against the store named by the config.

use clap::Parser;
use wfm_reactor::cli::{Cli, exit};
use wfm_reactor::store::{NewDeadLetter, Store};

#[tokio::test]
async fn replay_flags_rows_and_unknown_ids_fail() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("state/s.db");
    let config = dir.path().join("config.toml");
    let toml = format!(
        "[genesys]\nregion = \"simulator\"\n[state]\npath = {:?}\n[[sinks]]\ntype = \"stdout\"\n",
        db.display().to_string()
    );
    std::fs::write(&config, toml).unwrap();
    {
        let store = Store::open(&db).unwrap();
        store.sync_cursors(vec!["stdout".into()]).await.unwrap();
        wfm_testkit::delivery::commit_presence(&store, 0, 1).await;
        let event = store.read_outbox(0, 1).await.unwrap()[0].json.to_string();
        let dead = NewDeadLetter {
            seq: 1,
            status: Some(400),
            error: "HTTP 400: no".into(),
            event,
        };
        store.ack("stdout", 1, vec![dead]).await.unwrap();
    }
    let run = |args: &[&str]| {
        let mut argv = vec!["wfm-reactor", "dlq"];
        argv.extend_from_slice(args);
        wfm_reactor::commands::dlq::execute(Cli::parse_from(argv))
    };
    let cfg = config.to_str().unwrap();
    assert_eq!(run(&["--config", cfg, "list"]).await, exit::OK);
    assert_eq!(
        run(&["--config", cfg, "replay", "--id", "999"]).await,
        exit::FAILURE
    );
    assert_eq!(run(&["--config", cfg, "replay"]).await, exit::OK);
    let store = Store::open(&db).unwrap();
    let rows = store.dead_letters().await.unwrap();
    assert_eq!(rows.len(), 1);
    assert!(rows[0].replay_pending, "flagged for the daemon to redeliver");
    assert_eq!(store.pending_replays("stdout", 10).await.unwrap().len(), 1);
}
