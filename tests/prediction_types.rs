//! diffusers' `prediction_type` and the scheduler settings around it, against
//! `../shared/reference/ref_vpred`: a v-prediction UNet (Salimans & Ho 2022) on a scaled-linear β
//! schedule whose `DDIMScheduler` has `set_alpha_to_one=False` and trailing spacing. `dplay
//! sample` reads all of it from the folder and reproduces diffusers' 10-step DDIM within 1e-3
//! (the network was trained so that this map is well conditioned: a 1e-6 change of x_T moves
//! the result by 4.5e-6).
#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::path::{Path, PathBuf};

use burn::prelude::*;
use common::{dplay, max_abs_diff, path_arg as s};
use diffusion_playground::io::npy::{self, NpyValues};
use diffusion_playground::model::unet::scheduler::SchedulerSettings;
use diffusion_playground::model::unet::UNet2D;
use diffusion_playground::model::Parameterization;
use diffusion_playground::process::VpProcess;
use diffusion_playground::sampler::{DdimEnd, DdimSampler, TimestepSpacing};
use diffusion_playground::schedule::BetaSchedule;

fn reference() -> PathBuf {
    common::reference_dir().join("ref_vpred")
}

#[test]
fn the_scheduler_config_says_v_scaled_linear_and_where_ddim_ends() {
    let settings = SchedulerSettings::read(&reference()).unwrap();
    assert_eq!(settings.prediction, Parameterization::V);
    assert_eq!(settings.schedule.kind, BetaSchedule::ScaledLinear);
    assert_eq!(settings.end, DdimEnd::FirstStep);
    assert_eq!(settings.clip, None);
    // diffusers' trailing spacing visits 999, 899, …, 99.
    let want: Vec<usize> = serde_json::from_str(
        &std::fs::read_to_string(reference().join("ddim10_timesteps.json")).unwrap(),
    )
    .unwrap();
    let vp = VpProcess::new(settings.schedule).unwrap();
    let ddim = DdimSampler::new(vp, 10, TimestepSpacing::Trailing, 0.0, None, 0).unwrap();
    assert_eq!(ddim.timesteps(), want.as_slice());
    // scaled_linear: √β linear from √0.00085 to √0.012, so β_mid = ((√β₀ + √β₁)/2)².
    let schedule = settings.schedule.build().unwrap();
    let (lo, hi) = (0.00085f64.sqrt(), 0.012f64.sqrt());
    let t = schedule.betas.len();
    for i in [0, 1, 499, 998, 999] {
        let want = (lo + (hi - lo) * i as f64 / (t - 1) as f64).powi(2);
        // float32 tables, as diffusers keeps them.
        assert!(
            (schedule.betas[i] - want).abs() < 1e-6 * want,
            "β_{i} = {} vs {want}",
            schedule.betas[i]
        );
    }
}

#[test]
fn the_v_network_forward_matches_pytorch() {
    let device = Device::flex();
    let net = UNet2D::load_diffusers(reference(), &device).unwrap();
    let (x, shape) = npy::read_f32(reference().join("forward_x.npy")).unwrap();
    let t: Vec<f32> = match npy::read(reference().join("forward_t.npy")).unwrap().0 {
        NpyValues::I64(v) => v.iter().map(|&k| k as f32).collect(),
        NpyValues::F32(v) => v,
    };
    let dims: [usize; 4] = shape.try_into().unwrap();
    let got = net
        .try_forward_at(
            Tensor::<4>::from_data(TensorData::new(x, dims), &device),
            &t,
        )
        .unwrap()
        .into_data()
        .try_into_vec::<f32>()
        .unwrap();
    let want = npy::read_f32(reference().join("forward_out.npy"))
        .unwrap()
        .0;
    let diff = max_abs_diff(&got, &want);
    assert!(diff < 1e-4, "forward: max |Δ| = {diff}");
}

#[test]
fn a_prediction_type_outside_the_three_is_refused_by_name() {
    let text = r#"{"prediction_type": "flow", "beta_schedule": "linear"}"#;
    let e = SchedulerSettings::parse(text, "scheduler_config.json")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("flow") && e.contains("v_prediction") && e.contains("scheduler_config.json"),
        "{e}"
    );
    let sample = SchedulerSettings::parse(r#"{"prediction_type": "sample"}"#, "s").unwrap();
    assert_eq!(sample.prediction, Parameterization::X0);
    let bad = SchedulerSettings::parse(r#"{"set_alpha_to_one": 1}"#, "s").unwrap_err();
    assert!(bad.to_string().contains("set_alpha_to_one"), "{bad}");
}

/// The sampler `spec` from the reference x_T with the UNet folder `model`: the final images.
fn sample(model: &Path, spec: &str, out: &Path) -> Vec<f32> {
    let r = dplay(&[
        "sample",
        "--model",
        &s(model),
        "--spec",
        spec,
        "--init",
        &s(&reference().join("ddim_xT.npy")),
        "--out",
        &s(out),
    ]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    npy::read_f32(out).unwrap().0
}

/// diffusers' DDIMScheduler of the reference: 10 trailing steps, η = 0.
const DDIM10: &str = r#"{"kind": "ddim", "steps": 10, "eta": 0, "spacing": "trailing"}"#;

#[test]
fn ddim_with_a_v_prediction_unet_matches_diffusers() {
    let d = common::scratch("prediction_types", "ddim10");
    let got = sample(&reference(), DDIM10, &d.join("x0.npy"));
    let want = npy::read_f32(reference().join("ddim10_x0.npy")).unwrap().0;
    let diff = max_abs_diff(&got, &want);
    assert!(diff <= 1e-3, "max |Δ| = {diff}");
    // The settings matter at this tolerance: ending on the clean data (a spec's own choice
    // overrides the scheduler's) or visiting other steps, the same network lands elsewhere.
    for (spec, what) in [
        (
            r#"{"kind": "ddim", "steps": 10, "eta": 0, "spacing": "trailing", "end": "data"}"#,
            "ending on the data",
        ),
        (
            r#"{"kind": "ddim", "steps": 10, "eta": 0, "spacing": "leading"}"#,
            "leading spacing",
        ),
    ] {
        let other = max_abs_diff(&sample(&reference(), spec, &d.join("other.npy")), &want);
        assert!(other > 1e-2, "{what}: still within {other} of diffusers");
    }
    // Read as an ε-network (the same folder with prediction_type epsilon) it still samples,
    // but elsewhere.
    let eps_dir = d.join("as_epsilon");
    std::fs::create_dir_all(&eps_dir).unwrap();
    for f in ["config.json", "diffusion_pytorch_model.safetensors"] {
        std::fs::copy(reference().join(f), eps_dir.join(f)).unwrap();
    }
    let config = std::fs::read_to_string(reference().join("scheduler_config.json")).unwrap();
    std::fs::write(
        eps_dir.join("scheduler_config.json"),
        config.replace("\"v_prediction\"", "\"epsilon\""),
    )
    .unwrap();
    let other = max_abs_diff(&sample(&eps_dir, DDIM10, &d.join("as_epsilon.npy")), &want);
    assert!(other > 1e-2, "read as ε: still within {other} of diffusers");
}
