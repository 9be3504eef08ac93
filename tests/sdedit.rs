//! Samplers that join the reverse chain partway (`StartAt`, for SDEdit, Meng et al. 2022): which
//! steps they visit, that joining at the top is exactly a full run, and that with the exact score
//! a walk started from `q(x_{t₀} | x₀)`, `x₀` drawn from the data, ends at the data's law.

mod common;

use burn::prelude::*;
use diffusion_playground::data::{GaussianMixture, MixtureScore};
use diffusion_playground::noise;
use diffusion_playground::process::VpProcess;
use diffusion_playground::sampler::{
    AncestralSampler, DdimSampler, PosteriorVariance, Sampler, StartAt, TimestepSpacing,
};
use diffusion_playground::schedule::ScheduleConfig;

/// One Gaussian, `N((2, -1), diag(0.25, 1))`: its perturbed score is exact at every step.
fn gaussian() -> GaussianMixture {
    GaussianMixture::from_json(
        r#"{"weights": [1], "means": [[2, -1]], "covs": [[[0.25, 0], [0, 1]]]}"#,
        "test",
    )
    .unwrap()
}

fn vp() -> VpProcess {
    VpProcess::new(ScheduleConfig::default()).unwrap()
}

fn ddim(eta: f64) -> DdimSampler {
    DdimSampler::new(vp(), 10, TimestepSpacing::Leading, eta, None, 7).unwrap()
}

fn read(x: Tensor<2>) -> Vec<f32> {
    x.into_data().try_into_vec::<f32>().unwrap()
}

/// The step index of every step until done.
fn visited(s: &mut dyn Sampler, model: &MixtureScore) -> Vec<usize> {
    let mut ts = Vec::new();
    while !s.done() {
        ts.push(s.step(model).unwrap().t);
    }
    ts
}

#[test]
fn ddim_joins_at_its_largest_step_not_above_t0() {
    let device = Device::flex();
    let model = MixtureScore::new(gaussian());
    let mut s = ddim(0.0);
    // Leading spacing, 10 of 1000 steps: τ = 900, 800, ..., 0.
    assert_eq!(s.start_step(430).unwrap(), 400);
    assert_eq!(s.start_step(400).unwrap(), 400);
    assert_eq!(s.start_step(999).unwrap(), 900);
    assert_eq!(s.start_step(0).unwrap(), 0);
    let x = noise::normal(&mut noise::rng(1), [16, 2], &device);
    let err = s.reset_at(x.clone(), 430).unwrap_err().to_string();
    assert!(err.contains("not one of the 10 DDIM steps"), "{err}");
    s.reset_at(x, 400).unwrap();
    assert_eq!(s.remaining(), 5);
    assert_eq!(visited(&mut s, &model), vec![400, 300, 200, 100, 0]);
}

#[test]
fn ancestral_joins_at_t0() {
    let device = Device::flex();
    let model = MixtureScore::new(gaussian());
    let mut s = AncestralSampler::new(vp(), PosteriorVariance::BetaTilde, None, 3);
    assert_eq!(StartAt::start_step(&s, 250).unwrap(), 250);
    assert!(StartAt::start_step(&s, 1000).is_err());
    let x = noise::normal(&mut noise::rng(1), [16, 2], &device);
    StartAt::reset_at(&mut s, x, 250).unwrap();
    assert_eq!(Sampler::remaining(&s), 251);
    let ts = visited(&mut s, &model);
    assert_eq!(ts.len(), 251);
    assert_eq!((ts[0], ts[250]), (250, 0));
    assert!(ts.windows(2).all(|w| w[1] + 1 == w[0]));
}

#[test]
fn joining_at_the_top_is_a_full_run() {
    let device = Device::flex();
    let model = MixtureScore::new(gaussian());
    let x = noise::normal(&mut noise::rng(2), [64, 2], &device);
    // DDIM, η = 0.5 (noise drawn too): the same seed from x_T or from x at τ₀ = 900.
    let (mut a, mut b) = (ddim(0.5), ddim(0.5));
    a.reset(x.clone());
    b.reset_at(x.clone(), 900).unwrap();
    assert_eq!(read(a.run(&model).unwrap()), read(b.run(&model).unwrap()));
    // Ancestral: T-1 is where a full run queries first.
    let mut a = AncestralSampler::new(vp(), PosteriorVariance::BetaTilde, None, 5);
    let mut b = AncestralSampler::new(vp(), PosteriorVariance::BetaTilde, None, 5);
    Sampler::reset(&mut a, x.clone());
    StartAt::reset_at(&mut b, x, 999).unwrap();
    assert_eq!(read(a.run(&model).unwrap()), read(b.run(&model).unwrap()));
}

/// SDEdit's realism on the data itself: `x₀ ~ p`, `x_{t₀} = √ᾱ x₀ + √(1-ᾱ) ε` is a draw of
/// `p_{t₀}`, so the exact reverse walk from there ends at `p` again. n = 4000 draws: the sample mean
/// of a coordinate with variance v has standard error √(v/n) (≤ 0.016), the sample variance
/// v·√(2/(n-1)) (≤ 0.023); 4 standard errors plus 0.01 for the 300 discrete steps' bias
/// (ancestral sampling with the exact score is exact only as β → 0) bound both.
#[test]
fn sdedit_with_the_exact_score_keeps_the_data_law() {
    let device = Device::flex();
    let data = gaussian();
    let model = MixtureScore::new(data.clone());
    let process = vp();
    let n = 4000;
    let t0 = 300;
    let mut rng = noise::rng(11);
    let x0 = Tensor::<2>::from_data(TensorData::new(data.sample(n, &mut rng), [n, 2]), &device);
    let x_t0 = process.q_sample(x0, &vec![t0; n], noise::normal(&mut rng, [n, 2], &device));
    let mut s = AncestralSampler::new(process, PosteriorVariance::BetaTilde, None, 12);
    StartAt::reset_at(&mut s, x_t0, t0).unwrap();
    let x = read(s.run(&model).unwrap());
    for (c, (mean, var)) in [(2.0, 0.25), (-1.0, 1.0)].into_iter().enumerate() {
        let (m, v) = common::column_moments(&x, 2, c);
        let se_m = (var / n as f64).sqrt();
        let se_v = var * (2.0 / (n - 1) as f64).sqrt();
        assert!(
            (m - mean).abs() < 4.0 * se_m + 0.01,
            "c={c}: mean {m} vs {mean}"
        );
        assert!(
            (v - var).abs() < 4.0 * se_v + 0.01,
            "c={c}: var {v} vs {var}"
        );
    }
}
