//! diffusers' few-step schedulers (`../shared/reference/ref_schedulers`, diffusers 0.42.1): from
//! the same `xT.npy` and the same trained ε-UNet, `dplay sample` with DPM-Solver++ 2M, EDM's Euler
//! and Heun on Karras σ reproduces `DPMSolverMultistepScheduler`, `EulerDiscreteScheduler` and
//! `HeunDiscreteScheduler(use_karras_sigmas=True)` within 1e-3, and each sampler calls the model
//! at the timesteps diffusers did (the same σ, and the same fractional step for the network).
#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::cell::RefCell;
use std::path::PathBuf;

use burn::prelude::*;
use common::{dplay, path_arg as s};
use diffusion_playground::error::Result;
use diffusion_playground::io::npy;
use diffusion_playground::model::ScoreModel;
use diffusion_playground::process::{NoiseLevel, ProcessConfig, Time};
use diffusion_playground::sampler::{no_data, SamplerSpec, ScoreSource};

fn reference() -> PathBuf {
    common::reference_dir().join("ref_schedulers")
}

fn json<T: serde::de::DeserializeOwned>(name: &str) -> T {
    serde_json::from_str(&std::fs::read_to_string(reference().join(name)).unwrap()).unwrap()
}

const DPM: &str = r#"{"kind": "dpm_solver_pp", "steps": 10, "order": 2}"#;
const EULER: &str = r#"{"kind": "edm", "steps": 10, "rho": 7, "method": "euler", "s_churn": 0, "s_tmin": 0, "s_noise": 1}"#;
const HEUN: &str = r#"{"kind": "edm", "steps": 10, "rho": 7, "method": "heun", "s_churn": 0, "s_tmin": 0, "s_noise": 1}"#;

/// Records where it is asked (the step a network would be fed) and answers 0.
struct Recorder(RefCell<Vec<f64>>);

impl Recorder {
    fn record(&self, x: Tensor<2>, level: &NoiseLevel) -> Result<Tensor<2>> {
        self.0.borrow_mut().push(match level.time {
            Time::Step(t) => t as f64,
            Time::Continuous(t) => t * 999.0,
            Time::Flow(t) => t * 1000.0,
        });
        Ok(x.zeros_like())
    }
}

impl ScoreModel for Recorder {
    fn score(&self, x: Tensor<2>, level: &NoiseLevel) -> Result<Tensor<2>> {
        self.record(x, level)
    }

    fn denoise(&self, x: Tensor<2>, level: &NoiseLevel) -> Result<Tensor<2>> {
        self.record(x, level)
    }
}

/// `spec` on `process` calls the model at diffusers' `NAME_timesteps.json`.
fn assert_calls(name: &str, spec: &str, process: ProcessConfig) {
    let want: Vec<f64> = json(&format!("{name}_timesteps.json"));
    let rec = Recorder(RefCell::new(Vec::new()));
    let mut s = SamplerSpec::from_json(spec)
        .unwrap()
        .build_on(&process.build().unwrap(), ScoreSource::Learned, no_data, 0)
        .unwrap();
    s.reset_from_prior(2, 2, &Device::flex());
    s.run(&rec).unwrap();
    let got = rec.0.into_inner();
    assert_eq!(got.len(), want.len(), "{name}: model calls {got:?}");
    for (g, w) in got.iter().zip(&want) {
        // diffusers interpolates in float32: its steps agree to ~1e-4 of a step.
        assert!(
            (g - w).abs() < 1e-3,
            "{name}: called at {got:?}, diffusers at {want:?}"
        );
    }
}

#[test]
fn samplers_call_the_model_at_diffusers_timesteps() {
    for (name, spec) in [
        ("dpmpp2m", DPM),
        ("euler_karras", EULER),
        ("heun_karras", HEUN),
    ] {
        assert_calls(name, spec, ProcessConfig::default());
    }
}

/// `dplay sample --spec SPEC` with the reference UNet from `xT · scale`.
fn run(name: &str, spec: &str, scale: f32, extra: &[&str]) -> Vec<f32> {
    let d = common::scratch("scheduler_reference", name);
    let (x, shape) = npy::read_f32(reference().join("xT.npy")).unwrap();
    let init = d.join("xT.npy");
    npy::write_f32(
        &init,
        &x.iter().map(|v| v * scale).collect::<Vec<_>>(),
        &shape,
    )
    .unwrap();
    let out = d.join("x0.npy");
    let (model, init, out_s) = (s(&reference().join("model")), s(&init), s(&out));
    let mut args = vec![
        "sample", "--model", &model, "--spec", spec, "--init", &init, "--out", &out_s,
    ];
    args.extend_from_slice(extra);
    let r = dplay(&args);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    npy::read_f32(&out).unwrap().0
}

fn check(name: &str, spec: &str, scale: f32, extra: &[&str]) {
    let want = npy::read_f32(reference().join(format!("{name}_x0.npy")))
        .unwrap()
        .0;
    let got = run(name, spec, scale, extra);
    let diff = got
        .iter()
        .zip(&want)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    let spread = want.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    assert!(spread > 0.1, "{name}: the reference is not trivially small");
    assert!(diff <= 1e-3, "{name}: max |Δ| = {diff}");
}

#[test]
fn dpm_solver_pp_2m_matches_diffusers() {
    // DPM-Solver's sample is in the process's coordinates from the start (init_noise_sigma 1).
    check("dpmpp2m", DPM, 1.0, &[]);
}

/// Euler and Heun start from `x_T · σ_max` in σ coordinates (init_noise_sigma = σ_max), which is
/// `x_T · σ_max/√(1 + σ_max²)` in the process's.
fn sigma_start() -> f32 {
    let sigmas: Vec<f64> = json("euler_karras_sigmas.json");
    let m = sigmas[0];
    (m / (1.0 + m * m).sqrt()) as f32
}

#[test]
fn euler_on_karras_sigmas_matches_diffusers() {
    check("euler_karras", EULER, sigma_start(), &[]);
}

#[test]
fn heun_on_karras_sigmas_matches_diffusers() {
    check("heun_karras", HEUN, sigma_start(), &[]);
}

/// Flow-matching Euler (`FlowMatchEulerDiscreteScheduler`, shift 1) is DDIM on the flow path
/// (`x_{t'} = x + (t' − t) u`): "linspace" spacing visits t = 1, 0.889, …, 0.001, then the data.
const FLOW_EULER: &str =
    r#"{"kind": "ddim", "steps": 10, "eta": 0, "spacing": "linspace", "end": "data"}"#;

#[test]
fn flow_euler_matches_diffusers_and_calls_at_its_timesteps() {
    assert_calls(
        "flow_euler",
        FLOW_EULER,
        ProcessConfig::Flow { steps: 1000 },
    );
    // The ε-UNet read as a velocity on the flow path, as the reference did.
    check(
        "flow_euler",
        FLOW_EULER,
        1.0,
        &["--process", "flow", "--prediction-type", "velocity"],
    );
}

#[test]
fn karras_sigmas_are_diffusers() {
    let vp = ProcessConfig::default().build().unwrap();
    let want: Vec<f64> = json("euler_karras_sigmas.json");
    let (lo, hi) = vp.sigma_range().unwrap();
    let got = diffusion_playground::process::karras_sigmas(lo, hi, 10, 7.0).unwrap();
    assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(&want) {
        assert!((g - w).abs() <= 1e-5 * w.max(1.0), "{got:?} vs {want:?}");
    }
}
