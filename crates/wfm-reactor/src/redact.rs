//! The one redaction of URLs shown to people (logs, `/readyz`, `check`, errors).
//!
//! Webhook URLs carry `?token=` or `user:password@`, pre-signed download URLs carry
//! `X-Amz-Credential` and `X-Amz-Signature` in their query: the query string and the
//! user-info of a URL are credentials as far as anyone reading a log can tell, so both are
//! replaced by `[redacted]` while scheme, host, port and path (what an operator needs to
//! find the endpoint) stay. The redaction works on the text, not on a parsed URL, so a
//! URL that does not parse is redacted all the same.

use serde::Serializer;

/// What replaces a secret part.
pub const REDACTED: &str = "[redacted]";

/// `url` with its user-info and query string replaced by `[redacted]` (fragment dropped).
pub fn url(url: &str) -> String {
    let (scheme, rest) = match url.find("://") {
        Some(i) => url.split_at(i + 3),
        None => ("", url),
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let host = match authority.rfind('@') {
        Some(at) => format!("{REDACTED}@{}", &authority[at + 1..]),
        None => authority.to_string(),
    };
    let tail = tail.split('#').next().unwrap_or_default();
    let tail = match tail.split_once('?') {
        Some((path, _)) => format!("{path}?{REDACTED}"),
        None => tail.to_string(),
    };
    format!("{scheme}{host}{tail}")
}

/// Every URL inside free text (an error message that quotes its request URL) redacted.
pub fn text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("://") {
        let start = rest[..i]
            .rfind(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')))
            .map_or(0, |j| j + rest[j..].chars().next().map_or(1, char::len_utf8));
        let end = rest[i..]
            .find(|c: char| c.is_whitespace() || matches!(c, ')' | '"' | '\'' | '>' | ','))
            .map_or(rest.len(), |j| i + j);
        out.push_str(&rest[..start]);
        out.push_str(&url(&rest[start..end]));
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// Serde `serialize_with` for URL fields of the configuration (`check` prints them).
pub(crate) fn serialize<S: Serializer>(value: &str, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&url(value))
}

/// As [`serialize`], for optional URL fields.
pub(crate) fn serialize_opt<S: Serializer>(value: &Option<String>, s: S) -> Result<S::Ok, S::Error> {
    match value {
        Some(v) => s.serialize_some(&url(v)),
        None => s.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_and_user_info_are_redacted() {
        assert_eq!(
            url("https://user:pw@hooks.example:8443/a/b?token=s3cret#frag"),
            "https://[redacted]@hooks.example:8443/a/b?[redacted]"
        );
        assert_eq!(
            url("https://bucket.s3.amazonaws.com/x.json.gz?X-Amz-Credential=AKIA&X-Amz-Signature=ff"),
            "https://bucket.s3.amazonaws.com/x.json.gz?[redacted]"
        );
        assert_eq!(url("http://127.0.0.1:9/hook"), "http://127.0.0.1:9/hook");
        assert_eq!(url("not a url?secret=1"), "not a url?[redacted]");
    }

    #[test]
    fn urls_inside_text_are_redacted() {
        let msg = "error sending request for url (http://u:p@h:1/ok?token=abc): refused";
        assert_eq!(
            text(msg),
            "error sending request for url (http://[redacted]@h:1/ok?[redacted]): refused"
        );
        assert_eq!(text("no url here"), "no url here");
    }
}
