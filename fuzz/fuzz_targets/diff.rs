//! The canonical form + diff: two agent-schedule answers canonicalised, hashed and diffed,
//! with the diff's properties checked (see `wfm_reactor::diff::fuzzing`). Corpus:
//! fuzz/corpus/diff, hand-made seeds, replayed by `cargo test` on stable.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    wfm_reactor::diff::fuzzing::diff_input(data);
});
