//! Loading: TOML text → `${VAR}` expansion on the parsed tree → strict deserialisation.

use super::{Config, Problem, expand, validate};
use std::path::{Path, PathBuf};

impl Config {
    /// Parses TOML text, expanding `${VAR}` from the process environment.
    pub fn from_toml_str(text: &str) -> Result<Self, ConfigError> {
        Self::from_toml_str_with_env(text, &|name| std::env::var(name).ok())
    }

    /// Parses TOML text with an explicit environment (tests).
    pub fn from_toml_str_with_env(
        text: &str,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let mut tree: toml::Value = toml::from_str(text).map_err(|e| ConfigError::Syntax(e.to_string()))?;
        let missing = expand::expand_tree(&mut tree, env).map_err(ConfigError::Expand)?;
        if !missing.is_empty() {
            let names: Vec<_> = missing.into_iter().collect();
            return Err(ConfigError::MissingEnv(names.join(", ")));
        }
        serde_path_to_error::deserialize(tree).map_err(|e| {
            let path = e.path().to_string();
            let message = e.into_inner().to_string();
            let message = message.lines().next().unwrap_or_default().to_string();
            ConfigError::Invalid { key: path, message }
        })
    }

    /// Reads and parses a file.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Read {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        Self::from_toml_str(&text)
    }

    /// Every semantic problem, each naming its key. Empty means valid.
    pub fn validate(&self) -> Vec<Problem> {
        validate::validate(self)
    }

    /// Settings that are valid but probably a mistake (plain http to a real org), each
    /// naming its key; `check` prints them and `run` logs them.
    pub fn warnings(&self) -> Vec<Problem> {
        validate::warnings(self)
    }

    /// The cursor name of each sink, in config order (unique after validation).
    pub fn sink_names(&self) -> Vec<String> {
        let mut seen = std::collections::HashMap::<&str, usize>::new();
        self.sinks
            .iter()
            .map(|s| match s.explicit_name() {
                Some(n) => n.to_string(),
                None => {
                    let n = seen.entry(s.kind()).or_insert(0);
                    *n += 1;
                    if *n == 1 {
                        s.kind().to_string()
                    } else {
                        format!("{}-{}", s.kind(), n)
                    }
                }
            })
            .collect()
    }

    /// The effective configuration as TOML, secrets masked (for `wfm-reactor check`).
    pub fn to_masked_toml(&self) -> String {
        toml::to_string_pretty(self).unwrap_or_else(|e| format!("# cannot render: {e}"))
    }
}

/// Why a configuration could not be parsed at all.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {path}: {message}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The OS error.
        message: String,
    },
    /// Not TOML.
    #[error("TOML syntax error: {0}")]
    Syntax(String),
    /// A `${...}` reference is malformed.
    #[error("environment expansion: {0}")]
    Expand(String),
    /// `${VAR}` without default and VAR unset.
    #[error("environment variable(s) not set and no default given: {0}")]
    MissingEnv(String),
    /// Wrong type, unknown key, bad duration...
    #[error("{key}: {message}")]
    Invalid {
        /// Dotted path of the offending key.
        key: String,
        /// What serde said.
        message: String,
    },
}
