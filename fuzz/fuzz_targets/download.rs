//! The download decoder: gzip or plain body, decoded-size cap, streaming JSON into the
//! agent-schedule models and their canonical form (see `wfm_reactor::wfm::fuzzing`).
//! Corpus: fuzz/corpus/download, hand-made seeds (plain and gzip), replayed on stable.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    wfm_reactor::wfm::fuzzing::download_input(data);
});
