//! The diffusers `UNet2DModel` reference (`../shared/reference/ref_small_unet`, made with
//! PyTorch 2.11 and diffusers 0.42.1), through the `dplay` binary as a user runs it:
//! `dplay predict` against `model(x, t).sample`, and `dplay sample --sampler ddim` against
//! `DDIMScheduler` (linear 1e-4..0.02, clip_sample, set_alpha_to_one, leading, η = 0).
#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::path::{Path, PathBuf};

use common::{dplay, max_abs_diff, path_arg as s};
use diffusion_playground::io::npy;
use diffusion_playground::sampler::{ddim_timesteps, TimestepSpacing};

fn reference() -> PathBuf {
    common::reference_dir().join("ref_small_unet")
}

fn assert_ok(out: &std::process::Output) {
    assert!(
        out.status.success(),
        "dplay failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn predict_matches_diffusers_forward() {
    let r = reference();
    let d = common::scratch("unet_reference", "predict");
    let out = d.join("y.npy");
    assert_ok(&dplay(&[
        "predict",
        "--model",
        &s(&r),
        "--x",
        &s(&r.join("forward_x.npy")),
        "--t",
        &s(&r.join("forward_t.npy")),
        "--out",
        &s(&out),
    ]));
    let (y, shape) = npy::read_f32(&out).unwrap();
    let (want, want_shape) = npy::read_f32(r.join("forward_out.npy")).unwrap();
    assert_eq!(shape, want_shape);
    let err = max_abs_diff(&y, &want);
    assert!(err <= 1e-4, "max |Δ| = {err:e} against diffusers' forward");
    // The output is not trivially small: the comparison would catch a wrong network.
    let scale = want.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    assert!(scale > 0.1, "reference output scale {scale}");
}

/// `dplay sample --sampler ddim --eta 0` from `init` with `steps` (and `extra` flags).
fn run_ddim(name: &str, init: &Path, steps: usize, extra: &[&str]) -> Vec<f32> {
    let d = common::scratch("unet_reference", name);
    let out = d.join("x0.npy");
    let steps_s = steps.to_string();
    let mut args = vec![
        "sample".to_string(),
        "--model".into(),
        s(&reference()),
        "--sampler".into(),
        "ddim".into(),
        "--steps".into(),
        steps_s,
        "--eta".into(),
        "0".into(),
        "--init".into(),
        s(init),
        "--out".into(),
        s(&out),
    ];
    args.extend(extra.iter().map(|e| e.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    assert_ok(&dplay(&args));
    let (x0, shape) = npy::read_f32(&out).unwrap();
    assert_eq!(shape, vec![4, 1, 28, 28]);
    x0
}

fn reference_ddim(steps: usize) -> Vec<f32> {
    let r = reference();
    let want_t: Vec<usize> = serde_json::from_str(
        &std::fs::read_to_string(r.join(format!("ddim{steps}_timesteps.json"))).unwrap(),
    )
    .unwrap();
    assert_eq!(
        ddim_timesteps(1000, steps, TimestepSpacing::Leading).unwrap(),
        want_t
    );
    npy::read_f32(r.join(format!("ddim{steps}_x0.npy")))
        .unwrap()
        .0
}

/// x_T scaled by `1 + rel`, written to a scratch file.
fn perturbed_init(name: &str, rel: f32) -> PathBuf {
    let (x, shape) = npy::read_f32(reference().join("ddim_xT.npy")).unwrap();
    let p = common::scratch("unet_reference", name).join("xT.npy");
    let x: Vec<f32> = x.iter().map(|v| v * (1.0 + rel)).collect();
    npy::write_f32(&p, &x, &shape).unwrap();
    p
}

fn mean_std(x: &[f32]) -> (f64, f64) {
    let n = x.len() as f64;
    let m = x.iter().map(|v| *v as f64).sum::<f64>() / n;
    let v = x.iter().map(|v| (*v as f64 - m).powi(2)).sum::<f64>() / n;
    (m, v.sqrt())
}

/// Ten deterministic DDIM steps agree with diffusers pixel by pixel. The bound is 2e-3, not
/// the reference README's 1e-3: this random network's DDIM map is chaotic (see
/// `ddim_trajectories_of_the_reference_network_are_chaotic`): scaling x_T by 1 + 1e-6 moves our
/// own 10-step result by ~1.8e-3, and the network itself agrees with PyTorch only to ~2e-6
/// relative (float32 summation order), so ~1e-3 is the floor any non-bit-identical
/// implementation reaches. Measured: 1.12e-3 max, 5e-5 median.
#[test]
fn ddim10_matches_diffusers() {
    let want = reference_ddim(10);
    let x0 = run_ddim("ddim10", &reference().join("ddim_xT.npy"), 10, &[]);
    let err = max_abs_diff(&x0, &want);
    assert!(err <= 2e-3, "DDIM 10: max |Δ| = {err:e} against diffusers");
    let mut errs: Vec<f32> = x0.iter().zip(&want).map(|(a, b)| (a - b).abs()).collect();
    errs.sort_by(f32::total_cmp);
    let median = errs[errs.len() / 2];
    assert!(median <= 2e-4, "DDIM 10: median |Δ| = {median:e}");
}

/// Fifty steps: the trajectory cannot be followed pixel by pixel (chaos, see below), so this
/// checks the timesteps and the law of the result: 3136 pixels' mean and standard deviation
/// against diffusers'. Between two of our own runs from x_T and x_T·(1+1e-6) these differ by
/// ~0.007 and ~0.002, so bounds of 0.04 and 0.02 leave room for that spread while a wrong
/// schedule, spacing or clip moves them by more.
#[test]
fn ddim50_matches_diffusers_in_law() {
    let want = reference_ddim(50);
    let x0 = run_ddim("ddim50", &reference().join("ddim_xT.npy"), 50, &[]);
    assert!(x0.iter().all(|v| v.is_finite() && v.abs() <= 1.0 + 1e-5));
    let ((m, sd), (wm, wsd)) = (mean_std(&x0), mean_std(&want));
    assert!((m - wm).abs() <= 0.04, "mean {m} vs diffusers {wm}");
    assert!((sd - wsd).abs() <= 0.02, "std {sd} vs diffusers {wsd}");
}

/// Why fifty steps cannot match to 1e-3: a relative 1e-6 change of x_T, below float32's
/// agreement between two implementations of the network, grows to O(1) in 50 DDIM steps.
/// If this ever fails the map is well conditioned and the 50-step comparison should be made
/// pixel-wise again.
#[test]
fn ddim_trajectories_of_the_reference_network_are_chaotic() {
    let base = run_ddim("chaos_base", &reference().join("ddim_xT.npy"), 50, &[]);
    let moved = run_ddim("chaos_moved", &perturbed_init("chaos_init", 1e-6), 50, &[]);
    let gap = max_abs_diff(&base, &moved);
    assert!(gap > 0.1, "50-step DDIM moved by only {gap:e}");
}

/// Without clipping the trajectory leaves diffusers' clipped one: the clip is in effect.
#[test]
fn ddim_without_clipping_differs() {
    let want = reference_ddim(10);
    let x0 = run_ddim(
        "noclip",
        &reference().join("ddim_xT.npy"),
        10,
        &["--no-clip"],
    );
    assert!(max_abs_diff(&x0, &want) > 1e-2);
}

/// Float32 timesteps give the same output as int64 ones.
#[test]
fn predict_accepts_float32_timesteps() {
    let r = reference();
    let d = common::scratch("unet_reference", "predict_f32_t");
    let t = d.join("t.npy");
    npy::write_f32(&t, &[0.0, 10.0, 500.0, 999.0], &[4]).unwrap();
    let out = d.join("y.npy");
    assert_ok(&dplay(&[
        "predict",
        "--model",
        &s(&r),
        "--x",
        &s(&r.join("forward_x.npy")),
        "--t",
        &s(&t),
        "--out",
        &s(&out),
    ]));
    let (y, _) = npy::read_f32(&out).unwrap();
    let (want, _) = npy::read_f32(r.join("forward_out.npy")).unwrap();
    assert!(max_abs_diff(&y, &want) <= 1e-4);
}

/// Without --init the images start from N(0, I) at the config's sample_size, and come out
/// clipped to [-1, 1].
#[test]
fn sample_from_the_prior_uses_sample_size() {
    let d = common::scratch("unet_reference", "prior");
    let out = d.join("x0.npy");
    assert_ok(&dplay(&[
        "sample",
        "--model",
        &s(&reference()),
        "--sampler",
        "ddim",
        "--steps",
        "3",
        "--n",
        "2",
        "--seed",
        "7",
        "--out",
        &s(&out),
    ]));
    let (x0, shape) = npy::read_f32(&out).unwrap();
    assert_eq!(shape, vec![2, 1, 28, 28]);
    assert!(x0.iter().all(|v| v.is_finite() && v.abs() <= 1.0 + 1e-5));
    assert!(x0.iter().any(|v| *v != x0[0]));
}
