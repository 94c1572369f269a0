//! Semantic checks run after parsing: each problem names its key, all are reported at once.

use super::problem::Problem;
use super::{Config, SinkConfig};
use base64::Engine;

struct Problems(Vec<Problem>);

impl Problems {
    fn check(&mut self, ok: bool, key: impl Into<String>, message: impl Into<String>) {
        if !ok {
            self.0.push(Problem {
                key: key.into(),
                message: message.into(),
            });
        }
    }
}

fn is_http_url(s: &str) -> bool {
    reqwest::Url::parse(s)
        .map(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
        .unwrap_or(false)
}

/// Decodes a Standard Webhooks secret (`whsec_` prefix optional) into key bytes.
pub fn webhook_key(secret: &str) -> Option<Vec<u8>> {
    let b64 = secret.strip_prefix("whsec_").unwrap_or(secret);
    base64::engine::general_purpose::STANDARD
        .decode(b64)
        .ok()
        .filter(|k| !k.is_empty())
}

/// Every problem of `c`, in file order (section by section).
pub(super) fn validate(c: &Config) -> Vec<Problem> {
    let mut p = Problems(Vec::new());
    genesys(&mut p, c);
    watch(&mut p, c);
    debounce(&mut p, c);
    fetch(&mut p, c);
    runtime(&mut p, c);
    notifications(&mut p, c);
    simulator(&mut p, c);
    p.0.extend(super::adherence::problems(&c.adherence));
    sinks(&mut p, c);
    p.0
}

/// `[genesys]`: where and as whom to connect.
fn genesys(p: &mut Problems, c: &Config) {
    let g = &c.genesys;
    p.check(
        !g.region.trim().is_empty(),
        "genesys.region",
        "must be \"simulator\" or a region domain such as \"mypurecloud.com\"",
    );
    p.check(
        !g.region.contains("://") && !g.region.contains('/'),
        "genesys.region",
        "is a domain (\"mypurecloud.com\"), not a URL; use genesys.api_url for explicit URLs",
    );
    oauth_clients(p, c);
    for (key, url) in [
        ("genesys.api_url", &g.api_url),
        ("genesys.login_url", &g.login_url),
    ] {
        if let Some(u) = url {
            let shown = crate::redact::url(u);
            p.check(is_http_url(u), key, format!("{shown:?} is not an http(s) URL"));
        }
    }
    p.check(
        g.api_url.is_some() == g.login_url.is_some() || g.region != super::SIMULATOR_REGION,
        "genesys.login_url",
        "set api_url and login_url together when region = \"simulator\"",
    );
}

/// The OAuth clients: the single pair or `[[genesys.clients]]`, never both.
fn oauth_clients(p: &mut Problems, c: &Config) {
    let g = &c.genesys;
    let pair_given = !g.client_id.trim().is_empty() || !g.client_secret.is_empty();
    p.check(
        !pair_given || g.clients.is_empty(),
        "genesys.clients",
        "give either genesys.client_id/client_secret or [[genesys.clients]] tables, not both",
    );
    if g.is_simulator() {
        return;
    }
    if g.clients.is_empty() {
        p.check(
            !g.client_id.trim().is_empty(),
            "genesys.client_id",
            "required when not running against the simulator (set GENESYS_CLIENT_ID)",
        );
        p.check(
            !g.client_secret.is_empty(),
            "genesys.client_secret",
            "required when not running against the simulator (set GENESYS_CLIENT_SECRET)",
        );
    }
    let mut seen = std::collections::BTreeSet::new();
    for (i, client) in g.clients.iter().enumerate() {
        p.check(
            !client.client_id.trim().is_empty(),
            format!("genesys.clients[{i}].client_id"),
            "required",
        );
        p.check(
            !client.client_secret.is_empty(),
            format!("genesys.clients[{i}].client_secret"),
            "required",
        );
        p.check(
            seen.insert(client.client_id.as_str()),
            format!("genesys.clients[{i}].client_id"),
            "listed twice: each client must be a different OAuth client",
        );
    }
}

/// `[watch]`: which business units and users.
fn watch(p: &mut Problems, c: &Config) {
    let w = &c.watch;
    p.check(
        !w.business_units.is_empty(),
        "watch.business_units",
        "list at least one business unit id, or [\"*\"]",
    );
    p.check(
        !(w.business_units.len() > 1 && w.business_units.iter().any(|b| b == "*")),
        "watch.business_units",
        "\"*\" already means every business unit; do not combine it with ids",
    );
    for (i, b) in w.business_units.iter().enumerate() {
        p.check(
            !b.trim().is_empty(),
            format!("watch.business_units[{i}]"),
            "empty id",
        );
    }
    for (i, u) in w.users.iter().enumerate() {
        p.check(
            !u.trim().is_empty() && !u.contains('.'),
            format!("watch.users[{i}]"),
            format!("{u:?} is not a user id"),
        );
    }
    p.check(
        !w.membership_refresh.is_zero(),
        "watch.membership_refresh",
        "must be greater than 0",
    );
}

/// `[debounce]`: the coalescing windows.
fn debounce(p: &mut Problems, c: &Config) {
    let d = &c.debounce;
    p.check(!d.quiet.is_zero(), "debounce.quiet", "must be greater than 0");
    p.check(
        d.max_wait >= d.quiet,
        "debounce.max_wait",
        "must be at least debounce.quiet",
    );
}

/// `[fetch]`: the REST budget and the schedule window.
fn fetch(p: &mut Problems, c: &Config) {
    let f = &c.fetch;
    p.check(
        (1..=64).contains(&f.concurrency),
        "fetch.concurrency",
        "must be between 1 and 64",
    );
    p.check(
        (1..=100_000).contains(&f.requests_per_minute),
        "fetch.requests_per_minute",
        "must be between 1 and 100000 (the platform default is 300 per token)",
    );
    if let Some(burst) = f.burst {
        p.check(
            burst >= 1 && burst <= f.requests_per_minute,
            "fetch.burst",
            "must be between 1 and fetch.requests_per_minute",
        );
    }
    p.check(
        f.weeks_back <= 26,
        "fetch.weeks_back",
        "must be at most 26 (the schedules list covers ±26 weeks)",
    );
    p.check(
        f.weeks_ahead <= 26,
        "fetch.weeks_ahead",
        "must be at most 26 (the schedules list covers ±26 weeks)",
    );
    p.check(
        !f.request_timeout.is_zero(),
        "fetch.request_timeout",
        "must be greater than 0",
    );
    p.check(
        f.max_download_bytes >= 1024,
        "fetch.max_download_bytes",
        "must be at least 1024",
    );
}

/// `[reconcile]`, `[state]`, `[admin]`: intervals, the store file, the admin address.
fn runtime(p: &mut Problems, c: &Config) {
    p.check(
        !c.reconcile.interval.is_zero(),
        "reconcile.interval",
        "must be greater than 0",
    );
    p.check(
        c.reconcile.resync_cooldown <= std::time::Duration::from_secs(24 * 3600),
        "reconcile.resync_cooldown",
        "must be at most 24h (\"0s\" lets every POST /v1/resync through)",
    );
    p.check(
        !c.state.path.as_os_str().is_empty(),
        "state.path",
        "must name a file",
    );
    p.check(
        !c.state.prune_interval.is_zero(),
        "state.prune_interval",
        "must be greater than 0",
    );
    p.check(
        c.admin.listen.is_empty() || c.admin.listen.parse::<std::net::SocketAddr>().is_ok(),
        "admin.listen",
        format!(
            "{:?} is not an address like \"127.0.0.1:9464\" (or \"\" to disable)",
            c.admin.listen
        ),
    );
    admin(p, c);
}

/// `[admin]` access: a server reachable from other hosts must require a token, since
/// `/v1/state` and `/v1/events` show every agent's presence and activity.
fn admin(p: &mut Problems, c: &Config) {
    let a = &c.admin;
    let exposed = a
        .listen
        .parse::<std::net::SocketAddr>()
        .is_ok_and(|addr| !addr.ip().is_loopback());
    p.check(
        !exposed || !a.token.expose().trim().is_empty(),
        "admin.token",
        format!(
            "required when admin.listen ({:?}) is not a loopback address: set WFM_REACTOR_ADMIN_TOKEN \
             (token = \"${{WFM_REACTOR_ADMIN_TOKEN:-}}\"), or listen on 127.0.0.1",
            a.listen
        ),
    );
    p.check(
        a.max_sse_clients >= 1,
        "admin.max_sse_clients",
        "must be at least 1",
    );
}

/// Things that work but are probably a mistake (`check` prints them; they fail nothing).
pub(super) fn warnings(c: &Config) -> Vec<Problem> {
    let mut p = Problems(Vec::new());
    let g = &c.genesys;
    if g.region != super::SIMULATOR_REGION {
        for (key, url) in [
            ("genesys.login_url", &g.login_url),
            ("genesys.api_url", &g.api_url),
        ] {
            let plain = url
                .as_deref()
                .is_some_and(|u| reqwest::Url::parse(u).is_ok_and(|u| u.scheme() == "http"));
            p.check(
                !plain,
                key,
                "is plain http outside the simulator: the client secret and tokens would cross the network unencrypted; use https",
            );
        }
    }
    p.0
}

/// `[notifications]`: channel limits, heartbeats, backoff.
fn notifications(p: &mut Problems, c: &Config) {
    let n = &c.notifications;
    p.check(
        (1..=1000).contains(&n.max_topics_per_channel),
        "notifications.max_topics_per_channel",
        "must be between 1 and 1000 (the platform limit)",
    );
    p.check(
        (1..=20).contains(&n.max_channels),
        "notifications.max_channels",
        "must be between 1 and 20 (the platform limit per OAuth client)",
    );
    p.check(
        !n.heartbeat_timeout.is_zero(),
        "notifications.heartbeat_timeout",
        "must be greater than 0",
    );
    p.check(
        !n.pong_timeout.is_zero(),
        "notifications.pong_timeout",
        "must be greater than 0",
    );
    p.check(
        n.max_frame_bytes >= 1024,
        "notifications.max_frame_bytes",
        "must be at least 1024",
    );
    p.check(
        c.state.commit_linger <= std::time::Duration::from_millis(50),
        "state.commit_linger",
        "must be at most 50ms (it delays the commit of a busy stream's changes by up to this)",
    );
    p.check(
        c.state.delivery_linger <= std::time::Duration::from_millis(100),
        "state.delivery_linger",
        "must be at most 100ms (it delays a busy stream's delivery by up to this)",
    );
    p.check(
        !n.backoff_min.is_zero(),
        "notifications.backoff_min",
        "must be greater than 0",
    );
    p.check(
        n.backoff_max >= n.backoff_min,
        "notifications.backoff_max",
        "must be at least notifications.backoff_min",
    );
    p.check(
        n.expiry_margin < std::time::Duration::from_secs(23 * 3600),
        "notifications.expiry_margin",
        "must be under 23h (channels live 24h)",
    );
    p.check(
        n.rejected_retry >= std::time::Duration::from_secs(1),
        "notifications.rejected_retry",
        "must be at least 1s",
    );
}

/// `[simulator]`: the embedded org size.
fn simulator(p: &mut Problems, c: &Config) {
    p.check(
        c.simulator.business_units >= 1,
        "simulator.business_units",
        "must be at least 1",
    );
    p.check(c.simulator.agents >= 1, "simulator.agents", "must be at least 1");
}

/// `[[sinks]]`: each sink's settings and the names that key their cursors.
fn sinks(p: &mut Problems, c: &Config) {
    p.check(
        !c.sinks.is_empty(),
        "sinks",
        "configure at least one [[sinks]] entry (stdout, file, webhook or nats)",
    );
    for (i, s) in c.sinks.iter().enumerate() {
        match s {
            SinkConfig::Stdout { .. } => {}
            SinkConfig::Nats(n) => p.0.extend(n.problems(&format!("sinks[{i}]"))),
            SinkConfig::File { path, .. } => {
                p.check(
                    !path.as_os_str().is_empty(),
                    format!("sinks[{i}].path"),
                    "must name a file",
                );
            }
            SinkConfig::Webhook {
                url,
                secret,
                timeout,
                concurrency,
                ..
            } => {
                p.check(
                    (1..=64).contains(concurrency),
                    format!("sinks[{i}].concurrency"),
                    "must be between 1 and 64",
                );
                p.check(
                    is_http_url(url),
                    format!("sinks[{i}].url"),
                    format!("{:?} is not an http(s) URL", crate::redact::url(url)),
                );
                p.check(
                    secret.is_empty() || webhook_key(secret.expose()).is_some(),
                    format!("sinks[{i}].secret"),
                    "must be a Standard Webhooks secret: \"whsec_\" followed by base64",
                );
                p.check(
                    !timeout.is_zero(),
                    format!("sinks[{i}].timeout"),
                    "must be greater than 0",
                );
            }
        }
    }
    p.0.extend(super::ha::problems(c));
    let names = c.sink_names();
    for (i, name) in names.iter().enumerate() {
        p.check(
            !name.trim().is_empty(),
            format!("sinks[{i}].name"),
            "must not be empty",
        );
        p.check(
            !names[..i].contains(name),
            format!("sinks[{i}].name"),
            format!("{name:?} is used by another sink; names key the delivery cursors"),
        );
    }
}
