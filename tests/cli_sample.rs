//! `dplay sample` with every sampler and score source, `dplay schedule` for every process,
//! `dplay experiment`, and their bad inputs: a one-line error and a non-zero exit, never a panic.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::{assert_clean_error, dplay};

use std::path::Path;
use std::process::Output;

use diffusion_playground::data::GaussianMixture;
use diffusion_playground::io::npy;
use diffusion_playground::metrics::component_weights;

fn path(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

fn mixture3() -> String {
    path(&common::repo_path("data/mixture3.json"))
}

fn assert_ok(out: &Output) {
    assert!(
        out.status.success(),
        "expected success; stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn sample_args<'a>(out: &'a str, sampler: &'a str) -> Vec<&'a str> {
    vec![
        "sample",
        "--data",
        "",
        "--sampler",
        sampler,
        "--n",
        "50",
        "--out",
        out,
    ]
}

#[test]
fn every_sampler_runs_on_the_oracle_by_name() {
    let d = common::scratch("cli_sample", "names");
    let data = mixture3();
    for (sampler, extra) in [
        ("ancestral", vec!["--steps", "100"]),
        (
            "ddim",
            vec!["--steps", "20", "--eta", "0.5", "--spacing", "trailing"],
        ),
        ("langevin", vec!["--steps", "50", "--eps", "0.05"]),
        (
            "annealed-langevin",
            vec!["--levels", "4", "--n-per-level", "10"],
        ),
        ("euler-maruyama", vec!["--steps", "50", "--process", "ve"]),
        (
            "pc",
            vec!["--steps", "50", "--snr", "0.1", "--process", "sub-vp"],
        ),
        ("ode", vec!["--steps", "50", "--ode-method", "euler"]),
        (
            "ode",
            vec!["--steps", "20", "--process", "ve", "--sigma-max", "20"],
        ),
    ] {
        let out = path(&d.join(format!("{sampler}.npy")));
        let mut args = sample_args(&out, sampler);
        args[2] = &data;
        args.extend(extra);
        assert_ok(&dplay(&args));
        let (x, shape) = npy::read_f32(&out).unwrap();
        assert_eq!(shape, vec![50, 2], "{sampler}");
        assert!(x.iter().all(|v| v.is_finite()), "{sampler}");
    }
}

#[test]
fn oracle_ancestral_with_few_steps_walks_the_vp_sde_chain() {
    // T = 200 steps with β_i from 0.1/T to 20/T (the VP SDE's own chain, ᾱ_T ≈ e^{-10}); with
    // n = 2000 a weight has SE ≤ √(0.25/2000) = 0.011, so 0.05 allows ~4.5 SE for sampling noise
    // plus the chain's coarser discretisation.
    let d = common::scratch("cli_sample", "few");
    let data = mixture3();
    let out = path(&d.join("x.npy"));
    let args = [
        "sample",
        "--data",
        &data,
        "--sampler",
        "ancestral",
        "--steps",
        "200",
        "--n",
        "2000",
        "--seed",
        "3",
        "--out",
        &out,
    ];
    assert_ok(&dplay(&args));
    let (x, _) = npy::read_f32(&out).unwrap();
    let mix = GaussianMixture::from_file(&data).unwrap();
    let w = component_weights(&mix, &x).unwrap();
    for (k, (got, want)) in w.iter().zip(mix.weights()).enumerate() {
        assert!((got - want).abs() < 0.05, "weight {k}: {got} vs {want}");
    }
    // T = 10 would need β_T = 2 > 1: a clean error, not a broken chain.
    let mut bad = args.to_vec();
    bad[6] = "10";
    assert_clean_error(&dplay(&bad), "beta_end < 1");
}

#[test]
fn init_sets_the_starting_points() {
    let d = common::scratch("cli_sample", "init");
    let data = mixture3();
    let init = path(&d.join("xT.npy"));
    let x_t: Vec<f32> = (0..14).map(|i| i as f32 * 0.1 - 0.7).collect();
    npy::write_f32(&init, &x_t, &[7, 2]).unwrap();
    let out = path(&d.join("x.npy"));
    let args = [
        "sample",
        "--data",
        &data,
        "--sampler",
        "ode",
        "--steps",
        "10",
        "--init",
        &init,
        "--out",
        &out,
    ];
    assert_ok(&dplay(&args));
    let (x, shape) = npy::read_f32(&out).unwrap();
    assert_eq!(shape, vec![7, 2]);
    // The ODE is deterministic: the same x_T gives the same samples whatever the seed.
    let out2 = path(&d.join("x2.npy"));
    let mut args2 = args.to_vec();
    args2[10] = &out2;
    args2.extend(["--seed", "5"]);
    assert_ok(&dplay(&args2));
    assert_eq!(npy::read_f32(&out2).unwrap().0, x);
    // --n disagreeing with --init's rows is an error.
    let mut bad = args.to_vec();
    bad.extend(["--n", "8"]);
    assert_clean_error(&dplay(&bad), "disagrees");
}

#[test]
fn bad_sample_inputs_fail_cleanly() {
    let d = common::scratch("cli_sample", "bad");
    let data = mixture3();
    let out = path(&d.join("x.npy"));
    let run = |sampler: &str, extra: &[&str]| {
        let mut args = vec![
            "sample",
            "--data",
            &data,
            "--sampler",
            sampler,
            "--n",
            "10",
            "--out",
            &out,
        ];
        args.extend(extra);
        dplay(&args)
    };

    // Unknown sampler: named, with the catalogue's names as the command line spells them.
    let o = run("metropolis", &[]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(err.contains("unknown sampler 'metropolis'"), "{err}");
    assert!(err.contains("annealed-langevin"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    // A flag that is not an option of the sampler is refused, naming the options it has.
    assert_clean_error(
        &run("langevin", &["--eta", "0.5"]),
        "--eta is not an option of the langevin sampler (its options: steps, step_size)",
    );

    assert_clean_error(
        &run("ddim", &["--steps", "0"]),
        "--steps must be at least 1",
    );
    assert_clean_error(
        &run("euler-maruyama", &["--steps", "0"]),
        "--steps must be at least 1",
    );
    assert_clean_error(&run("langevin", &["--eps", "-0.1"]), "must be positive");
    assert_clean_error(
        &run("annealed-langevin", &["--eps", "0"]),
        "must be positive",
    );
    assert_clean_error(
        &run(
            "annealed-langevin",
            &["--sigma-min", "2", "--sigma-max", "1"],
        ),
        "sigma_min",
    );
    assert_clean_error(
        &run(
            "euler-maruyama",
            &["--process", "ve", "--sigma-min", "1", "--sigma-max", "1"],
        ),
        "sigma_min",
    );
    assert_clean_error(&run("ddim", &["--eta", "1.5"]), "η must lie in [0, 1]");
    assert_clean_error(&run("pc", &["--snr", "-1"]), "snr");
    assert_clean_error(&run("ode", &["--t-end", "0"]), "end time");

    let nan = path(&d.join("nan.npy"));
    npy::write_f32(&nan, &[0.0, 1.0, f32::NAN, 2.0], &[2, 2]).unwrap();
    assert_clean_error(
        &run("ddim", &["--init", &nan]),
        "non-finite value (NaN) in row 1",
    );

    let wide = path(&d.join("wide.npy"));
    npy::write_f32(&wide, &[0.0; 15], &[5, 3]).unwrap();
    assert_clean_error(
        &run("ddim", &["--init", &wide]),
        "the data have dimension 2",
    );
    let flat = path(&d.join("flat.npy"));
    npy::write_f32(&flat, &[0.0; 4], &[4]).unwrap();
    assert_clean_error(&run("ddim", &["--init", &flat]), "expected [n, 2]");

    // A score source is required, and an oracle needs its data.
    assert_clean_error(&dplay(&["sample", "--out", &out]), "--model DIR");
    assert_clean_error(
        &dplay(&["sample", "--score", "oracle", "--out", &out]),
        "--score oracle needs --data",
    );
}

#[test]
fn trained_model_drives_ddim_and_the_sde_samplers() {
    let d = common::scratch("cli_sample", "model");
    let model = path(&d.join("model"));
    let train = [
        "train",
        "--data",
        &mixture3(),
        "--out",
        &model,
        "--steps",
        "5",
        "--batch-size",
        "16",
        "--timesteps",
        "100",
    ];
    assert_ok(&dplay(&train));
    let out = path(&d.join("x.npy"));
    for extra in [
        vec!["--sampler", "ddim", "--steps", "10"],
        vec!["--sampler", "ode", "--steps", "5"],
        vec!["--sampler", "euler-maruyama", "--steps", "5"],
        vec!["--sampler", "ancestral"],
    ] {
        let mut args = vec!["sample", "--model", &model, "--n", "9", "--out", &out];
        args.extend(extra.iter().copied());
        assert_ok(&dplay(&args));
        assert_eq!(npy::read_f32(&out).unwrap().1, vec![9, 2], "{extra:?}");
    }
    let mut args = vec!["sample", "--model", &model, "--out", &out];
    args.extend(["--sampler", "annealed-langevin"]);
    assert_clean_error(
        &dplay(&args),
        "ddpm objective and cannot drive --sampler annealed-langevin",
    );
    let args = ["sample", "--model", &model, "--out", &out, "--steps", "7"];
    assert_clean_error(
        &dplay(&args),
        "--steps is not an option of the ancestral sampler",
    );
}

#[test]
fn schedule_prints_every_process() {
    let json = |args: &[&str]| -> serde_json::Value {
        let out = dplay(args);
        assert_ok(&out);
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let v = json(&["schedule", "--process", "vp", "--json"]);
    assert_eq!(v["betas"].as_array().unwrap().len(), 1000);
    let v = json(&["schedule", "--process", "ve", "--levels", "5", "--json"]);
    let s = v["sigmas"].as_array().unwrap();
    assert_eq!(s.len(), 5);
    assert!((s[0].as_f64().unwrap() - 0.01).abs() < 1e-12);
    assert!((s[4].as_f64().unwrap() - 50.0).abs() < 1e-9);
    for p in ["vp", "ve", "sub-vp"] {
        let v = json(&[
            "schedule",
            "--process",
            p,
            "--continuous",
            "--steps",
            "11",
            "--json",
        ]);
        assert_eq!(v["std"].as_array().unwrap().len(), 11, "{p}");
    }
    assert_ok(&dplay(&["schedule", "--process", "ve", "--continuous"]));
    assert_clean_error(&dplay(&["schedule", "--process", "sub-vp"]), "--continuous");
    assert_clean_error(
        &dplay(&[
            "schedule",
            "--process",
            "ve",
            "--sigma-min",
            "3",
            "--sigma-max",
            "2",
        ]),
        "sigma_min",
    );
}

#[test]
fn experiment_langevin_vs_annealed_reports_json() {
    let out = dplay(&[
        "experiment",
        "langevin-vs-annealed",
        "--seed",
        "4",
        "--n",
        "400",
        "--json",
    ]);
    assert_ok(&out);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["config"]["seed"], 4);
    for key in ["true_weights", "langevin_weights", "annealed_weights"] {
        let w: f64 = v[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .sum();
        assert!((w - 1.0).abs() < 1e-9, "{key} sums to {w}");
    }
    let e = dplay(&["experiment", "langevin-vs-annealed", "--n", "0"]);
    assert_clean_error(&e, "--n must be at least 1");
    let e = dplay(&["experiment", "low-density-error", "--train-steps", "0"]);
    assert_clean_error(&e, "steps");
}

#[test]
fn experiment_low_density_error_reports_json() {
    let out = dplay(&["experiment", "low-density-error", "--seed", "2", "--json"]);
    assert_ok(&out);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["config"]["seed"], 2);
    assert!(!v["bins"].as_array().unwrap().is_empty());
    let (high, low) = (
        v["high_density_error"].as_f64().unwrap(),
        v["low_density_error"].as_f64().unwrap(),
    );
    // The seeds' point (a): the learned score is far worse where the data never reach.
    assert!(
        low > 10.0 * high,
        "low-density error {low} vs high-density error {high}"
    );
}

#[test]
fn bench_times_every_sampler_with_the_oracle_and_the_mlp() {
    let out = dplay(&[
        "bench",
        "--n",
        "64",
        "--steps",
        "2",
        "--device",
        "flex",
        "--train-steps",
        "2",
        "--train-batch",
        "16",
    ]);
    assert_ok(&out);
    let text = String::from_utf8_lossy(&out.stdout);
    // The machine is named, and the MLP's training steps/s per objective follow the samplers.
    assert!(text.lines().any(|l| l.starts_with("machine: ")), "{text}");
    for objective in ["ddpm", "ncsn", "dsm", "ssm", "ism", "esm"] {
        let row = text
            .lines()
            .find(|l| l.split_whitespace().take(2).eq(["train", objective]))
            .unwrap_or_else(|| panic!("no training row for {objective} in:\n{text}"));
        let rate: f64 = row.split_whitespace().nth(3).unwrap().parse().unwrap();
        assert!(rate > 0.0 && rate.is_finite(), "{row}");
    }
    let out = dplay(&["bench", "--objective", "telepathy"]);
    assert_clean_error(&out, "unknown objective 'telepathy'");
    for sampler in [
        "ancestral",
        "ddim-eta0",
        "ddim-eta1",
        "langevin",
        "annealed-langevin",
        "euler-maruyama",
        "pc",
        "ode-euler",
        "ode-heun",
    ] {
        for score in ["oracle", "mlp"] {
            let row = text
                .lines()
                .find(|l| l.split_whitespace().take(2).eq([sampler, score]))
                .unwrap_or_else(|| panic!("no {sampler}/{score} row in:\n{text}"));
            let rate: f64 = row.split_whitespace().nth(3).unwrap().parse().unwrap();
            assert!(rate > 0.0 && rate.is_finite(), "{row}");
        }
    }
    let out = dplay(&["bench", "--sampler", "warp-drive"]);
    assert_clean_error(&out, "unknown sampler 'warp-drive'");
}

/// Sampling streams chunk by chunk, so memory is flat in `--n`: a million points under a 64 MiB
/// budget, which one walk of them all (≈ 416 MB) would break. The first chunk is what `--n` of
/// one chunk gives; later chunks draw their own streams, and every chunk has the mixture's
/// weights. Each chunk's weight estimate from 30000 points has sd ≤ √(0.25/30000) ≈ 0.003 (DDIM
/// at 25 steps on the exact score adds a bias of about 0.01 on this mixture); 0.03 is ≥ 7 sd.
#[test]
fn sampling_streams_in_chunks_with_flat_memory() {
    let dir = common::scratch("cli_sample", "chunks");
    let (all, one) = (dir.join("all.npy"), dir.join("one.npy"));
    let ddim = ["--sampler", "ddim", "--steps", "25", "--seed", "3"];
    let sample = |n: &str, chunk: &str, out: &Path, memory: &str| {
        let (m, out_s) = (mixture3(), path(out));
        let mut args = vec!["sample", "--data", &m, "--n", n, "--chunk", chunk];
        args.extend(ddim);
        args.extend(["--out", &out_s]);
        std::process::Command::new(env!("CARGO_BIN_EXE_dplay"))
            .args(&args)
            .env("DPLAY_MEMORY", memory)
            .output()
            .unwrap()
    };
    assert_ok(&sample("70000", "30000", &all, "64M"));
    assert_ok(&sample("30000", "30000", &one, "64M"));
    let (x, shape) = npy::read_f32(&all).unwrap();
    assert_eq!(shape, vec![70000, 2]);
    assert!(x.iter().all(|v| v.is_finite()));
    let (first, _) = npy::read_f32(&one).unwrap();
    assert_eq!(
        &x[..60000],
        &first[..],
        "the first chunk is --n of one chunk"
    );
    assert_ne!(
        &x[..20000],
        &x[60000..80000],
        "chunks draw their own streams"
    );
    let mix = GaussianMixture::from_file(common::repo_path("data/mixture3.json")).unwrap();
    for (k, rows) in [(0, 0..30000), (1, 30000..60000)] {
        let w = component_weights(&mix, &x[rows.start * 2..rows.end * 2]).unwrap();
        for (got, want) in w.iter().zip(mix.weights()) {
            assert!((got - want).abs() < 0.03, "chunk {k}: weights {w:?}");
        }
    }
    // A million points fit 64 MiB in chunks of 65536; in one chunk they do not, and the error
    // says what would.
    let big = dir.join("big.npy");
    assert_ok(&sample("1000000", "65536", &big, "64M"));
    assert_eq!(npy::read_f32(&big).unwrap().1, vec![1_000_000, 2]);
    let refused = sample("1000000", "1000000", &big, "64M");
    assert_clean_error(&refused, "points at once would fit (--chunk");
}
