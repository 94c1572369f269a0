//! The `cargo fuzz` corpora replayed on stable: every input under `fuzz/corpus/TARGET`
//! (seeds from the fixtures, plus whatever a fuzzing run kept or crashed on) goes through
//! the same function the fuzz target calls, so a crash found once stays fixed.

use std::path::{Path, PathBuf};

fn corpus(target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/corpus")
        .join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "empty corpus {}", dir.display());
    files
}

#[test]
fn config_corpus_replays_without_a_finding() {
    for input in corpus("config") {
        let data = std::fs::read(&input).unwrap();
        let outcome = std::panic::catch_unwind(|| wfm_reactor::config::fuzzing::config_input(&data));
        assert!(outcome.is_ok(), "{} fails again", input.display());
    }
}

#[test]
fn frame_corpus_replays_without_a_finding() {
    for input in corpus("frame") {
        let data = std::fs::read(&input).unwrap();
        let outcome = std::panic::catch_unwind(|| wfm_reactor::topics::fuzzing::frame_input(&data));
        assert!(outcome.is_ok(), "{} fails again", input.display());
    }
}

#[test]
fn download_corpus_replays_without_a_finding() {
    for input in corpus("download") {
        let data = std::fs::read(&input).unwrap();
        let outcome = std::panic::catch_unwind(|| wfm_reactor::wfm::fuzzing::download_input(&data));
        assert!(outcome.is_ok(), "{} fails again", input.display());
    }
}

#[test]
fn diff_corpus_replays_without_a_finding() {
    for input in corpus("diff") {
        let data = std::fs::read(&input).unwrap();
        let outcome = std::panic::catch_unwind(|| wfm_reactor::diff::fuzzing::diff_input(&data));
        assert!(outcome.is_ok(), "{} fails again", input.display());
    }
}
