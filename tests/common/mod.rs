//! Helpers shared by the native integration tests.
#![allow(dead_code)]

use std::path::PathBuf;

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
