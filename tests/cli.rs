//! `dplay` on bad input: an error message, a non-zero exit, never a panic or a backtrace.
//! And on good input: train writes a model folder that `sample` reads.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::{assert_clean_error, dplay};

use std::path::Path;

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.to_string_lossy().into_owned()
}

const GOOD: &str = r#"{"weights": [0.3, 0.7], "means": [[-2, 0], [2, 0]], "covs": [[[1, 0], [0, 1]], [[0.5, 0.1], [0.1, 0.5]]]}"#;

fn train_args<'a>(data: &'a str, out: &'a str) -> Vec<&'a str> {
    vec![
        "train",
        "--data",
        data,
        "--out",
        out,
        "--steps",
        "5",
        "--batch-size",
        "16",
    ]
}

#[test]
fn missing_mixture_file() {
    let d = common::scratch("cli", "missing");
    let out = d.join("m").to_string_lossy().into_owned();
    assert_clean_error(
        &dplay(&train_args("/nonexistent/mix.json", &out)),
        "cannot read /nonexistent/mix.json",
    );
}

#[test]
fn malformed_mixture_json() {
    let d = common::scratch("cli", "malformed");
    let f = write(
        &d,
        "mix.json",
        r#"{"weights": [0.5, 0.5], "means": [[0, 0]"#,
    );
    let out = d.join("m").to_string_lossy().into_owned();
    assert_clean_error(&dplay(&train_args(&f, &out)), "not a mixture JSON");
    let f = write(
        &d,
        "mix2.json",
        r#"{"weights": [1.0], "means": [[0, 0]], "covariances": []}"#,
    );
    assert_clean_error(&dplay(&train_args(&f, &out)), "not a mixture JSON");
}

#[test]
fn weights_not_summing_to_one() {
    let d = common::scratch("cli", "weights");
    let f = write(&d, "mix.json", &GOOD.replace("0.7", "0.8"));
    let out = d.join("m").to_string_lossy().into_owned();
    assert_clean_error(&dplay(&train_args(&f, &out)), "sum to 1.1");
}

#[test]
fn covariance_not_positive_definite() {
    let d = common::scratch("cli", "cov");
    let f = write(
        &d,
        "mix.json",
        &GOOD.replace("[[0.5, 0.1], [0.1, 0.5]]", "[[1, 2], [2, 1]]"),
    );
    let out = d.join("m").to_string_lossy().into_owned();
    assert_clean_error(
        &dplay(&train_args(&f, &out)),
        "covariance 1 is not positive definite",
    );
    let f = write(
        &d,
        "mix2.json",
        &GOOD.replace("[[0.5, 0.1], [0.1, 0.5]]", "[[0.5, 0.1], [0.3, 0.5]]"),
    );
    assert_clean_error(
        &dplay(&train_args(&f, &out)),
        "covariance 1 is not symmetric",
    );
}

#[test]
fn zero_diffusion_steps() {
    let d = common::scratch("cli", "t0");
    let f = write(&d, "mix.json", GOOD);
    let out = d.join("m").to_string_lossy().into_owned();
    let mut args = train_args(&f, &out);
    args.extend(["--timesteps", "0"]);
    assert_clean_error(&dplay(&args), "diffusion steps T must be at least 1");
}

#[test]
fn training_options_out_of_their_range() {
    let d = common::scratch("cli", "range");
    let f = write(&d, "mix.json", GOOD);
    let out = d.join("m").to_string_lossy().into_owned();
    for (flag, value, says) in [
        ("--batch-size", "0", "batch_size = 0 must lie in [1, 65536]"),
        (
            "--hidden",
            "100000",
            "hidden = 100000 must lie in [1, 1024]",
        ),
        ("--lr", "5", "lr = 5 must lie in [0.000001, 1]"),
    ] {
        let mut args = vec!["train", "--data", &f, "--out", &out, "--steps", "5"];
        args.extend([flag, value]);
        assert_clean_error(&dplay(&args), says);
    }
}

#[test]
fn unwritable_output_path() {
    let d = common::scratch("cli", "unwritable");
    let f = write(&d, "mix.json", GOOD);
    // A path under a regular file can never be created, whoever runs the test (root included).
    let blocker = write(&d, "file", "");
    let out = format!("{blocker}/model");
    assert_clean_error(&dplay(&train_args(&f, &out)), "cannot write");
    // Sampling to an unwritable .npy fails before any work.
    let out = dplay(&[
        "sample",
        "--model",
        "/nonexistent",
        "--out",
        &format!("{blocker}/x.npy"),
    ]);
    assert_clean_error(&out, "cannot write");
}

#[test]
fn unknown_option_value_is_rejected() {
    let out = dplay(&[
        "train",
        "--data",
        "x",
        "--out",
        "y",
        "--schedule",
        "quadratic",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("invalid value 'quadratic'"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn train_then_sample_round_trip() {
    let d = common::scratch("cli", "roundtrip");
    let f = write(&d, "mix.json", GOOD);
    let model = d.join("model").to_string_lossy().into_owned();
    let out = dplay(&train_args(&f, &model));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(Path::new(&model).join("model.safetensors").is_file());
    let card: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(Path::new(&model).join("config.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(card["trained_steps"], 5);
    assert_eq!(card["train"]["batch_size"], 16);
    assert_eq!(card["data"]["weights"][1], 0.7);

    let npy = d.join("x.npy").to_string_lossy().into_owned();
    let out = dplay(&["sample", "--model", &model, "--n", "7", "--out", &npy]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (x, shape) = diffusion_playground::io::npy::read_f32(&npy).unwrap();
    assert_eq!(shape, vec![7, 2]);
    assert!(x.iter().all(|v| v.is_finite()));
}

#[test]
fn sample_reports_a_corrupt_model_folder() {
    let d = common::scratch("cli", "corrupt");
    write(&d, "config.json", "{}");
    write(&d, "model.safetensors", "garbage");
    let out = dplay(&[
        "sample",
        "--model",
        &d.to_string_lossy(),
        "--out",
        &d.join("x.npy").to_string_lossy(),
    ]);
    assert_clean_error(&out, "config.json");
}
