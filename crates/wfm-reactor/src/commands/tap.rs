//! `wfm-reactor tap`: connect with the configured topic set and print raw notifications
//! as NDJSON on stdout (logs stay on stderr), for debugging a live org.
//!
//! The topic set is the daemon's own (`[watch]` resolved over the WFM REST API: `"*"`
//! business units, scheduled agents, extra users, routing status), so what `tap` shows is
//! exactly what `run` would receive. `region = "simulator"` starts the embedded simulator.

use crate::auth::TokenProvider;
use crate::cli::{TapArgs, exit};
use crate::config::Config;
use crate::notifications::ChannelManager;
use crate::notifications::session::RawFrame;
use crate::wfm::{ClientSettings, Credentials, RateBudget, WfmClient};
use std::collections::BTreeSet;
use std::io::Write;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// Runs the command; returns the process exit code.
pub async fn execute(cli: crate::cli::Cli) -> i32 {
    let Some(crate::cli::Command::Tap(args)) = cli.command else {
        return exit::USAGE;
    };
    let mut config = match super::load_config(&cli.config.config) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let _sim = if config.genesys.is_simulator() {
        match crate::app::start_simulator(&mut config).await {
            Ok(sim) => Some(sim),
            Err(e) => {
                eprintln!("wfm-reactor tap: cannot start the embedded simulator: {e:#}");
                return exit::FAILURE;
            }
        }
    } else {
        None
    };
    let topics = match tap_topics(&config).await {
        Ok(t) => t,
        Err(e) => {
            eprintln!("wfm-reactor tap: cannot resolve the watched topics: {e:#}");
            return exit::FAILURE;
        }
    };
    if topics.is_empty() {
        eprintln!("wfm-reactor tap: no topics: [watch] resolves to no business units and no users");
        return exit::CONFIG;
    }
    eprintln!("wfm-reactor tap: subscribing {} topic(s)", topics.len());
    let cancel = CancellationToken::new();
    let signal_cancel = cancel.clone();
    tokio::spawn(async move {
        super::run::shutdown_signal().await;
        signal_cancel.cancel();
    });
    run(&config, &args, topics, cancel).await
}

/// The daemon's topic set for `config`, resolved over the WFM REST API.
pub async fn tap_topics(config: &Config) -> anyhow::Result<BTreeSet<String>> {
    let g = &config.genesys;
    let http = reqwest::Client::new();
    let tokens = TokenProvider::new(g.login_base(), g.client_id.clone(), g.client_secret.clone(), http);
    let budget = RateBudget::from_config(&config.fetch);
    let wfm = WfmClient::new(
        &g.api_base(),
        Credentials::Provider(tokens),
        budget,
        ClientSettings::default(),
    )?;
    let membership = crate::reactor::resolve_membership(config, &wfm).await?;
    Ok(crate::reactor::topic_set(config, &membership))
}

/// Subscribes and prints until `cancel`.
pub async fn run(
    config: &Config,
    args: &TapArgs,
    topics: BTreeSet<String>,
    cancel: CancellationToken,
) -> i32 {
    let http = reqwest::Client::new();
    let g = &config.genesys;
    let tokens = TokenProvider::new(
        g.login_base(),
        g.client_id.clone(),
        g.client_secret.clone(),
        http.clone(),
    );
    if let Err(e) = tokens.token().await {
        eprintln!("wfm-reactor tap: {e}");
        return exit::FAILURE;
    }
    let (events, mut events_rx) = mpsc::channel(1024);
    let (raw, mut raw_rx) = mpsc::channel::<RawFrame>(1024);
    let manager = ChannelManager::spawn_with_raw(
        g.api_base(),
        tokens,
        http,
        config.notifications.clone(),
        events,
        Some(raw),
        cancel.clone(),
    );
    if let Err(e) = manager.set_topics(topics).await {
        eprintln!("wfm-reactor tap: {e}");
        manager.shutdown().await;
        return exit::CONFIG;
    }
    let mut stdout = std::io::stdout().lock();
    loop {
        tokio::select! {
            _ = cancel.cancelled() => break,
            // Typed events are not printed; draining keeps the sessions from blocking.
            Some(_) = events_rx.recv() => {}
            frame = raw_rx.recv() => {
                let Some(frame) = frame else { break };
                if let Some(line) = render(&frame, args)
                    && writeln!(stdout, "{line}").and_then(|_| stdout.flush()).is_err()
                {
                    break;
                }
            }
        }
    }
    manager.shutdown().await;
    exit::OK
}

/// One NDJSON line for `frame`, or None when filtered out.
pub fn render(frame: &RawFrame, args: &TapArgs) -> Option<String> {
    if frame.heartbeat && !args.heartbeats {
        return None;
    }
    let value: serde_json::Value = serde_json::from_str(&frame.text).ok()?;
    let topic = value.get("topicName").and_then(|t| t.as_str()).unwrap_or("");
    if let Some(glob) = &args.topic
        && !glob_match(glob, topic)
    {
        return None;
    }
    // As received when it is already one line; re-serialised only to make it one line.
    if frame.text.contains('\n') {
        serde_json::to_string(&value).ok()
    } else {
        Some(frame.text.clone())
    }
}

/// `*` matches any run of characters; everything else literally.
pub(crate) fn glob_match(glob: &str, text: &str) -> bool {
    let parts: Vec<&str> = glob.split('*').collect();
    if parts.len() == 1 {
        return glob == text;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first)
        || !text[first.len()..].ends_with(last)
        || text.len() < first.len() + last.len()
    {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for mid in &parts[1..parts.len() - 1] {
        match rest.find(mid) {
            Some(i) => rest = &rest[i + mid.len()..],
            None => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_match("v2.users.*.presence", "v2.users.abc.presence"));
        assert!(!glob_match("v2.users.*.presence", "v2.users.abc.routingStatus"));
        assert!(glob_match("*", "anything"));
        assert!(glob_match(
            "v2.*.schedules*",
            "v2.workforcemanagement.businessunits.b.schedules"
        ));
        assert!(!glob_match("a*a", "a"));
        assert!(glob_match("exact", "exact") && !glob_match("exact", "exactly"));
    }
}
