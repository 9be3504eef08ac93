//! Score sources: the mixture oracle against finite differences of its own log-density, the
//! parameterisation conversions, the ε-network adapter against the ancestral sampler's own
//! ε path, and the sample metrics.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use burn::prelude::*;
use diffusion_playground::data::{GaussianMixture, MixtureScore};
use diffusion_playground::metrics::{component_stats, component_weights, energy_distance};
use diffusion_playground::model::{MlpConfig, NetworkScore, Parameterization, ScoreModel};
use diffusion_playground::noise;
use diffusion_playground::process::{
    Marginal, NoiseLevel, Process, Sde, VeConfig, VeSde, VpProcess, VpSde,
};
use diffusion_playground::sampler::{AncestralSampler, PosteriorVariance, Sampler};
use diffusion_playground::schedule::ScheduleConfig;

fn mixture() -> GaussianMixture {
    GaussianMixture::from_file(common::repo_path("data/mixture3.json")).unwrap()
}

fn read(x: Tensor<2>) -> Vec<f32> {
    x.into_data().try_into_vec::<f32>().unwrap()
}

fn levels() -> Vec<NoiseLevel> {
    let vp = VpProcess::new(ScheduleConfig::default()).unwrap();
    let ve = VeConfig {
        sigma_min: 0.05,
        sigma_max: 10.0,
        levels: 5,
    }
    .build()
    .unwrap();
    vec![
        NoiseLevel::data(),
        NoiseLevel::step(&vp, 0),
        NoiseLevel::step(&vp, 300),
        NoiseLevel::step(&vp, 999),
        VpSde::default().level(0.4),
        NoiseLevel::step(&ve, 2),
        VeSde::new(0.05, 10.0).unwrap().level(0.7),
    ]
}

#[test]
fn oracle_score_is_the_gradient_of_its_log_density() {
    // Central differences with h = 1e-4 in f64 have error O(h²·|∂³ log p|) + O(1e-16/h) ≲ 1e-6
    // here; the f32 upload of the score adds ≤ 1e-6 relative. Tolerance 1e-4·(1 + |s|).
    let mix = mixture();
    let oracle = MixtureScore::new(mix.clone());
    let pts: Vec<f32> = vec![
        0.0, 0.0, -2.5, -1.5, 2.5, -1.0, 0.3, 2.2, 4.0, 4.0, -6.0, 1.0,
    ];
    let device = Device::flex();
    for level in levels() {
        let x = Tensor::<2>::from_data(TensorData::new(pts.clone(), [6, 2]), &device);
        let s = read(oracle.score(x, &level).unwrap());
        let p = mix
            .perturbed(level.marginal.mean_coef, level.marginal.std)
            .unwrap();
        for i in 0..6 {
            let xi = [pts[2 * i] as f64, pts[2 * i + 1] as f64];
            let (_, single) = p.log_prob_and_score(&xi);
            for j in 0..2 {
                let h = 1e-4;
                let (mut up, mut dn) = (xi, xi);
                up[j] += h;
                dn[j] -= h;
                let fd = (p.log_prob_and_score(&up).0 - p.log_prob_and_score(&dn).0) / (2.0 * h);
                let got = s[2 * i + j] as f64;
                let tol = 1e-4 * (1.0 + fd.abs());
                assert!(
                    (got - fd).abs() <= tol,
                    "{level:?} point {i} dim {j}: {got} vs fd {fd}"
                );
                assert!((got - single[j]).abs() <= tol, "batch vs single at {i}");
            }
        }
    }
}

#[test]
fn parameterisations_convert_to_the_same_score() {
    let device = Device::flex();
    let mut rng = noise::rng(5);
    let x = noise::normal(&mut rng, [64, 2], &device);
    let score = noise::normal(&mut rng, [64, 2], &device);
    let ms = [
        Marginal {
            mean_coef: 0.8,
            std: 0.6,
        },
        Marginal {
            mean_coef: 1.0,
            std: 3.0,
        },
        Marginal {
            mean_coef: 0.05,
            std: 0.9987,
        },
    ];
    for m in ms {
        for p in [
            Parameterization::Epsilon,
            Parameterization::Score,
            Parameterization::X0,
            Parameterization::V,
        ] {
            let out = p.from_score(score.clone(), x.clone(), m);
            let back = read(p.to_score(out, x.clone(), m).unwrap());
            let want = read(score.clone());
            let err = back
                .iter()
                .zip(&want)
                .map(|(a, b)| (a - b).abs() / (1.0 + b.abs()))
                .fold(0.0f32, f32::max);
            assert!(err < 1e-4, "{p:?} at {m:?}: relative error {err}");
        }
    }
    // ε = -s·score exactly; a zero-noise level has no ε-, x0- or v-score.
    let m = ms[0];
    let eps = read(Parameterization::Epsilon.from_score(score.clone(), x.clone(), m));
    assert!((eps[0] + 0.6 * read(score.clone())[0]).abs() < 1e-6);
    let zero = Marginal {
        mean_coef: 1.0,
        std: 0.0,
    };
    assert!(Parameterization::Epsilon
        .to_score(score.clone(), x.clone(), zero)
        .is_err());
    assert!(Parameterization::Score.to_score(score, x, zero).is_ok());
}

#[test]
fn epsilon_network_adapter_matches_the_ancestral_epsilon_path() {
    // Same seed, same x_T: stepping with the Mlp directly and through NetworkScore (ε -> score ->
    // ε) must agree to float rounding (≤ 1e-4 after 20 steps).
    let device = Device::flex();
    let net = MlpConfig::new().init(&device);
    let vp = VpProcess::new(ScheduleConfig::default()).unwrap();
    let adapter = NetworkScore::new(&net, Parameterization::Epsilon, vp.num_steps());
    let mut a = AncestralSampler::new(vp.clone(), PosteriorVariance::BetaTilde, None, 7);
    let mut b = AncestralSampler::new(vp, PosteriorVariance::BetaTilde, None, 7);
    a.reset_from_prior(32, 2, &device);
    b.reset_from_prior(32, 2, &device);
    for _ in 0..20 {
        let xa = read(a.step(&net).unwrap().x);
        let xb = read(b.step_score(&adapter).unwrap().x);
        let err = xa
            .iter()
            .zip(&xb)
            .map(|(p, q)| (p - q).abs())
            .fold(0.0, f32::max);
        assert!(err < 1e-4, "max difference {err}");
    }
    assert_eq!(a.remaining(), 980);
}

#[test]
fn metrics_measure_weights_moments_and_distance() {
    let mix = mixture();
    let mut rng = noise::rng(11);
    let (x, labels) = mix.sample_labeled(4000, &mut rng);
    let w = component_weights(&mix, &x).unwrap();
    // Assignment by responsibility agrees with the true labels for all but the overlap
    // (< 1% of points here), so the weights match the label frequencies to 0.01.
    for (k, wk) in w.iter().enumerate() {
        let f = labels.iter().filter(|&&l| l == k).count() as f64 / 4000.0;
        assert!(
            (wk - f).abs() < 0.01,
            "weight {k}: {wk} vs label frequency {f}"
        );
    }
    let stats = component_stats(&mix, &x).unwrap();
    assert_eq!(stats.iter().map(|s| s.count).sum::<usize>(), 4000);
    // Two samples of one law: energy distance O(1/n); a shift by 1 gives ≈ 0.3 or more.
    let y = mix.sample(1000, &mut rng);
    let same = energy_distance(&x[..2000], &y, 2).unwrap();
    let shifted: Vec<f32> = y.iter().map(|v| v + 1.0).collect();
    let far = energy_distance(&x[..2000], &shifted, 2).unwrap();
    assert!(same < 0.02, "same law: {same}");
    assert!(far > 0.2, "shifted law: {far}");
    assert!(energy_distance(&x, &y[..3], 2).is_err());
}
