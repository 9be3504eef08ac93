//! Every sampler, run on the exact score of `data/mixture3.json` (three components with unequal
//! weights and non-isotropic covariances), reproduces the mixture.
//!
//! Tolerances. Points are assigned to components by highest responsibility
//! (`metrics::component_stats`); the same assignment applied to `N_REF` exact draws gives the
//! reference moments, so any bias of the assignment itself cancels. With `n_c` points in a
//! component (Gaussian within the component, to first order):
//! - a weight `π` has SE `√(π(1-π)/n)`; with `N = 8000` and π ∈ {0.5, 0.3, 0.2} the SE is at most
//!   0.0056, so the brief's 0.02 is ≥ 3.5 SE;
//! - a mean coordinate has SE `√(Σ_jj/n_c)`, and a covariance entry `√((Σ_aa Σ_bb + Σ_ab²)/n_c)`;
//!   each check allows 3 SE of the difference of two independent estimates, `√(SE² + SE_ref²)`.
//!
//! Seeds are fixed, so the outcome is deterministic; the tolerance says how tight the claim is.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use burn::prelude::*;
use diffusion_playground::data::{GaussianMixture, MixtureScore};
use diffusion_playground::metrics::{component_stats, energy_distance, ComponentStats};
use diffusion_playground::model::{x0_from_score, ScoreModel};
use diffusion_playground::noise;
use diffusion_playground::process::ProcessConfig;
use diffusion_playground::process::{
    sigma_max_from_data, Marginal, NoiseLevel, SubVpSde, Time, VeConfig, VeSde, VpProcess, VpSde,
};
use diffusion_playground::sampler::{no_data, SamplerSpec, ScoreSource};
use diffusion_playground::sampler::{
    AncestralSampler, AnnealedLangevin, DdimSampler, EulerMaruyama, OdeMethod, PosteriorVariance,
    PredictorCorrector, ProbabilityFlowOde, Sampler, TimestepSpacing,
};
use diffusion_playground::schedule::ScheduleConfig;

const N: usize = 8000;
const N_REF: usize = 200_000;
/// score_sde's sampling end time for VP.
const EPS: f64 = 1e-3;

fn mixture() -> GaussianMixture {
    GaussianMixture::from_file(common::repo_path("data/mixture3.json")).unwrap()
}

fn reference(mix: &GaussianMixture) -> Vec<ComponentStats> {
    let x = mix.sample(N_REF, &mut noise::rng(12345));
    component_stats(mix, &x).unwrap()
}

fn run(sampler: &mut dyn Sampler, mix: &GaussianMixture) -> Vec<f32> {
    let oracle = MixtureScore::new(mix.clone());
    sampler.reset_from_prior(N, mix.dim(), &Device::flex());
    let x = sampler.run(&oracle).unwrap();
    x.into_data().try_into_vec::<f32>().unwrap()
}

/// Weights within `weight_tol` of the truth; means and covariances within 3 SE of the reference.
fn check(name: &str, x: &[f32], mix: &GaussianMixture, weight_tol: f64, moments: bool) {
    assert!(
        x.iter().all(|v| v.is_finite()),
        "{name}: non-finite samples"
    );
    let got = component_stats(mix, x).unwrap();
    let want = reference(mix);
    for (c, (g, w)) in got.iter().zip(&want).enumerate() {
        let pi = mix.weights()[c];
        assert!(
            (g.weight - pi).abs() <= weight_tol,
            "{name}: weight {c} is {:.4}, want {pi} ± {weight_tol}",
            g.weight
        );
        if !moments {
            continue;
        }
        let (n, nr) = (g.count as f64, w.count as f64);
        let d = g.mean.len();
        for a in 0..d {
            let se = (w.cov[a][a] * (1.0 / n + 1.0 / nr)).sqrt();
            assert!(
                (g.mean[a] - w.mean[a]).abs() <= 3.0 * se,
                "{name}: component {c} mean[{a}] {:.4} vs {:.4} (3 SE = {:.4})",
                g.mean[a],
                w.mean[a],
                3.0 * se
            );
            for b in 0..d {
                let v = w.cov[a][a] * w.cov[b][b] + w.cov[a][b].powi(2);
                let se = (v * (1.0 / n + 1.0 / nr)).sqrt();
                assert!(
                    (g.cov[a][b] - w.cov[a][b]).abs() <= 3.0 * se,
                    "{name}: component {c} cov[{a}][{b}] {:.4} vs {:.4} (3 SE = {:.4})",
                    g.cov[a][b],
                    w.cov[a][b],
                    3.0 * se
                );
            }
        }
    }
}

fn vp() -> VpProcess {
    VpProcess::new(ScheduleConfig::default()).unwrap()
}

#[test]
fn ddpm_ancestral_recovers_mixture3() {
    let mix = mixture();
    let mut s = AncestralSampler::new(vp(), PosteriorVariance::BetaTilde, None, 1);
    let x = run(&mut s, &mix);
    check("ancestral", &x, &mix, 0.02, true);
}

#[test]
fn ddim_deterministic_recovers_mixture3() {
    let mix = mixture();
    let mut s = DdimSampler::new(vp(), 100, TimestepSpacing::Trailing, 0.0, None, 2).unwrap();
    let x = run(&mut s, &mix);
    check("ddim eta=0", &x, &mix, 0.02, true);
}

#[test]
fn ddim_stochastic_recovers_mixture3() {
    let mix = mixture();
    let mut s = DdimSampler::new(vp(), 250, TimestepSpacing::Trailing, 1.0, None, 3).unwrap();
    let x = run(&mut s, &mix);
    check("ddim eta=1", &x, &mix, 0.02, true);
}

#[test]
fn euler_maruyama_recovers_mixture3() {
    let mix = mixture();
    let mut s = EulerMaruyama::new(Box::new(VpSde::default()), 1000, EPS, 4).unwrap();
    let x = run(&mut s, &mix);
    check("euler-maruyama", &x, &mix, 0.02, true);
}

#[test]
fn predictor_corrector_recovers_mixture3() {
    let mix = mixture();
    let mut s = PredictorCorrector::new(Box::new(VpSde::default()), 500, EPS, 0.16, 1, 5).unwrap();
    let x = run(&mut s, &mix);
    check("pc", &x, &mix, 0.02, true);
}

#[test]
fn probability_flow_heun_recovers_mixture3() {
    let mix = mixture();
    let mut s =
        ProbabilityFlowOde::new(Box::new(VpSde::default()), 100, EPS, OdeMethod::Heun, 6).unwrap();
    let x = run(&mut s, &mix);
    check("ode heun", &x, &mix, 0.02, true);
}

#[test]
fn probability_flow_euler_recovers_mixture3() {
    let mix = mixture();
    let mut s =
        ProbabilityFlowOde::new(Box::new(VpSde::default()), 500, EPS, OdeMethod::Euler, 7).unwrap();
    let x = run(&mut s, &mix);
    check("ode euler", &x, &mix, 0.02, true);
}

#[test]
fn annealed_langevin_recovers_mixture3_weights() {
    let mix = mixture();
    // σ_max by NCSNv2's rule (largest pairwise distance of 1000 data points); σ_min = 0.1 adds
    // 0.01 to variances of ≥ 0.15, so the weights by nearest component are unaffected.
    let data = mix.sample(1000, &mut noise::rng(8));
    let sigma_max = sigma_max_from_data(&data, 2).unwrap();
    let levels = VeConfig {
        sigma_min: 0.1,
        sigma_max,
        levels: 10,
    }
    .build()
    .unwrap();
    let mut s = AnnealedLangevin::new(levels, 100, 5e-3, 9).unwrap();
    let x = run(&mut s, &mix);
    check("annealed langevin", &x, &mix, 0.03, false);
}

#[test]
fn ve_and_sub_vp_sdes_recover_mixture3() {
    // VE: σ_max = 30 ≫ the data's spread (variance ≤ 4.5 per coordinate), so the prior
    // N(0, σ_max² I) misses p_1 by KL ≈ d/4·(4.5/900)² ≈ 1e-5; σ(ε) = 0.01 adds 1e-4 to variances.
    let mix = mixture();
    let ve = || Box::new(VeSde::new(0.01, 30.0).unwrap());
    let subvp = || Box::new(SubVpSde::default());
    let samplers: Vec<(&str, Box<dyn Sampler>)> = vec![
        (
            "ve euler-maruyama",
            Box::new(EulerMaruyama::new(ve(), 1000, 1e-5, 10).unwrap()),
        ),
        (
            "ve pc",
            Box::new(PredictorCorrector::new(ve(), 500, 1e-5, 0.16, 1, 11).unwrap()),
        ),
        (
            "ve ode heun",
            Box::new(ProbabilityFlowOde::new(ve(), 200, 1e-5, OdeMethod::Heun, 12).unwrap()),
        ),
        (
            "sub-vp euler-maruyama",
            Box::new(EulerMaruyama::new(subvp(), 1000, EPS, 13).unwrap()),
        ),
        (
            "sub-vp ode heun",
            Box::new(ProbabilityFlowOde::new(subvp(), 100, EPS, OdeMethod::Heun, 14).unwrap()),
        ),
    ];
    for (name, mut s) in samplers {
        let x = run(s.as_mut(), &mix);
        check(name, &x, &mix, 0.02, true);
    }
}

/// The device oracle (f32 tensor ops, no read-back) equals the f64 host score, which in turn is
/// the gradient of the host log-density (central differences), at points near and far from the
/// modes and at clean, VP and VE marginals.
#[test]
fn device_oracle_score_matches_the_host_density_gradient() {
    let mix = mixture();
    let oracle = MixtureScore::new(mix.clone());
    let device = Device::flex();
    let mut rng = noise::rng(9);
    let pts: Vec<f32> = noise::normal_vec(&mut rng, 400)
        .iter()
        .map(|v| v * 4.0)
        .collect();
    let x = Tensor::<2>::from_data(TensorData::new(pts.clone(), [200, 2]), &device);
    for (a, s) in [(1.0, 0.0), (0.7, 0.714), (1.0, 3.0), (0.05, 0.9987)] {
        let m = Marginal {
            mean_coef: a,
            std: s,
        };
        let level = NoiseLevel {
            time: Time::Continuous(0.5),
            marginal: m,
        };
        let dev = oracle
            .score(x.clone(), &level)
            .unwrap()
            .into_data()
            .try_into_vec::<f32>()
            .unwrap();
        let (_, host) = oracle.log_prob_and_score(&pts, m).unwrap();
        let p = oracle.marginal_mixture(m).unwrap();
        for i in 0..200 {
            for k in 0..2 {
                // f32 on the device: relative 1e-4 of the score's size (which reaches ~25 at the
                // far points of the sharpest component), plus an absolute 1e-4.
                let (dv, hv) = (dev[i * 2 + k] as f64, host[i * 2 + k]);
                assert!(
                    (dv - hv).abs() < 1e-4 * (1.0 + hv.abs()),
                    "({a}, {s}) row {i}: {dv} vs {hv}"
                );
                let h = 1e-5;
                let mut q = [pts[i * 2] as f64, pts[i * 2 + 1] as f64];
                q[k] += h;
                let up = p.log_prob_and_score(&q).0;
                q[k] -= 2.0 * h;
                let down = p.log_prob_and_score(&q).0;
                let fd = (up - down) / (2.0 * h);
                assert!(
                    (fd - hv).abs() < 1e-4 * (1.0 + hv.abs()),
                    "FD {fd} vs host {hv}"
                );
            }
        }
    }
}

/// A sampler by its catalogue JSON, built as the faces build it, on `process` for the oracle.
fn built(spec: &str, process: &str, seed: u64) -> Box<dyn Sampler> {
    let spec = SamplerSpec::from_json(spec).unwrap();
    let process: ProcessConfig = serde_json::from_str(process).unwrap();
    spec.build_on(
        &process.build().unwrap(),
        ScoreSource::Oracle,
        no_data,
        seed,
    )
    .unwrap()
}

const VP: &str = r#"{"kind": "vp", "schedule": {"kind": "linear", "steps": 1000, "beta_start": 0.0001, "beta_end": 0.02}}"#;
const SUB_VP: &str = r#"{"kind": "sub_vp", "schedule": {"kind": "linear", "steps": 1000, "beta_start": 0.0001, "beta_end": 0.02}}"#;
/// σ_max = 30 ≫ the data's spread, as for the VE SDE above; 100 levels.
const VE: &str = r#"{"kind": "ve", "sigma_min": 0.01, "sigma_max": 30, "levels": 100}"#;

/// Each new solver converges to the data on every process family: step counts where the
/// discretisation error is below the 3 SE of the moment checks (at 20 DPM-Solver++ 2M steps the
/// narrow component's variance is still 14% short, at 50 it is within 2%; EDM's Karras σ spend
/// their steps at small σ, so Heun needs about 40 steps here, Euler more; churn's kicks of
/// γ = S_churn/N are undone only as the steps shrink, so it gets 100).
#[test]
fn dpm_solver_pp_and_edm_recover_mixture3_on_every_process() {
    let mix = mixture();
    let edm = |method: &str, churn: f64| {
        format!(
            r#"{{"kind": "edm", "steps": 40, "rho": 7, "method": "{method}", "s_churn": {churn}, "s_tmin": 0.05, "s_tmax": 50, "s_noise": 1}}"#
        )
    };
    let cases = [
        (
            "dpm-solver++ 2M, VP",
            r#"{"kind": "dpm_solver_pp", "steps": 50, "order": 2}"#.to_string(),
            VP,
        ),
        (
            "dpm-solver++ 3M, VP",
            r#"{"kind": "dpm_solver_pp", "steps": 50, "order": 3}"#.into(),
            VP,
        ),
        (
            "dpm-solver++ 2M, sub-VP",
            r#"{"kind": "dpm_solver_pp", "steps": 50, "order": 2}"#.into(),
            SUB_VP,
        ),
        (
            "dpm-solver++ 2M, VE",
            r#"{"kind": "dpm_solver_pp", "steps": 50, "order": 2}"#.into(),
            VE,
        ),
        ("edm heun, VP", edm("heun", 0.0), VP),
        (
            "edm euler, VP",
            edm("euler", 0.0).replace("\"steps\": 40", "\"steps\": 200"),
            VP,
        ),
        (
            "edm heun with churn, VP",
            edm("heun", 20.0).replace("\"steps\": 40", "\"steps\": 100"),
            VP,
        ),
        ("edm heun, sub-VP", edm("heun", 0.0), SUB_VP),
        ("edm heun, VE", edm("heun", 0.0), VE),
    ];
    for (i, (name, spec, process)) in cases.iter().enumerate() {
        let x = run(built(spec, process, 20 + i as u64).as_mut(), &mix);
        check(name, &x, &mix, 0.02, true);
    }
}

/// Quality against network calls (DPM-Solver++, Lu et al. 2022, Table 1): at 10 NFE the
/// second-order multistep solver lands closer to the data than DDIM, its first-order special case
/// (DPM-Solver++1 is DDIM, so the two start from the same x_T). On this mixture DDIM-10's
/// energy distance to the data is ≈ 0.017 and 2M's ≈ 0.008; two exact samples of these sizes lie
/// ≈ 0.001 apart, so "2M below ⅔ of DDIM" has a margin of several noise floors.
#[test]
fn dpm_solver_pp_2m_beats_ddim_at_ten_network_calls() {
    let mix = mixture();
    let data = mix.sample(8000, &mut noise::rng(1));
    let floor = energy_distance(&data, &mix.sample(N, &mut noise::rng(2)), 2).unwrap();
    let ed = |spec: &str| {
        let x = run(built(spec, VP, 20).as_mut(), &mix);
        energy_distance(&x, &data, 2).unwrap()
    };
    let ddim = ed(r#"{"kind": "ddim", "steps": 10, "eta": 0, "spacing": "trailing"}"#);
    let first = ed(r#"{"kind": "dpm_solver_pp", "steps": 10, "order": 1}"#);
    let second = ed(r#"{"kind": "dpm_solver_pp", "steps": 10, "order": 2}"#);
    assert!(
        (first - ddim).abs() <= 1e-3 * ddim,
        "DPM-Solver++1 is DDIM: {first} vs {ddim}"
    );
    assert!(
        second < 2.0 / 3.0 * ddim && ddim - second > 3.0 * floor,
        "at 10 NFE 2M's energy distance {second:.4} is not well below DDIM's {ddim:.4} (noise floor {floor:.4})"
    );
}

/// Flow matching's linear path, 1000 steps (diffusers' grid `t_i = (i+1)/T`).
const FLOW: &str = r#"{"kind": "flow", "steps": 1000}"#;

/// The flow path's ODE from the oracle's exact `E[x_0 | x_t]` (defined at t = 1, where the score
/// carries no x̂₀): flow-matching Euler (DDIM on the path), DPM-Solver++ 2M and EDM's Heun all
/// recover the mixture. Euler's error is O(1/N): at 100 steps the wide component's mean is
/// still 0.04 short (3 SE = 0.037), at 400 about 0.01.
/// The path's σ = t/(1−t) spans 0.001..999 (VP's 0.01..157), so
/// EDM's Karras σ leave fewer steps where the mixture's modes form: Heun needs 80 (at 40 a
/// mean is 0.044 off).
#[test]
fn flow_path_samplers_recover_mixture3() {
    let mix = mixture();
    let cases = [
        (
            "flow euler",
            r#"{"kind": "ddim", "steps": 400, "eta": 0, "spacing": "linspace", "end": "data"}"#,
        ),
        (
            "dpm-solver++ 2M, flow",
            r#"{"kind": "dpm_solver_pp", "steps": 50, "order": 2}"#,
        ),
        (
            "edm heun, flow",
            r#"{"kind": "edm", "steps": 80, "rho": 7, "method": "heun", "s_churn": 0, "s_tmin": 0, "s_noise": 1}"#,
        ),
    ];
    for (i, (name, spec)) in cases.iter().enumerate() {
        let x = run(built(spec, FLOW, 40 + i as u64).as_mut(), &mix);
        check(name, &x, &mix, 0.02, true);
    }
}

/// The oracle's `E[x_0 | x_t]` is Tweedie's `(x + s² ∇log p_t)/a` wherever `a > 0`, and at
/// `a = 0` (pure noise) the mixture's mean.
#[test]
fn oracle_denoiser_is_tweedie_and_the_mean_at_pure_noise() {
    let mix = mixture();
    let oracle = MixtureScore::new(mix.clone());
    let device = Device::flex();
    let x = noise::normal(&mut noise::rng(3), [64, 2], &device);
    let flow = ProcessConfig::Flow { steps: 1000 }.build().unwrap();
    for t in [0, 300, 998] {
        let level = NoiseLevel::step(&flow, t);
        let direct = oracle.denoise(x.clone(), &level).unwrap();
        let score = oracle.score(x.clone(), &level).unwrap();
        let tweedie = x0_from_score(x.clone(), score, level.marginal);
        let diff: f32 = (direct - tweedie).abs().max().into_scalar();
        // f32 on values of order one, divided by a ≥ 0.002: a few 1e-4 at worst.
        assert!(diff < 2e-3, "step {t}: |Δ| = {diff}");
    }
    let top = NoiseLevel::step(&flow, 999);
    let at_noise = oracle.denoise(x, &top).unwrap();
    let mean: Vec<f64> = (0..2)
        .map(|j| {
            mix.weights()
                .iter()
                .zip(mix.means())
                .map(|(w, m)| w * m[j])
                .sum()
        })
        .collect();
    let got = at_noise.into_data().try_to_vec::<f32>().unwrap();
    for row in got.chunks(2) {
        for j in 0..2 {
            assert!(
                (row[j] as f64 - mean[j]).abs() < 1e-4,
                "{row:?} vs {mean:?}"
            );
        }
    }
}
