//! Helpers shared by the native integration tests.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Command, Output};

/// `../shared/reference` beside the checkout, or `$DPLAY_REFERENCE_DIR`.
/// Missing reference data is a test failure, never a skip.
pub fn reference_dir() -> PathBuf {
    let dir = std::env::var_os("DPLAY_REFERENCE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/reference"));
    assert!(
        dir.join("sched_ref.json").is_file(),
        "reference data not found in {}; set DPLAY_REFERENCE_DIR to the folder holding sched_ref.json",
        dir.display()
    );
    dir
}

pub fn repo_path(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// Sample mean and (unbiased) variance of column `c` of a row-major `[n, d]` array.
pub fn column_moments(x: &[f32], d: usize, c: usize) -> (f64, f64) {
    let n = x.len() / d;
    let mean = (0..n).map(|i| x[i * d + c] as f64).sum::<f64>() / n as f64;
    let var = (0..n)
        .map(|i| (x[i * d + c] as f64 - mean).powi(2))
        .sum::<f64>()
        / (n - 1) as f64;
    (mean, var)
}

/// A path as a command-line argument.
pub fn path_arg(p: &std::path::Path) -> String {
    p.to_string_lossy().into_owned()
}

/// The largest elementwise `|a − b|` of two arrays of one length.
pub fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

/// Run the `dplay` binary with a backtrace requested, so a panic would show one.
pub fn dplay(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dplay"))
        .args(args)
        .env("RUST_BACKTRACE", "1")
        .output()
        .expect("run dplay")
}

/// A fresh, empty scratch folder for one test.
pub fn scratch(group: &str, name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(group)
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Fails with an `error: ...` message containing `needle`, and nothing panicked.
pub fn assert_clean_error(out: &Output, needle: &str) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "expected failure, got success; stderr: {err}"
    );
    assert!(
        err.starts_with("error: "),
        "stderr should start with 'error: ': {err}"
    );
    assert!(
        err.contains(needle),
        "stderr should mention '{needle}': {err}"
    );
    for bad in ["panicked", "backtrace", "RUST_BACKTRACE", "internal error"] {
        assert!(!err.contains(bad), "stderr shows a panic ({bad}): {err}");
    }
}
