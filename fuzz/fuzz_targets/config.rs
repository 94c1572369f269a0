//! The config loader: TOML + `${VAR}` expansion + validation + `check`'s masked rendering
//! (see `wfm_reactor::config::fuzzing`). Corpus: fuzz/corpus/config, seeded from
//! crates/wfm-reactor/fixtures/config and replayed by `cargo test` on stable.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    wfm_reactor::config::fuzzing::config_input(data);
});
