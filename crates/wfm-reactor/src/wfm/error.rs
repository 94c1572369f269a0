//! Why a WFM REST call failed, in the shape callers branch on.

use crate::auth::AuthError;
use crate::genesys::error::ErrorBody;
use std::time::Duration;

/// A failed REST call (after the client's own retries).
#[derive(Debug, thiserror::Error)]
pub enum WfmError {
    /// Still rate limited after the bounded number of paused retries.
    #[error("{route}: rate limited (429), retry after {retry_after:?}")]
    RateLimited {
        /// Route template.
        route: &'static str,
        /// The last `Retry-After`.
        retry_after: Option<Duration>,
    },
    /// 404: the entity is gone (a deleted schedule is a deletion, not an error).
    #[error("{route}: not found (404)")]
    NotFound {
        /// Route template.
        route: &'static str,
    },
    /// 403: the OAuth client lacks a permission.
    #[error("{route}: forbidden (403): the OAuth client needs {permission}")]
    Forbidden {
        /// The missing permission(s), as the API named them or as documented for the route.
        permission: String,
        /// Route template.
        route: &'static str,
    },
    /// 401 again after a fresh token.
    #[error("{route}: unauthorized (401) even with a fresh token")]
    Unauthorized {
        /// Route template.
        route: &'static str,
    },
    /// No token could be obtained.
    #[error("no access token: {0}")]
    Auth(#[from] AuthError),
    /// Any other non-success answer (5xx after retries, 400, ...).
    #[error("{route}: HTTP {status}: {body}")]
    Http {
        /// Route template.
        route: &'static str,
        /// HTTP status.
        status: u16,
        /// The response body (truncated).
        body: String,
    },
    /// Connection, TLS or timeout failure after retries.
    #[error("{route}: transport: {message}")]
    Transport {
        /// Route template.
        route: &'static str,
        /// What failed.
        message: String,
    },
    /// The body did not parse.
    #[error("{route}: cannot decode the answer: {message}")]
    Decode {
        /// Route template.
        route: &'static str,
        /// What serde (or gzip) said.
        message: String,
    },
    /// An agent-schedule query gave neither a result nor a download URL, even forced to
    /// the download service. Never treated as an empty schedule.
    #[error("{route}: no result (status {status:?}, operation {operation_id:?})")]
    NoResult {
        /// Route template.
        route: &'static str,
        /// The answer's `status`.
        status: Option<String>,
        /// The answer's `operationId`.
        operation_id: Option<String>,
    },
}

impl WfmError {
    /// A short label for metrics and logs.
    pub fn kind(&self) -> &'static str {
        match self {
            WfmError::RateLimited { .. } => "rate_limited",
            WfmError::NotFound { .. } => "not_found",
            WfmError::Forbidden { .. } => "forbidden",
            WfmError::Unauthorized { .. } => "unauthorized",
            WfmError::Auth(_) => "auth",
            WfmError::Http { .. } => "http",
            WfmError::Transport { .. } => "transport",
            WfmError::Decode { .. } => "decode",
            WfmError::NoResult { .. } => "no_result",
        }
    }
}

/// The permissions the Genesys documentation lists for a route template (what `doctor`
/// and a 403 name when the answer itself does not).
pub fn documented_permission(route: &str) -> &'static str {
    match route {
        "schedules.list" | "schedules.get" | "agentschedules.query" => {
            "wfm:schedule:view or wfm:publishedSchedule:view"
        }
        "activitycodes.list" => "wfm:activityCode:view (or wfm:schedule:view, wfm:agentSchedule:view)",
        "managementunits.users" => "wfm:agent:view",
        "presence.get" | "presence.bulk" => "presence:userPresence:view",
        "routingstatus.get" => "routing:agent:view (UNVERIFIED)",
        "businessunits.list" | "managementunits.list" => "none (results are filtered by authorization)",
        "businessunits.get" => "wfm:businessUnit:view (UNVERIFIED)",
        _ => "a permission not documented for this route",
    }
}

/// The missing permission named by a 403 body: `messageParams` values first, then any
/// `a:b:c` token in the message, else the route's documented permissions.
pub fn forbidden_permission(route: &str, body: &[u8]) -> String {
    let parsed: Option<ErrorBody> = serde_json::from_slice(body).ok();
    if let Some(b) = &parsed {
        let mut from_params: Vec<String> = b
            .message_params
            .values()
            .flat_map(|v| permission_tokens(v))
            .collect();
        from_params.dedup();
        if !from_params.is_empty() {
            return from_params.join(" or ");
        }
        if let Some(m) = &b.message {
            let tokens = permission_tokens(m);
            if !tokens.is_empty() {
                return tokens.join(" or ");
            }
        }
    }
    documented_permission(route).to_string()
}

/// Words shaped like `domain:entity:action`.
fn permission_tokens(text: &str) -> Vec<String> {
    text.split(|c: char| c.is_whitespace() || matches!(c, ',' | '[' | ']' | '"' | '(' | ')'))
        .map(|w| w.trim_end_matches('.'))
        .filter(|w| w.split(':').count() == 3 && w.split(':').all(|p| !p.is_empty()))
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permission_comes_from_params_then_message_then_docs() {
        let params = br#"{"message":"x","messageParams":{"permissions":"[wfm:schedule:view, wfm:publishedSchedule:view]"}}"#;
        assert_eq!(
            forbidden_permission("schedules.list", params),
            "wfm:schedule:view or wfm:publishedSchedule:view"
        );
        let message = br#"{"message":"You are missing the following permission(s): [wfm:agent:view]."}"#;
        assert_eq!(
            forbidden_permission("managementunits.users", message),
            "wfm:agent:view"
        );
        assert_eq!(
            forbidden_permission("agentschedules.query", b"not json"),
            "wfm:schedule:view or wfm:publishedSchedule:view"
        );
    }
}
