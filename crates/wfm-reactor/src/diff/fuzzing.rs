//! The canonical form and the diff under fuzzing: two agent-schedule answers are
//! canonicalised and diffed the way a schedule fetch does, and the properties the
//! reactor relies on are checked.
//!
//! It lives in the crate (not only in `fuzz/`) so that the `cargo fuzz` target
//! (`fuzz/fuzz_targets/diff.rs`) and the stable replay of its corpus (an integration
//! test) run the same code: an input that crashed once stays a test case.
//!
//! Checked: the one-pass read of an answer gives what the API models and `from_api`
//! give; hashing is deterministic, survives a serde round trip of the canonical form
//! and ignores shift ids; diffing a list against its own hashes is empty; a diff of `a`
//! against `b` is sorted, names each user once, and says Added / Updated / Removed
//! exactly when the user is new / has another hash / is gone, with the new hash.

use super::{CanonicalAgentSchedule, CanonicalAnswer, Change, diff};
use crate::genesys::wfm::BuAgentSchedulesQueryResponse;
use std::collections::HashMap;

/// Runs one input; panics only on a broken invariant (that is the finding).
///
/// The input is two `BuAgentSchedulesQueryResponse` JSON bodies separated by a NUL byte
/// (without one, both sides are the same body).
pub fn diff_input(data: &[u8]) {
    let (a, b) = match data.iter().position(|&c| c == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, data),
    };
    let (Some(a), Some(b)) = (canonical(a), canonical(b)) else {
        return;
    };
    for (_, schedule) in a.iter().chain(&b) {
        let hash = schedule.hash();
        assert_eq!(hash.len(), 64, "not a sha256 hex");
        assert_eq!(hash, schedule.clone().hash(), "hash is not deterministic");
        let json = serde_json::to_string(schedule).expect("canonical form serialises");
        let back: CanonicalAgentSchedule = serde_json::from_str(&json).expect("and reads back");
        assert_eq!(&back, schedule, "canonical form changes in a serde round trip");
        assert_eq!(back.hash(), hash, "hash changes in a serde round trip");
        let mut renamed = schedule.clone();
        for shift in &mut renamed.shifts {
            shift.id = Some("other".into());
        }
        assert_eq!(renamed.hash(), hash, "hash depends on shift ids");
    }
    let before = hashes(&a);
    assert!(diff(&before, a.clone()).is_empty(), "diff(a, a) is not empty");
    let after = hashes(&b);
    let changes = diff(&before, b.clone());
    for pair in changes.windows(2) {
        assert!(pair[0].user_id < pair[1].user_id, "diff unsorted or a user twice");
    }
    let reported: HashMap<&str, _> = changes.iter().map(|d| (d.user_id.as_str(), d)).collect();
    for user in before.keys().chain(after.keys()) {
        let expected = match (before.get(user), after.get(user)) {
            (None, Some(_)) => Some(Change::Added),
            (Some(_), None) => Some(Change::Removed),
            (Some(old), Some(new)) if old != new => Some(Change::Updated),
            _ => None,
        };
        let got = reported.get(user.as_str());
        assert_eq!(got.map(|d| d.change), expected, "wrong change for {user:?}");
        if let Some(d) = got {
            assert_eq!(d.hash.as_ref(), after.get(user), "wrong new hash for {user:?}");
            if d.change == Change::Removed {
                assert_eq!(d.schedule, CanonicalAgentSchedule::default());
            } else {
                assert_eq!(d.schedule.hash(), after[user], "schedule and hash disagree");
            }
        }
    }
    assert!(
        changes
            .iter()
            .all(|d| before.contains_key(&d.user_id) || after.contains_key(&d.user_id)),
        "a change for a user in neither list"
    );
}

/// The canonical schedules of one answer body, as a schedule fetch builds them (in one
/// pass, [`CanonicalAnswer`]), checked against the definition: the API models, then
/// [`CanonicalAgentSchedule::from_api`].
fn canonical(body: &[u8]) -> Option<Vec<(String, CanonicalAgentSchedule)>> {
    let answer: BuAgentSchedulesQueryResponse = serde_json::from_slice(body).ok()?;
    let defined: Vec<_> = answer
        .agent_schedules
        .iter()
        .filter_map(CanonicalAgentSchedule::from_api)
        .collect();
    let one_pass: CanonicalAnswer =
        serde_json::from_slice(body).expect("the one-pass read refuses what the API models accept");
    assert_eq!(
        one_pass.agents, defined,
        "the one-pass read differs from from_api"
    );
    Some(one_pass.agents)
}

/// The hashes the store would keep after committing `schedules` (the last entry of a
/// user listed twice wins, as in [`diff`]).
fn hashes(schedules: &[(String, CanonicalAgentSchedule)]) -> HashMap<String, String> {
    schedules.iter().map(|(u, s)| (u.clone(), s.hash())).collect()
}
