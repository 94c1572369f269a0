//! The download decoder and the agent-schedule models under fuzzing: one body through
//! [`parse_download`] (gzip by header or magic, decoded-size cap, streaming `serde_json`)
//! into `BuAgentSchedulesQueryResponse`, then into the canonical form the diff uses.
//!
//! It lives in the crate (not only in `fuzz/`) so that the `cargo fuzz` target
//! (`fuzz/fuzz_targets/download.rs`) and the stable replay of its corpus (an integration
//! test) run the same code: an input that crashed once stays a test case.
//!
//! A download body is hostile input (§4.4 leaves its encoding open), so besides "never
//! panics" it checks the cap: a plain body longer than the cap is never accepted (nor
//! reported as a read error), and a plain body within the cap is accepted exactly when
//! `serde_json` accepts its bytes whole.

use super::{DecodeError, parse_download};
use crate::diff::CanonicalAgentSchedule;
use crate::genesys::wfm::BuAgentSchedulesQueryResponse;

/// Runs one input; panics only on a broken invariant (that is the finding).
///
/// The first byte chooses `Content-Encoding: gzip` (bit 0) and the cap (the other bits:
/// 0..=127 × 64 bytes, small so that the limit is reached); the rest is the body.
pub fn download_input(data: &[u8]) {
    let Some((&mode, body)) = data.split_first() else {
        return;
    };
    let gzip_header = mode & 1 == 1;
    let limit = u64::from(mode >> 1) * 64;
    let parsed = parse_download::<BuAgentSchedulesQueryResponse, _>(body, gzip_header, limit);
    let plain = !gzip_header && !super::is_gzip(body);
    if plain {
        let len = body.len() as u64;
        if len > limit {
            // Refused as too large, or as bad JSON when that shows before the cap.
            assert!(
                matches!(parsed, Err(DecodeError::TooLarge { .. } | DecodeError::Json(_))),
                "a plain body of {len} bytes past the cap {limit}: {parsed:?}"
            );
        } else {
            let direct = serde_json::from_slice::<BuAgentSchedulesQueryResponse>(body);
            assert_eq!(
                parsed.as_ref().ok(),
                direct.as_ref().ok(),
                "streamed and whole-body parses disagree: {parsed:?} / {direct:?}"
            );
        }
    }
    let Ok(answer) = parsed else {
        return;
    };
    for agent in &answer.agent_schedules {
        if let Some((user, schedule)) = CanonicalAgentSchedule::from_api(agent) {
            assert!(agent.user.as_ref().and_then(|u| u.id.as_ref()) == Some(&user));
            assert_eq!(schedule.hash(), schedule.hash(), "hash is not deterministic");
        }
    }
}
