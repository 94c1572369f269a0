//! The config loader under fuzzing: one input through TOML parsing, `${VAR}` expansion,
//! strict deserialisation, validation, warnings and the masked rendering `check` prints.
//!
//! It lives in the crate (not only in `fuzz/`) so that the `cargo fuzz` target
//! (`fuzz/fuzz_targets/config.rs`) and the stable replay of its corpus (an integration
//! test) run exactly the same code: an input that crashed once stays a test case.
//!
//! Besides "never panics", it checks the promise of `check`: the masked rendering shows no
//! configured secret and no query string or user-info of a URL.

use super::Config;

/// Runs one input; panics only on a broken invariant (that is the finding).
///
/// The first byte chooses the environment `${VAR}` sees (unset, empty or a value with
/// TOML and URL metacharacters), the rest is the file text.
pub fn config_input(data: &[u8]) {
    let Some((&mode, text)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(text) else {
        return;
    };
    let env = move |name: &str| -> Option<String> {
        match mode % 3 {
            0 => None,
            1 => Some(String::new()),
            _ => Some(format!("\"]x?tok=SECRETVAL&u=1@{name}")),
        }
    };
    let Ok(config) = Config::from_toml_str_with_env(text, &env) else {
        return;
    };
    let problems = config.validate();
    for p in problems.iter().chain(config.warnings().iter()) {
        assert!(!p.key.is_empty(), "a problem without a key: {p:?}");
    }
    let _ = config.sink_names();
    // What `check` shows may depend on whether a secret is set, never on its value.
    let shown = config.to_masked_toml();
    assert_eq!(
        shown,
        scrubbed(config).to_masked_toml(),
        "check output depends on a secret"
    );
}

/// `config` with every secret value and every URL's user-info and query replaced.
fn scrubbed(mut config: Config) -> Config {
    fn secret(s: &mut super::Secret) {
        if !s.is_empty() {
            *s = super::Secret::new("other-value");
        }
    }
    secret(&mut config.genesys.client_secret);
    secret(&mut config.admin.token);
    for url in [&mut config.genesys.api_url, &mut config.genesys.login_url]
        .into_iter()
        .flatten()
    {
        *url = scrub_url(url);
    }
    for sink in &mut config.sinks {
        if let super::SinkConfig::Webhook { url, secret: s, .. } = sink {
            secret(s);
            *url = scrub_url(url);
        }
    }
    config
}

/// `url` with a different user-info and query (when it has them), fragment dropped.
fn scrub_url(url: &str) -> String {
    let (scheme, rest) = match url.find("://") {
        Some(i) => url.split_at(i + 3),
        None => ("", url),
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let host = match authority.rfind('@') {
        Some(at) => format!("someone@{}", &authority[at + 1..]),
        None => authority.to_string(),
    };
    let tail = tail.split('#').next().unwrap_or_default();
    let tail = match tail.split_once('?') {
        Some((path, _)) => format!("{path}?q=1"),
        None => tail.to_string(),
    };
    format!("{scheme}{host}{tail}")
}
