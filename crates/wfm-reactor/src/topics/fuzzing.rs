//! The notification frame parser under fuzzing: one websocket text frame through
//! [`parse_frame`], exactly as the channel workers call it.
//!
//! It lives in the crate (not only in `fuzz/`) so that the `cargo fuzz` target
//! (`fuzz/fuzz_targets/frame.rs`) and the stable replay of its corpus (an integration
//! test) run the same code: an input that crashed once stays a test case.
//!
//! Frames come from the network, so besides "never panics" it checks that parsing is
//! deterministic, that a refusal has a metric reason, and that an accepted notification
//! names a known topic and serialises (the reactor turns it into events).

use super::{Frame, TopicKind, parse_frame};

/// Runs one input; panics only on a broken invariant (that is the finding).
pub fn frame_input(data: &[u8]) {
    // The websocket hands text frames over as `str`: invalid UTF-8 never reaches the parser.
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let first = parse_frame(text);
    assert_eq!(first, parse_frame(text), "parse_frame is not deterministic");
    match first {
        Err(e) => assert!(!e.reason().is_empty(), "a refusal without a reason: {e:?}"),
        Ok(Frame::Notification { topic, notification }) => {
            assert!(!topic.is_empty(), "a notification without a topic");
            assert!(
                !matches!(TopicKind::of(&topic), TopicKind::Unknown),
                "accepted an unknown topic {topic:?}"
            );
            let _ = notification.kind();
            serde_json::to_value(&notification).expect("a parsed notification serialises");
        }
        Ok(Frame::Result { .. } | Frame::Heartbeat | Frame::Pong) => {}
    }
}
