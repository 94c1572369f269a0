//! The notification frame parser: one websocket text frame through `parse_frame`
//! (see `wfm_reactor::topics::fuzzing`). Corpus: fuzz/corpus/frame, seeded from
//! crates/wfm-reactor/fixtures/frames and replayed by `cargo test` on stable.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    wfm_reactor::topics::fuzzing::frame_input(data);
});
