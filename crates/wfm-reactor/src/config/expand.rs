//! `${VAR}` / `${VAR:-default}` expansion in every string value of the parsed TOML tree.
//!
//! Expansion runs on parsed values, not on the raw text, so an environment value can
//! never inject TOML syntax (a secret containing `"` stays one string).

use std::collections::BTreeSet;

/// Expands every string in `value` in place, reading variables through `lookup`.
/// Returns the names of variables that were referenced without a default and are unset.
pub(crate) fn expand_tree(
    value: &mut toml::Value,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<BTreeSet<String>, String> {
    let mut missing = BTreeSet::new();
    walk(value, lookup, &mut missing)?;
    Ok(missing)
}

fn walk(
    value: &mut toml::Value,
    lookup: &dyn Fn(&str) -> Option<String>,
    missing: &mut BTreeSet<String>,
) -> Result<(), String> {
    match value {
        toml::Value::String(s) => *s = expand_str(s, lookup, missing)?,
        toml::Value::Array(items) => {
            for item in items {
                walk(item, lookup, missing)?;
            }
        }
        toml::Value::Table(table) => {
            for (_, item) in table.iter_mut() {
                walk(item, lookup, missing)?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// Expands one string. `$$` is a literal `$`; a `$` not followed by `{` is kept as is.
pub fn expand_str(
    input: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
    missing: &mut BTreeSet<String>,
) -> Result<String, String> {
    let mut out = String::with_capacity(input.len());
    let mut rest = input;
    while let Some(pos) = rest.find('$') {
        out.push_str(&rest[..pos]);
        let after = &rest[pos + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
        } else if let Some(body) = after.strip_prefix('{') {
            let end = body
                .find('}')
                .ok_or_else(|| format!("unterminated `${{` in {input:?}"))?;
            let expr = &body[..end];
            let (name, default) = match expr.split_once(":-") {
                Some((n, d)) => (n, Some(d)),
                None => (expr, None),
            };
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(format!("invalid variable name {name:?} in {input:?}"));
            }
            match (
                lookup(name).filter(|v| !v.is_empty() || default.is_none()),
                default,
            ) {
                (Some(v), _) => out.push_str(&v),
                (None, Some(d)) => out.push_str(d),
                (None, None) => {
                    missing.insert(name.to_string());
                }
            }
            rest = &body[end + 1..];
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "SET" => Some("value".into()),
            "EMPTY" => Some(String::new()),
            _ => None,
        }
    }

    fn run(input: &str) -> (Result<String, String>, BTreeSet<String>) {
        let mut missing = BTreeSet::new();
        (expand_str(input, &env, &mut missing), missing)
    }

    #[test]
    fn expands_set_default_and_missing() {
        assert_eq!(run("a${SET}b").0.unwrap(), "avalueb");
        assert_eq!(run("${UNSET:-dflt}").0.unwrap(), "dflt");
        assert_eq!(run("${EMPTY:-dflt}").0.unwrap(), "dflt");
        assert_eq!(run("${EMPTY}").0.unwrap(), "");
        assert_eq!(run("$$HOME $x").0.unwrap(), "$HOME $x");
        let (out, missing) = run("${UNSET}");
        assert_eq!(out.unwrap(), "");
        assert!(missing.contains("UNSET"));
    }

    #[test]
    fn rejects_malformed_references() {
        assert!(run("${OPEN").0.is_err());
        assert!(run("${bad name}").0.is_err());
    }
}
