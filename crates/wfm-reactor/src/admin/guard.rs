//! Who may use the admin server: one middleware over the whole router, so every route
//! added later (`/v1/*`, the board at `/`) is covered without naming it here.
//!
//! - With `[admin] token` set: everything but the probes and the scrape (`/livez`,
//!   `/readyz`, `/metrics`) needs `Authorization: Bearer TOKEN` or the session cookie a
//!   sign-in (`POST /v1/session`) set; otherwise 401. The cookie is `HttpOnly` (no script
//!   reads it) and `SameSite=Strict` (no other site's page sends it), so a browser page
//!   needs the token once, not in every URL.
//! - Without a token the server only listens on loopback (validation refuses anything
//!   else), and loopback alone is not enough: a page on any site can make the browser
//!   talk to `127.0.0.1` through a DNS name it rebinds, or post to it cross-site. So the
//!   `Host` must be a loopback name or address (403 otherwise), and an `Origin`, when sent,
//!   must be the admin server's own (403 otherwise).
//!
//! Tokens are compared as SHA-256 digests, byte by byte without an early exit, so the
//! time taken tells nothing about the token, not even its length.

use axum::extract::{FromRequest as _, Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::{Form, Json};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;

/// Paths open without a token: probes and the Prometheus scrape.
pub(crate) const OPEN_PATHS: [&str; 3] = ["/livez", "/readyz", "/metrics"];
/// The sign-in: `POST` with the token (bearer header or form field `token`) sets the cookie.
pub(crate) const SESSION_PATH: &str = "/v1/session";
/// Name of the session cookie.
pub(crate) const COOKIE: &str = "wfm_reactor_session";

/// The access policy of one admin server.
#[derive(Clone)]
pub(crate) struct Guard {
    inner: Arc<Inner>,
}

struct Inner {
    /// Digest of the configured token; `None` runs the loopback-only policy.
    token: Option<[u8; 32]>,
    /// This process's session id (random): the cookie value a sign-in hands out.
    session: String,
}

impl Guard {
    /// The policy for `token` (empty: loopback only).
    pub(crate) fn new(token: &str) -> Self {
        let token = token.trim();
        let session: String = (0..32).map(|_| format!("{:02x}", rand::random::<u8>())).collect();
        Self {
            inner: Arc::new(Inner {
                token: (!token.is_empty()).then(|| digest(token)),
                session,
            }),
        }
    }

    fn bearer_ok(&self, presented: &str) -> bool {
        self.inner
            .token
            .is_some_and(|want| constant_time_eq(&want, &digest(presented)))
    }

    fn authorized(&self, headers: &HeaderMap) -> bool {
        let bearer = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        if bearer.is_some_and(|b| self.bearer_ok(b.trim())) {
            return true;
        }
        let want = digest(&self.inner.session);
        cookies(headers, COOKIE).any(|c| constant_time_eq(&want, &digest(c)))
    }
}

/// The middleware: answers 401/403 itself, or passes the request on.
pub(crate) async fn check(State(guard): State<Guard>, req: Request, next: Next) -> Response {
    if guard.inner.token.is_none() {
        return match loopback_only(req.headers()) {
            Ok(()) => next.run(req).await,
            Err(why) => refuse(StatusCode::FORBIDDEN, why),
        };
    }
    let path = req.uri().path();
    if OPEN_PATHS.contains(&path) {
        return next.run(req).await;
    }
    if path == SESSION_PATH && req.method() == Method::POST {
        return sign_in(&guard, req).await;
    }
    if guard.authorized(req.headers()) {
        return next.run(req).await;
    }
    let mut resp = refuse(
        StatusCode::UNAUTHORIZED,
        "this admin server requires its token: Authorization: Bearer TOKEN, or sign in with POST /v1/session"
            .into(),
    );
    resp.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        header::HeaderValue::from_static("Bearer realm=\"wfm-reactor\""),
    );
    resp
}

/// `POST /v1/session`: a bearer header answers 204, a form (`token=...`, as an HTML sign-in
/// form posts it) 303 to `/`; both set the session cookie. A wrong token is 401.
async fn sign_in(guard: &Guard, req: Request) -> Response {
    let from_header = guard.authorized(req.headers());
    let ok = from_header
        || match Form::<HashMap<String, String>>::from_request(req, &()).await {
            Ok(Form(fields)) => fields.get("token").is_some_and(|t| guard.bearer_ok(t.trim())),
            Err(_) => false,
        };
    if !ok {
        return refuse(StatusCode::UNAUTHORIZED, "wrong or missing token".into());
    }
    let cookie = format!(
        "{COOKIE}={}; HttpOnly; SameSite=Strict; Path=/",
        guard.inner.session
    );
    let mut resp = if from_header {
        StatusCode::NO_CONTENT.into_response()
    } else {
        (StatusCode::SEE_OTHER, [(header::LOCATION, "/")]).into_response()
    };
    if let Ok(v) = header::HeaderValue::from_str(&cookie) {
        resp.headers_mut().insert(header::SET_COOKIE, v);
    }
    resp
}

/// The tokenless policy: a loopback `Host`, and no foreign `Origin`.
fn loopback_only(headers: &HeaderMap) -> Result<(), String> {
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !is_loopback_host(host) {
        crate::telemetry::ops::admin_refused("host");
        return Err(format!(
            "Host {host:?} is not a loopback name or address; without [admin] token only \
             localhost, 127.0.0.1 and [::1] are served (DNS rebinding)"
        ));
    }
    if let Some(origin) = headers.get(header::ORIGIN) {
        let own = format!("http://{host}");
        if !origin.as_bytes().eq_ignore_ascii_case(own.as_bytes()) {
            crate::telemetry::ops::admin_refused("origin");
            return Err(format!(
                "Origin {:?} is not this server's own ({own}); cross-site requests are refused",
                String::from_utf8_lossy(origin.as_bytes())
            ));
        }
    }
    Ok(())
}

/// `localhost`, or a loopback IP (`127.0.0.1`, `[::1]`), with any port.
pub(crate) fn is_loopback_host(host: &str) -> bool {
    let name = if let Some(rest) = host.strip_prefix('[') {
        match rest.split_once(']') {
            Some((ip, port)) if port.is_empty() || port.starts_with(':') => ip,
            _ => return false,
        }
    } else {
        match host.rsplit_once(':') {
            Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
            _ => host,
        }
    };
    name.eq_ignore_ascii_case("localhost") || name.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

fn refuse(status: StatusCode, why: String) -> Response {
    (status, Json(serde_json::json!({ "error": why }))).into_response()
}

fn digest(s: &str) -> [u8; 32] {
    Sha256::digest(s.as_bytes()).into()
}

fn constant_time_eq(a: &[u8; 32], b: &[u8; 32]) -> bool {
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Values of the cookie `name` in every `Cookie` header.
fn cookies<'a>(headers: &'a HeaderMap, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(move |pair| {
            let (k, v) = pair.trim().split_once('=')?;
            (k == name).then_some(v)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts() {
        for ok in [
            "localhost",
            "localhost:9464",
            "127.0.0.1:1",
            "127.0.0.1",
            "[::1]:9464",
            "[::1]",
            "LOCALHOST:80",
        ] {
            assert!(is_loopback_host(ok), "{ok}");
        }
        for bad in [
            "",
            "evil.example",
            "evil.example:9464",
            "10.0.0.1:9464",
            "[::2]:1",
            "localhost.evil.example",
            "[::1]x",
        ] {
            assert!(!is_loopback_host(bad), "{bad}");
        }
    }

    #[test]
    fn tokens_compare_by_digest() {
        let g = Guard::new("s3cret");
        assert!(g.bearer_ok("s3cret"));
        assert!(!g.bearer_ok("s3cre"));
        assert!(!Guard::new("").bearer_ok(""));
    }
}
