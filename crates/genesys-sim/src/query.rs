//! A tiny query-string parser that keeps repeated keys (`?id=a&id=b`), which the bulk
//! presence route needs and serde_urlencoded cannot express.

/// Decodes `%XX` escapes and `+`.
fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(v) => {
                        out.push(v);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Parsed query pairs.
#[derive(Debug, Default)]
pub(crate) struct Query(Vec<(String, String)>);

impl Query {
    /// Parses a raw query (None = empty).
    pub(crate) fn parse(raw: Option<&str>) -> Self {
        Self(
            raw.unwrap_or("")
                .split('&')
                .filter(|p| !p.is_empty())
                .map(|p| match p.split_once('=') {
                    Some((k, v)) => (decode(k), decode(v)),
                    None => (decode(p), String::new()),
                })
                .collect(),
        )
    }
    /// The first value of `key` (case-insensitive key match).
    pub(crate) fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
    }
    /// Every value of `key`, with comma-separated values split.
    pub(crate) fn all(&self, key: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(key))
            .flat_map(|(_, v)| {
                v.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(String::from)
                    .collect::<Vec<_>>()
            })
            .collect()
    }
    /// A boolean flag (`true`, case-insensitive).
    pub(crate) fn flag(&self, key: &str) -> bool {
        self.get(key).is_some_and(|v| v.eq_ignore_ascii_case("true"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_and_comma_separated_keys_and_escapes() {
        let q = Query::parse(Some(
            "id=a&id=b%2Cc&expand=managementUnits.agents&x=%E2%82%AC+1&bad=%zz",
        ));
        assert_eq!(q.all("id"), vec!["a", "b", "c"]);
        assert_eq!(q.get("EXPAND"), Some("managementUnits.agents"));
        assert_eq!(q.get("x"), Some("€ 1"));
        assert_eq!(q.get("bad"), Some("%zz"));
        assert!(!q.flag("missing"));
        assert!(Query::parse(Some("forceAsync=TRUE")).flag("forceAsync"));
    }
}
