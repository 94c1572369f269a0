//! The shipped config.toml and every fixture under fixtures/config parse (or fail) as expected.

use std::path::{Path, PathBuf};
use wfm_reactor::config::{Config, ConfigError};

fn fixture_files(dir: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/config")
        .join(dir);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no fixtures in {}", dir.display());
    files
}

/// Every message the config yields: the parse error, or each validation problem.
fn messages(path: &Path) -> Vec<String> {
    match Config::load(path) {
        Err(e) => vec![e.to_string()],
        Ok(c) => c.validate().iter().map(|p| p.to_string()).collect(),
    }
}

#[test]
fn shipped_config_is_valid_and_runs_against_the_simulator() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config.toml");
    let config = Config::load(&path).expect("config.toml parses");
    assert_eq!(config.validate(), vec![], "config.toml has problems");
    assert!(config.genesys.is_simulator());
    assert_eq!(config.sink_names(), vec!["stdout".to_string()]);
}

#[test]
fn valid_fixtures_have_no_problems() {
    for path in fixture_files("valid") {
        assert_eq!(messages(&path), Vec::<String>::new(), "{}", path.display());
    }
}

#[test]
fn invalid_fixtures_fail_with_their_expected_message() {
    for path in fixture_files("invalid") {
        let text = std::fs::read_to_string(&path).unwrap();
        let expected = text
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("# expect: "))
            .unwrap_or_else(|| panic!("{} lacks a `# expect:` first line", path.display()));
        let got = messages(&path);
        assert!(
            got.iter().any(|m| m.contains(expected)),
            "{}: expected a message containing {expected:?}, got {got:?}",
            path.display()
        );
    }
}

#[test]
fn secrets_are_masked_in_debug_and_check_output() {
    let text = "[genesys]\nregion = \"mypurecloud.com\"\nclient_id = \"id\"\nclient_secret = \"${SECRET}\"\n[[sinks]]\ntype = \"webhook\"\nurl = \"https://x.example\"\nsecret = \"whsec_c2VjcmV0\"\n";
    let config =
        Config::from_toml_str_with_env(text, &|n| (n == "SECRET").then(|| "topsecret".to_string())).unwrap();
    assert_eq!(config.genesys.client_secret.expose(), "topsecret");
    let debug = format!("{config:?}");
    let shown = config.to_masked_toml();
    for out in [&debug, &shown] {
        assert!(!out.contains("topsecret") && !out.contains("c2VjcmV0"), "{out}");
        assert!(out.contains("[redacted]"));
    }
}

#[test]
fn every_problem_is_listed_at_once() {
    let text = "[genesys]\nregion = \"mypurecloud.com\"\n[debounce]\nquiet = \"0s\"\n";
    let problems = Config::from_toml_str_with_env(text, &|_| None)
        .unwrap()
        .validate();
    let keys: Vec<_> = problems.iter().map(|p| p.key.as_str()).collect();
    for key in [
        "genesys.client_id",
        "genesys.client_secret",
        "debounce.quiet",
        "sinks",
    ] {
        assert!(keys.contains(&key), "{key} missing from {keys:?}");
    }
}

#[test]
fn syntax_errors_are_reported_as_such() {
    assert!(matches!(
        Config::from_toml_str("[genesys"),
        Err(ConfigError::Syntax(_))
    ));
}
