//! `[[sinks]] type = "nats"`: the JetStream sink's keys and their offline checks.
//!
//! Kept apart from the other sinks because it is the only one with a naming grammar of
//! its own (NATS subjects and stream names), which `check` must be able to reject
//! before a single event is published.

use super::problem::Problem;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// The `{type}` placeholder of `subject`: replaced by the CloudEvent `type`.
pub const TYPE_PLACEHOLDER: &str = "{type}";

fn default_subject() -> String {
    "wfm.{type}".into()
}

/// A NATS JetStream sink.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NatsSinkConfig {
    /// Cursor name; defaults to the type (with `-2`, `-3`… for repeats).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Server URL(s): `nats://host:4222` or `tls://host:4222`, comma-separated for a cluster.
    pub url: String,
    /// The JetStream stream the subjects must be bound to (checked on every publish).
    pub stream: String,
    /// Subject template; `{type}` becomes the CloudEvent type (`wfm.presence.changed`).
    #[serde(default = "default_subject")]
    pub subject: String,
    /// A `.creds` file (user JWT + NKey seed), for servers that require it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials_file: Option<PathBuf>,
    /// TLS towards the server (also implied by a `tls://` URL).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<NatsTlsConfig>,
}

/// `tls = { ... }` of a NATS sink.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NatsTlsConfig {
    /// Refuse to talk to the server without TLS.
    #[serde(default)]
    pub required: bool,
    /// PEM file of the CA(s) to trust instead of the system roots.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<PathBuf>,
    /// PEM client certificate (mutual TLS); needs `key_file`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cert_file: Option<PathBuf>,
    /// PEM private key of `cert_file`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_file: Option<PathBuf>,
}

impl NatsSinkConfig {
    /// The subject one event of CloudEvent type `event_type` is published on.
    pub fn subject_for(&self, event_type: &str) -> String {
        self.subject.replace(TYPE_PLACEHOLDER, event_type)
    }

    /// Every problem of this entry (`at` is its key prefix, e.g. `sinks[2]`).
    pub(super) fn problems(&self, at: &str) -> Vec<Problem> {
        let mut out = Vec::new();
        let mut check = |ok: bool, key: &str, message: String| {
            if !ok {
                out.push(Problem {
                    key: format!("{at}.{key}"),
                    message,
                });
            }
        };
        for u in self.url.split(',') {
            check(
                is_nats_url(u.trim()),
                "url",
                format!("{:?} is not a nats:// or tls:// URL", u.trim()),
            );
        }
        check(
            is_stream_name(&self.stream),
            "stream",
            format!(
                "{:?} is not a JetStream stream name (non-empty, no spaces, '.', '*', '>', '/' or '\\')",
                self.stream
            ),
        );
        // Every CloudEvent type is lowercase letters and dots, so checking with one
        // stands for all of them.
        check(
            is_publish_subject(&self.subject_for("presence.changed")),
            "subject",
            format!(
                "{:?} is not a NATS subject to publish on (dot-separated tokens, no spaces or \
                 wildcards; {TYPE_PLACEHOLDER} is the event type)",
                self.subject
            ),
        );
        if let Some(p) = &self.credentials_file {
            check(
                !p.as_os_str().is_empty(),
                "credentials_file",
                "must name a file".into(),
            );
        }
        if let Some(t) = &self.tls {
            check(
                t.cert_file.is_some() == t.key_file.is_some(),
                "tls.key_file",
                "set tls.cert_file and tls.key_file together".into(),
            );
        }
        out
    }
}

fn is_nats_url(s: &str) -> bool {
    reqwest::Url::parse(s)
        .map(|u| matches!(u.scheme(), "nats" | "tls") && u.host().is_some())
        .unwrap_or(false)
}

fn is_stream_name(s: &str) -> bool {
    !s.is_empty()
        && !s
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || ".*>/\\".contains(c))
}

fn is_publish_subject(s: &str) -> bool {
    !s.is_empty()
        && s.split('.').all(|tok| {
            !tok.is_empty()
                && tok != "*"
                && tok != ">"
                && !tok.chars().any(|c| c.is_whitespace() || c.is_control())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sink(url: &str, stream: &str, subject: &str) -> NatsSinkConfig {
        NatsSinkConfig {
            name: None,
            url: url.into(),
            stream: stream.into(),
            subject: subject.into(),
            credentials_file: None,
            tls: None,
        }
    }

    #[test]
    fn a_plain_entry_is_valid_and_the_subject_takes_the_type() {
        let s = sink("nats://127.0.0.1:4222", "WFM", "wfm.{type}");
        assert!(s.problems("sinks[0]").is_empty());
        assert_eq!(s.subject_for("presence.changed"), "wfm.presence.changed");
        let cluster = sink("nats://a:4222, tls://b:4222", "WFM", "events");
        assert!(cluster.problems("sinks[0]").is_empty());
    }

    #[test]
    fn each_bad_key_is_named() {
        let s = sink("http://x", "a.b", "wfm.*.{type}");
        let keys: Vec<_> = s.problems("sinks[1]").into_iter().map(|p| p.key).collect();
        assert_eq!(keys, ["sinks[1].url", "sinks[1].stream", "sinks[1].subject"]);
        assert_eq!(sink("nats://x", "S", "a..b").problems("s").len(), 1);
        assert_eq!(sink("nats://x", "S", "a b").problems("s").len(), 1);
        assert_eq!(sink("nats://x", "", "a").problems("s").len(), 1);
    }
}
