//! `dplay train --objective …` end to end: score networks trained by the CLI drive the samplers
//! their objective supports, and nothing else.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::path::Path;

use common::{assert_clean_error, dplay};
use diffusion_playground::data::GaussianMixture;
use diffusion_playground::io::npy;
use diffusion_playground::metrics::component_weights;

fn path(p: &Path) -> String {
    p.display().to_string()
}

fn assert_ok(out: &std::process::Output) {
    assert!(
        out.status.success(),
        "dplay failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn two_modes() -> String {
    path(&common::repo_path("data/seeds_two_modes.json"))
}

/// NCSN on the seeds' ⅕/⅘ mixture with NCSN's toy levels (σ from 20 to 1, Song & Ermon 2019,
/// §4.3): annealed Langevin and the VE probability-flow ODE, both driven by the trained network,
/// recover the weights.
#[test]
fn ncsn_network_drives_annealed_langevin_and_the_ve_ode() {
    let d = common::scratch("cli_objectives", "ncsn");
    let model = path(&d.join("model"));
    let train = [
        "train",
        "--data",
        &two_modes(),
        "--out",
        &model,
        "--objective",
        "ncsn",
        "--sigma-min",
        "1",
        "--sigma-max",
        "20",
        "--levels",
        "10",
        "--steps",
        "3000",
        "--batch-size",
        "256",
        "--seed",
        "3",
    ];
    assert_ok(&dplay(&train));
    let card: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("model/config.json")).unwrap())
            .unwrap();
    assert_eq!(card["parameterization"], "score");
    assert_eq!(card["train"]["objective"]["objective"], "ncsn");
    assert_eq!(card["train"]["objective"]["process"]["kind"], "ve");
    let mix = GaussianMixture::from_file(two_modes()).unwrap();
    let out = path(&d.join("x.npy"));
    // The sampling SE of a weight at n = 2000 is √(0.2·0.8/2000) ≈ 0.009; the rest of each
    // allowance is the network's error after a short run. Annealed Langevin corrects score errors
    // with its Langevin steps (0.05); the deterministic ODE carries every error in the valley
    // between the modes into the weights and gets 0.15, which still fails a sampler that drops a
    // mode or ignores the weights (0.5).
    for (tol, extra) in [
        (
            0.05,
            vec![
                "--sampler",
                "annealed-langevin",
                "--n-per-level",
                "100",
                "--eps",
                "0.1",
            ],
        ),
        (
            0.15,
            vec![
                "--sampler",
                "ode",
                "--ode-method",
                "heun",
                "--process",
                "ve",
                "--steps",
                "100",
            ],
        ),
    ] {
        let mut args = vec![
            "sample", "--model", &model, "--n", "2000", "--seed", "1", "--out", &out,
        ];
        args.extend(extra.iter().copied());
        assert_ok(&dplay(&args));
        let (x, shape) = npy::read_f32(&out).unwrap();
        assert_eq!(shape, vec![2000, 2]);
        let w = component_weights(&mix, &x).unwrap();
        assert!((w[0] - 0.2).abs() < tol, "{extra:?}: weights {w:?}");
    }
    // Its levels are fixed by training; a DDPM-only sampler is refused.
    let mut args = vec![
        "sample",
        "--model",
        &model,
        "--out",
        &out,
        "--sampler",
        "annealed-langevin",
    ];
    args.extend(["--sigma-max", "3"]);
    assert_clean_error(&dplay(&args), "drop --sigma-min/--sigma-max");
    let args = [
        "sample",
        "--model",
        &model,
        "--out",
        &out,
        "--sampler",
        "annealed-langevin",
        "--levels",
        "4",
    ];
    assert_clean_error(&dplay(&args), "trained on 10 levels; drop --levels");
    // DDIM runs on any Gaussian marginal, VE's too (as on the page); a VP-only sampler is
    // refused by name.
    let args = [
        "sample",
        "--model",
        &model,
        "--out",
        &out,
        "--n",
        "50",
        "--sampler",
        "ddim",
        "--steps",
        "5",
    ];
    assert_ok(&dplay(&args));
    assert_eq!(npy::read_f32(&out).unwrap().1, vec![50, 2]);
    let args = [
        "sample",
        "--model",
        &model,
        "--out",
        &out,
        "--sampler",
        "ancestral",
    ];
    assert_clean_error(
        &dplay(&args),
        "ncsn objective and cannot drive --sampler ancestral",
    );
}

#[test]
fn unconditional_score_networks_drive_langevin_only() {
    let d = common::scratch("cli_objectives", "unconditional");
    let data = path(&common::repo_path("data/mixture3.json"));
    let out = path(&d.join("x.npy"));
    for objective in ["esm", "ism", "ssm", "ssm-vr", "dsm"] {
        let model = path(&d.join(objective));
        let train = [
            "train",
            "--data",
            &data,
            "--out",
            &model,
            "--objective",
            objective,
            "--steps",
            "20",
            "--batch-size",
            "64",
            "--hidden",
            "16",
            "--depth",
            "1",
        ];
        assert_ok(&dplay(&train));
        let args = [
            "sample",
            "--model",
            &model,
            "--out",
            &out,
            "--n",
            "50",
            "--sampler",
            "langevin",
            "--steps",
            "10",
        ];
        assert_ok(&dplay(&args));
        assert_eq!(npy::read_f32(&out).unwrap().1, vec![50, 2], "{objective}");
        let args = [
            "sample",
            "--model",
            &model,
            "--out",
            &out,
            "--sampler",
            "ode",
        ];
        assert_clean_error(&dplay(&args), "knows only the data score");
    }
}

#[test]
fn bad_objective_parameters_fail_cleanly() {
    let d = common::scratch("cli_objectives", "bad");
    let data = path(&common::repo_path("data/mixture3.json"));
    let model = path(&d.join("m"));
    let base = ["train", "--data", &data, "--out", &model, "--steps", "1"];
    for (extra, needle) in [
        (
            vec!["--objective", "dsm", "--sigma", "-1"],
            "σ must be non-negative",
        ),
        (
            vec!["--objective", "dsm", "--sigma", "0"],
            "only esm, ism and ssm apply",
        ),
        (
            vec![
                "--objective",
                "ncsn",
                "--sigma-min",
                "2",
                "--sigma-max",
                "1",
            ],
            "sigma_min < sigma_max",
        ),
        (
            vec!["--objective", "ncsn", "--levels", "1"],
            "at least 2 noise levels",
        ),
        (
            vec!["--objective", "ssm", "--projections", "0"],
            "at least one projection",
        ),
    ] {
        let mut args = base.to_vec();
        args.extend(extra.iter().copied());
        assert_clean_error(&dplay(&args), needle);
    }
    let mut args = base.to_vec();
    args.extend(["--objective", "score-magic"]);
    let out = dplay(&args);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("invalid value 'score-magic'"));
}
