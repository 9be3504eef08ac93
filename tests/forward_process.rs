//! The DDPM forward process: closed form (eq. 4) and one-step chain (eq. 2) both match the
//! marginal `N(√ᾱ_t x_0, (1-ᾱ_t) I)` in mean and variance.
//!
//! Tolerances. With n samples of a coordinate with variance v, the sample mean has standard error
//! √(v/n) and the sample variance √(2/(n-1))·v (Gaussian data). Every check allows 3 SE. The seeds
//! are fixed, so the outcome is deterministic; the tolerance says how tight the claim is.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use burn::prelude::*;
use common::column_moments;
use diffusion_playground::data::GaussianMixture;
use diffusion_playground::noise;
use diffusion_playground::process::{Process, VpProcess};
use diffusion_playground::schedule::ScheduleConfig;

const N: usize = 20_000;
const X0: [f32; 2] = [1.5, -2.0];

fn read(x: Tensor<2>) -> Vec<f32> {
    x.into_data().try_into_vec::<f32>().unwrap()
}

fn assert_moments(x: &[f32], mean: [f64; 2], var: [f64; 2], what: &str) {
    for c in 0..2 {
        let (m, v) = column_moments(x, 2, c);
        let se_m = (var[c] / N as f64).sqrt();
        let se_v = var[c] * (2.0 / (N as f64 - 1.0)).sqrt();
        assert!(
            (m - mean[c]).abs() <= 3.0 * se_m,
            "{what} coord {c}: mean {m} vs {} (3 SE = {})",
            mean[c],
            3.0 * se_m
        );
        assert!(
            (v - var[c]).abs() <= 3.0 * se_v,
            "{what} coord {c}: var {v} vs {} (3 SE = {})",
            var[c],
            3.0 * se_v
        );
    }
}

#[test]
fn closed_form_matches_marginal_moments() {
    let device = Device::flex();
    let p = VpProcess::new(ScheduleConfig::default()).unwrap();
    let x0 = Tensor::<2>::from_data(TensorData::new(X0.repeat(N), [N, 2]), &device);
    let mut rng = noise::rng(1);
    for t in [0, 9, 99, 499, 999] {
        let eps = noise::normal(&mut rng, [N, 2], &device);
        let xt = read(p.q_sample(x0.clone(), &vec![t; N], eps));
        let m = p.marginal(t);
        let mean = [m.mean_coef * X0[0] as f64, m.mean_coef * X0[1] as f64];
        assert_moments(&xt, mean, [m.std * m.std; 2], &format!("closed form t={t}"));
    }
}

#[test]
fn one_step_chain_matches_marginal_moments() {
    let device = Device::flex();
    let p = VpProcess::new(ScheduleConfig::default()).unwrap();
    let mut x = Tensor::<2>::from_data(TensorData::new(X0.repeat(N), [N, 2]), &device);
    let mut rng = noise::rng(2);
    let checkpoints = [0, 9, 99, 499, 999];
    for t in 0..p.num_steps() {
        x = p.q_step(x, t, noise::normal(&mut rng, [N, 2], &device));
        if checkpoints.contains(&t) {
            let m = p.marginal(t);
            let mean = [m.mean_coef * X0[0] as f64, m.mean_coef * X0[1] as f64];
            assert_moments(
                &read(x.clone()),
                mean,
                [m.std * m.std; 2],
                &format!("chain t={t}"),
            );
        }
    }
}

#[test]
fn mixture_marginal_matches_closed_form_moments() {
    // For x_0 from a mixture, x_t has mean √ᾱ E[x_0] and variance ᾱ Var[x_0] + (1-ᾱ) per coordinate.
    let device = Device::flex();
    let mix = GaussianMixture::from_file(common::repo_path("data/mixture3.json")).unwrap();
    let p = VpProcess::new(ScheduleConfig::default()).unwrap();
    let mut rng = noise::rng(3);
    let x0 = mix.sample(N, &mut rng);
    let mut mean0 = [0.0; 2];
    let mut var0 = [0.0; 2];
    for c in 0..2 {
        let e: f64 = mix
            .weights()
            .iter()
            .zip(mix.means())
            .map(|(w, m)| w * m[c])
            .sum();
        let e2: f64 = mix
            .weights()
            .iter()
            .zip(mix.means())
            .zip(mix.covs())
            .map(|((w, m), s)| w * (s[c][c] + m[c] * m[c]))
            .sum();
        mean0[c] = e;
        var0[c] = e2 - e * e;
    }
    let x0 = Tensor::<2>::from_data(TensorData::new(x0, [N, 2]), &device);
    for t in [49, 299, 999] {
        let eps = noise::normal(&mut rng, [N, 2], &device);
        let xt = read(p.q_sample(x0.clone(), &vec![t; N], eps));
        let m = p.marginal(t);
        let ab = m.mean_coef * m.mean_coef;
        // The mixture is not Gaussian, so the variance's SE is √((μ₄ - σ⁴)/n), with the fourth
        // central moment μ₄ estimated from the sample itself.
        for c in 0..2 {
            let (mu, v) = column_moments(&xt, 2, c);
            let m4 = xt
                .chunks(2)
                .map(|r| (r[c] as f64 - mu).powi(4))
                .sum::<f64>()
                / N as f64;
            let var = ab * var0[c] + 1.0 - ab;
            let se_m = (var / N as f64).sqrt();
            let se_v = ((m4 - v * v) / N as f64).sqrt();
            assert!(
                (mu - m.mean_coef * mean0[c]).abs() <= 3.0 * se_m,
                "t={t} c={c}: mean {mu}"
            );
            assert!(
                (v - var).abs() <= 3.0 * se_v,
                "t={t} c={c}: var {v} vs {var}"
            );
        }
    }
}
