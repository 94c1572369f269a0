//! `doctor`: an online preflight against the configured org. It makes every REST call the
//! daemon will make (on the watched business units) and subscribes every topic it will
//! subscribe on a temporary channel (`ignoreErrors=true`, deleted afterwards), so a
//! missing permission is found before the daemon runs, named, and explained.
//!
//! It is a library function ([`run`]) so tests can run it against their own simulator.

mod render;
mod rest;
mod topics;

use crate::auth::TokenProvider;
use crate::config::Config;
use crate::wfm::{ClientSettings, Credentials, RateBudget, WfmClient, WfmError};
use serde::Serialize;
use std::collections::BTreeSet;

/// Where a missing permission is granted (the same for every permission).
pub const GRANT_HINT: &str = "Admin > Roles/Permissions > the role assigned to the OAuth client \
     (Admin > Integrations > OAuth > client > Roles)";

/// How one check ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// It worked; the text says what was seen.
    Pass,
    /// It failed.
    Fail,
    /// It could not be tried (an earlier check failed, or nothing to try it on).
    Skipped,
}

/// One row of the report.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    /// What was checked (`REST schedules.list (BU b1)`, `topic v2.users.{id}.presence`).
    pub name: String,
    /// Result.
    pub outcome: Outcome,
    /// A failure's permission(s), any one of which is enough (empty when not a permission problem).
    pub missing_permissions: Vec<String>,
    /// What was seen or what went wrong.
    pub detail: String,
    /// Whether a failure makes the daemon unable to do its job (exit 1).
    pub required: bool,
}

impl Check {
    /// A passed check.
    pub fn pass(name: impl Into<String>, detail: impl Into<String>) -> Self {
        Self::new(name, Outcome::Pass, detail)
    }

    /// A skipped check.
    pub fn skipped(name: impl Into<String>, detail: impl Into<String>) -> Self {
        Self::new(name, Outcome::Skipped, detail)
    }

    /// A failed check naming the permissions that would fix it.
    pub fn fail(name: impl Into<String>, detail: impl Into<String>, missing: Vec<String>) -> Self {
        Self {
            missing_permissions: missing,
            ..Self::new(name, Outcome::Fail, detail)
        }
    }

    /// A failed REST check, with the permission(s) a 403 named.
    pub(crate) fn from_wfm_error(name: impl Into<String>, err: &WfmError) -> Self {
        let missing = match err {
            WfmError::Forbidden { permission, .. } => split_permissions(permission),
            _ => Vec::new(),
        };
        Self::fail(name, err.to_string(), missing)
    }

    fn new(name: impl Into<String>, outcome: Outcome, detail: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            outcome,
            missing_permissions: Vec::new(),
            detail: detail.into(),
            required: true,
        }
    }

    /// Marks the check as advisory: a failure is reported but does not fail `doctor`.
    pub fn optional(mut self) -> Self {
        self.required = false;
        self
    }
}

/// `"a or b"` (as [`WfmError::Forbidden`] words it) → `["a", "b"]`.
fn split_permissions(text: &str) -> Vec<String> {
    text.split(" or ")
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_string)
        .collect()
}

/// Every check, in the order they ran.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DoctorReport {
    /// The rows.
    pub checks: Vec<Check>,
}

impl DoctorReport {
    /// True when no required check failed.
    pub fn ok(&self) -> bool {
        !self
            .checks
            .iter()
            .any(|c| c.required && c.outcome == Outcome::Fail)
    }

    /// The process exit code: 0 when [`DoctorReport::ok`], else 1.
    pub fn exit_code(&self) -> i32 {
        if self.ok() {
            crate::cli::exit::OK
        } else {
            crate::cli::exit::FAILURE
        }
    }

    /// Every permission named by a failed check (sorted, deduplicated).
    pub fn missing_permissions(&self) -> BTreeSet<String> {
        self.checks
            .iter()
            .filter(|c| c.outcome == Outcome::Fail)
            .flat_map(|c| c.missing_permissions.iter().cloned())
            .collect()
    }

    /// The human-readable table plus, for each failure, how to fix it.
    pub fn render(&self) -> String {
        render::render(self)
    }
}

/// One OAuth client's token: a row passing or failing; the provider when it passed.
async fn check_token(
    config: &Config,
    client: &crate::config::OAuthClient,
    http: &reqwest::Client,
    checks: &mut Vec<Check>,
) -> Option<TokenProvider> {
    let g = &config.genesys;
    let tokens = TokenProvider::new(
        g.login_base(),
        client.client_id.clone(),
        client.client_secret.clone(),
        http.clone(),
    );
    let name = format!("OAuth token (client credentials, client {})", client.client_id);
    match tokens.token().await {
        Ok(_) => {
            checks.push(Check::pass(
                name,
                format!("client {} at {}", client.client_id, g.login_base()),
            ));
            Some(tokens)
        }
        Err(err) => {
            checks.push(Check::fail(
                name,
                format!(
                    "{err}: check genesys.client_id / client_secret (or [[genesys.clients]]), the \
                     region, and that the OAuth client uses the Client Credentials grant"
                ),
                Vec::new(),
            ));
            None
        }
    }
}

/// Runs every check against the org `config` points at (`api_url`/`login_url` or region).
/// For `region = "simulator"` the caller starts the simulator first (as the command does
/// with [`crate::app::start_simulator`]). Never panics on a failing org: every problem
/// is a row.
pub async fn run(config: &Config) -> DoctorReport {
    let mut report = DoctorReport::default();
    let g = &config.genesys;
    let http = match reqwest::Client::builder()
        .timeout(config.fetch.request_timeout)
        .user_agent(concat!("wfm-reactor-doctor/", env!("CARGO_PKG_VERSION")))
        .build()
    {
        Ok(h) => h,
        Err(err) => {
            report
                .checks
                .push(Check::fail("HTTP client", err.to_string(), Vec::new()));
            return report;
        }
    };
    // Every client's token is checked; the REST and topic checks use the first that works.
    let mut working = None;
    for client in g.oauth_clients() {
        if let Some(t) = check_token(config, &client, &http, &mut report.checks).await {
            working.get_or_insert(t);
        }
    }
    let Some(tokens) = working else {
        return report;
    };
    let settings = ClientSettings {
        request_timeout: config.fetch.request_timeout,
        max_download_bytes: config.fetch.max_download_bytes,
        max_attempts: 2,
        ..ClientSettings::default()
    };
    let budget = RateBudget::from_config(&config.fetch);
    let wfm = match WfmClient::new(
        &g.api_base(),
        Credentials::Provider(tokens.clone()),
        budget,
        settings,
    ) {
        Ok(w) => w,
        Err(err) => {
            report
                .checks
                .push(Check::fail("REST client", err.to_string(), Vec::new()));
            return report;
        }
    };
    let membership = rest::check(config, &wfm, &mut report.checks).await;
    let topic_set = crate::reactor::topic_set(config, &membership);
    topics::check(
        config,
        &g.api_base(),
        tokens,
        http,
        &topic_set,
        &mut report.checks,
    )
    .await;
    for c in report.checks.iter().filter(|c| c.outcome == Outcome::Fail) {
        crate::telemetry::ops::doctor_check_failed(&c.name, &c.missing_permissions, &c.detail);
    }
    report
}
