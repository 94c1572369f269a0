//! The text report: an aligned table (check, result, detail), then for each failure the
//! permission(s) to grant and where, so an operator can fix the org without reading logs.

use super::{DoctorReport, GRANT_HINT, Outcome};
use std::fmt::Write as _;

/// Longest detail printed in the table (the full text is in the log).
const MAX_DETAIL: usize = 160;

/// Renders the report.
pub fn render(report: &DoctorReport) -> String {
    let width = report
        .checks
        .iter()
        .map(|c| c.name.chars().count())
        .max()
        .unwrap_or(5)
        .max("CHECK".len());
    let mut s = String::new();
    let _ = writeln!(s, "{:<width$}  {:<7}  DETAIL", "CHECK", "RESULT");
    for c in &report.checks {
        let result = match (&c.outcome, c.required) {
            (Outcome::Pass, _) => "ok",
            (Outcome::Fail, true) => "FAIL",
            (Outcome::Fail, false) => "warn",
            (Outcome::Skipped, _) => "skipped",
        };
        let mut detail = c.detail.clone();
        if !c.missing_permissions.is_empty() {
            detail = format!("missing {} | {detail}", c.missing_permissions.join(" or "));
        }
        if detail.chars().count() > MAX_DETAIL {
            detail = detail.chars().take(MAX_DETAIL).collect::<String>() + "...";
        }
        let _ = writeln!(s, "{:<width$}  {result:<7}  {detail}", c.name);
    }
    let failures: Vec<_> = report
        .checks
        .iter()
        .filter(|c| c.outcome == Outcome::Fail)
        .collect();
    if failures.is_empty() {
        let _ = writeln!(s, "\nAll checks passed.");
        return s;
    }
    let _ = writeln!(s, "\n{} check(s) failed. How to fix:", failures.len());
    for c in failures {
        if c.missing_permissions.is_empty() {
            let _ = writeln!(s, "- {}: {}", c.name, c.detail);
        } else {
            let _ = writeln!(
                s,
                "- {}: grant {} (any one is enough) in {GRANT_HINT}",
                c.name,
                c.missing_permissions.join(" or ")
            );
        }
    }
    let missing = report.missing_permissions();
    if !missing.is_empty() {
        let list: Vec<_> = missing.into_iter().collect();
        let _ = writeln!(s, "\nPermissions named by the failures: {}", list.join(", "));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::super::Check;
    use super::*;

    #[test]
    fn failures_name_the_permission_and_where_to_grant_it() {
        let report = DoctorReport {
            checks: vec![
                Check::pass("OAuth token", "ok"),
                Check::fail(
                    "REST presence.bulk",
                    "forbidden",
                    vec!["presence:userPresence:view".into()],
                ),
            ],
        };
        let text = render(&report);
        assert!(text.contains("REST presence.bulk"), "{text}");
        assert!(text.contains("FAIL"), "{text}");
        assert!(text.contains("grant presence:userPresence:view"), "{text}");
        assert!(text.contains("Admin > Integrations > OAuth"), "{text}");
        assert_eq!(report.exit_code(), 1);
    }

    #[test]
    fn all_pass_says_so_and_exits_zero() {
        let report = DoctorReport {
            checks: vec![Check::pass("OAuth token", "ok"), Check::skipped("x", "nothing")],
        };
        assert!(render(&report).contains("All checks passed."));
        assert_eq!(report.exit_code(), 0);
    }
}
