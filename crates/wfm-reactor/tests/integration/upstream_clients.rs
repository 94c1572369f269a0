//! Several OAuth clients (`[[genesys.clients]]`) against the simulator: the topic set is
//! spread over the clients' own channels, and one client's revoked credentials move its
//! topics to the others and back, leaving the others' channels alone.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;
use wfm_reactor::config::{OAuthClient, Secret};
use wfm_testkit::prometheus::value;
use wfm_testkit::{DaemonBuilder, SimBuilder, eventually};

const CLIENTS: [(&str, &str); 2] = [("client-b", "secret-b"), ("client-c", "secret-c")];

/// Subscribed topics by OAuth client, and every (client, topic) pair as listed.
fn by_client(sim: &genesys_sim::SimHandle) -> (BTreeMap<String, BTreeSet<String>>, usize) {
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut listed = 0;
    for c in sim.channels() {
        listed += c.topics.len();
        out.entry(c.client.unwrap_or_default())
            .or_default()
            .extend(c.topics);
    }
    (out, listed)
}

fn presence_topics(agents: &[String]) -> BTreeSet<String> {
    agents.iter().map(|a| format!("v2.users.{a}.presence")).collect()
}

/// A daemon on three OAuth clients of one simulator, 10 topics per channel.
async fn three_clients() -> wfm_testkit::Daemon {
    let sim = SimBuilder::reactor(1, 60)
        .tweak(|c| {
            c.extra_clients = CLIENTS
                .iter()
                .map(|(i, s)| (i.to_string(), s.to_string()))
                .collect();
        })
        .start()
        .await;
    let (id, secret) = (sim.client_id(), sim.client_secret());
    DaemonBuilder::ops()
        .watch_all()
        .tweak(move |c| {
            c.notifications.max_topics_per_channel = 10;
            c.notifications.backoff_min = Duration::from_millis(100);
            c.notifications.backoff_max = Duration::from_millis(500);
            c.genesys.client_id.clear();
            c.genesys.client_secret = Secret::default();
            c.genesys.clients = std::iter::once((id.as_str(), secret.as_str()))
                .chain(CLIENTS)
                .map(|(i, s)| OAuthClient {
                    client_id: i.to_string(),
                    client_secret: Secret::new(s),
                })
                .collect();
        })
        .start(sim)
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rest_calls_spread_over_clients_and_a_429_pauses_only_one() {
    let d = three_clients().await;
    d.wait_ready(Duration::from_secs(15)).await;
    let before = d.sim.request_log().len();
    // A long Retry-After: a global pause would hold every query back for a minute.
    d.sim.fail_next("/weeks/recent/schedules", 1, 429, Some(120));
    let resync = d
        .http
        .post(format!("{}/v1/resync", d.admin))
        .send()
        .await
        .unwrap();
    assert!(resync.status().is_success(), "{}", resync.status());
    eventually!(
        within = Duration::from_secs(30),
        {
            let log = d.sim.request_log();
            let q: Vec<_> = log[before..]
                .iter()
                .filter(|r| r.path.ends_with("/weeks/recent/schedules"))
                .collect();
            let limited = q.iter().position(|r| r.status == 429);
            limited.is_some_and(|i| q[i + 1..].iter().any(|r| r.status == 200))
        },
        "schedule reads went on after one client's 429 (Retry-After 120 s)"
    );
    let (_, body) = d.readyz().await;
    let paused = body["clients"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["budget_paused_secs"].as_u64().unwrap_or(0) > 0)
        .count();
    assert_eq!(paused, 1, "exactly the limited client's budget is paused: {body}");
    let log = d.sim.request_log();
    let tokens: BTreeSet<_> = wfm_testkit::requests::budgeted(&log)
        .iter()
        .filter_map(|r| r.token.clone())
        .collect();
    assert!(tokens.len() >= 2, "REST calls used one token only: not spread");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn topics_spread_over_clients_and_a_revoked_client_fails_alone() {
    let d = three_clients().await;
    let wanted = presence_topics(&d.agents());
    eventually!(
        {
            let (clients, _) = by_client(&d.sim);
            clients.len() == 3 && wanted.iter().all(|t| clients.values().any(|s| s.contains(t)))
        },
        "every client subscribed with every presence topic somewhere: {:?}",
        by_client(&d.sim).0.keys().collect::<Vec<_>>()
    );
    let (clients, listed) = by_client(&d.sim);
    let union: usize = clients.values().map(BTreeSet::len).sum();
    assert_eq!(union, listed, "no topic on two channels");
    for (client, topics) in &clients {
        assert!(topics.len() >= 5, "{client} got only {} topics", topics.len());
    }
    let (_, body) = d.readyz().await;
    let reported = body["clients"].as_array().expect("clients in /readyz");
    assert_eq!(reported.len(), 3, "{body}");
    assert!(!body.to_string().contains("secret-b"), "no secret in /readyz");

    let kept_c = clients["client-c"].clone();
    d.sim.revoke_client("client-b");
    eventually!(
        within = Duration::from_secs(20),
        {
            let (clients, listed) = by_client(&d.sim);
            let union: usize = clients.values().map(BTreeSet::len).sum();
            !clients.contains_key("client-b")
                && union == listed
                && wanted.iter().all(|t| clients.values().any(|s| s.contains(t)))
        },
        "client-b's topics moved to the healthy clients: {:?}",
        by_client(&d.sim)
            .0
            .iter()
            .map(|(k, v)| (k.clone(), v.len()))
            .collect::<Vec<_>>()
    );
    let (clients, _) = by_client(&d.sim);
    assert!(
        kept_c.is_subset(&clients["client-c"]),
        "client-c kept its own topics"
    );
    let (_, body) = d.readyz().await;
    let failing = body["clients"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["client"] == "client-b")
        .cloned()
        .unwrap();
    assert_eq!(failing["token"], "refused", "{body}");
    let m = d.metrics().await;
    let b = [("client", "client-b")];
    assert_eq!(value(&m, "wfm_reactor_client_token_held", &b), 0.0);
    assert_eq!(value(&m, "wfm_reactor_client_topics", &b), 0.0);
    assert!(value(&m, "wfm_reactor_client_topics", &[("client", "client-c")]) > 0.0);
    assert!(
        value(
            &m,
            "wfm_reactor_token_requests_total",
            &[("client", "client-b"), ("outcome", "error")]
        ) >= 1.0
    );

    d.sim.restore_client("client-b");
    eventually!(
        within = Duration::from_secs(20),
        by_client(&d.sim).0.get("client-b").is_some_and(|t| t.len() >= 5),
        "client-b got its topics back"
    );
}

#[test]
fn both_the_single_pair_and_clients_is_a_config_error() {
    let text = r#"
[genesys]
region = "mypurecloud.com"
client_id = "a"
client_secret = "b"

[[genesys.clients]]
client_id = "c"
client_secret = "d"

[[sinks]]
type = "stdout"
"#;
    let config = wfm_reactor::config::Config::from_toml_str(text).expect("parses");
    let problems = config.validate();
    assert!(
        problems.iter().any(|p| p.to_string().contains("genesys.clients")),
        "{problems:?}"
    );
}

#[test]
fn duplicate_or_incomplete_clients_are_config_errors() {
    let text = r#"
[genesys]
region = "mypurecloud.com"

[[genesys.clients]]
client_id = "c"
client_secret = "d"

[[genesys.clients]]
client_id = "c"

[[sinks]]
type = "stdout"
"#;
    let config = wfm_reactor::config::Config::from_toml_str(text).expect("parses");
    let shown: Vec<String> = config.validate().iter().map(|p| p.to_string()).collect();
    assert!(
        shown
            .iter()
            .any(|p| p.contains("genesys.clients[1].client_secret")),
        "{shown:?}"
    );
    assert!(shown.iter().any(|p| p.contains("listed twice")), "{shown:?}");
    assert_eq!(config.genesys.oauth_clients().len(), 2);
}
