//! `wfm-reactor tap`: connect with the configured topic set and print raw notifications
//! as NDJSON on stdout (logs stay on stderr), for debugging a live org.
//!
//! Against a real org the topic set is what the configuration names directly: the BU
//! schedule topics of explicit `watch.business_units` ids plus presence of `watch.users`
//! (membership expansion of `"*"` and scheduled agents needs the WFM REST client). With
//! `region = "simulator"` the embedded simulator is started and its org is known, so
//! `"*"` and scheduled agents are expanded from it.

use crate::auth::TokenProvider;
use crate::cli::{TapArgs, exit};
use crate::config::Config;
use crate::notifications::ChannelManager;
use crate::notifications::session::RawFrame;
use crate::topics::{bu_schedule_topic, presence_topics};
use std::collections::BTreeSet;
use std::io::Write;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// Runs the command; returns the process exit code.
pub async fn execute(cli: crate::cli::Cli) -> i32 {
    let Some(crate::cli::Command::Tap(args)) = cli.command else {
        return exit::USAGE;
    };
    let config = match super::load_config(&args.config.config) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let mut config = config;
    let mut topics = tap_topics(&config);
    let _sim = if config.genesys.is_simulator() {
        match start_simulator(&mut config, &mut topics).await {
            Ok(sim) => Some(sim),
            Err(e) => {
                eprintln!("wfm-reactor tap: cannot start the embedded simulator: {e:#}");
                return exit::FAILURE;
            }
        }
    } else {
        None
    };
    if topics.is_empty() {
        eprintln!(
            "wfm-reactor tap: no topics: list business unit ids in watch.business_units or user ids in watch.users"
        );
        return exit::CONFIG;
    }
    eprintln!("wfm-reactor tap: subscribing {} topic(s)", topics.len());
    let cancel = CancellationToken::new();
    let signal_cancel = cancel.clone();
    tokio::spawn(async move {
        let _ = tokio::signal::ctrl_c().await;
        signal_cancel.cancel();
    });
    run(&config, &args, topics, cancel).await
}

/// Starts the embedded simulator (region `simulator`), points `config` at it, and adds
/// its business units (for `"*"`) and agents (for `scheduled-agents`) to `topics`.
async fn start_simulator(
    config: &mut Config,
    topics: &mut BTreeSet<String>,
) -> anyhow::Result<crate::sim::SimHandle> {
    let s = &config.simulator;
    let sim_config = crate::sim::SimConfig {
        business_units: s.business_units,
        agents: s.agents,
        seed: s.seed,
        activity: s.activity,
        ..crate::sim::SimConfig::default()
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let sim = crate::sim::start(sim_config, listener).await?;
    config.genesys.api_url = Some(sim.base_url());
    config.genesys.login_url = Some(sim.base_url());
    config.genesys.client_id = sim.client_id();
    config.genesys.client_secret = crate::config::Secret::new(sim.client_secret());
    let org = sim.org();
    let all_bus = config.watch.business_units.iter().any(|b| b == "*");
    let mut users = Vec::new();
    for bu in &org.business_units {
        if all_bus || config.watch.business_units.contains(&bu.id) {
            topics.insert(bu_schedule_topic(&bu.id));
            if config.watch.presence == crate::config::PresenceScope::ScheduledAgents {
                users.extend(
                    bu.management_units
                        .iter()
                        .flat_map(|m| m.agent_ids.iter().cloned()),
                );
            }
        }
    }
    topics.extend(presence_topics(&users, config.watch.routing_status));
    Ok(sim)
}

/// The topics `tap` subscribes for `config`.
pub fn tap_topics(config: &Config) -> BTreeSet<String> {
    let mut topics: BTreeSet<String> = config
        .watch
        .business_units
        .iter()
        .filter(|b| b.as_str() != "*")
        .map(|b| bu_schedule_topic(b))
        .collect();
    topics.extend(presence_topics(&config.watch.users, config.watch.routing_status));
    topics
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
pub fn glob_match(glob: &str, text: &str) -> bool {
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
