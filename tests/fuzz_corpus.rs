//! The fuzz corpus replayed: every input under `fuzz/corpus/<target>/` (the seeds and what
//! `./build.sh fuzz` kept for reaching new code) and under `fuzz/regressions/<target>/` (inputs
//! that once crashed a parser) runs through its parser again, which must return, never panic.
//! Each target has a corpus.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use diffusion_playground::fuzz_targets::{run, TARGETS};

#[test]
fn every_corpus_input_returns_without_a_panic() {
    let (corpus, regressions) = (
        common::repo_path("fuzz/corpus"),
        common::repo_path("fuzz/regressions"),
    );
    let mut total = 0;
    for target in TARGETS {
        let dir = corpus.join(target);
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.unwrap().path())
            .collect();
        assert!(!files.is_empty(), "{target} has no corpus");
        if let Ok(read) = std::fs::read_dir(regressions.join(target)) {
            files.extend(read.map(|e| e.unwrap().path()));
        }
        for f in &files {
            let bytes = std::fs::read(f).unwrap();
            let outcome = std::panic::catch_unwind(|| run(target, &bytes));
            match outcome {
                Ok(Ok(())) => {}
                Ok(Err(e)) => panic!("unknown target {e:?}"),
                Err(_) => panic!("{target} panicked on {}", f.display()),
            }
        }
        total += files.len();
    }
    println!("{total} corpus inputs over {} targets", TARGETS.len());
}
