//! Langevin dynamics with a fixed step (Song & Ermon 2019, eq. 4), `x ← x + (ε/2) ∇log p + √ε z`,
//! on a Gaussian `N(μ, diag(v))` with the exact score: each coordinate is the AR(1) chain
//! `x - μ ← (1 - ε/(2v))(x - μ) + √ε z`, whose stationary law is `N(μ, v/(1 - ε/(4v)))`, the
//! unadjusted-Langevin bias of the step. The test pins both the step convention and the bias.
//!
//! Tolerances. ε = 0.4 and v ∈ {1, 2}: the chain contracts by ρ ≤ 0.9 a step, so 300 steps leave
//! ρ³⁰⁰ < 1e-13 of the uniform start. With N = 20 000 independent chains the mean has SE
//! √(var/N) and the variance √(2/(N-1))·var; each check allows 3 SE. The biased variance differs
//! from v by 11% (v = 1), ≈ 9 SE, so the check also fails for a sampler without the ε/2.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use burn::prelude::*;
use common::column_moments;
use diffusion_playground::data::{GaussianMixture, MixtureScore, MixtureSpec};
use diffusion_playground::process::NoiseLevel;
use diffusion_playground::sampler::{LangevinSampler, Sampler};

#[test]
fn langevin_reaches_the_ula_stationary_law() {
    const N: usize = 20_000;
    let (mu, v) = ([1.0, -2.0], [1.0, 2.0]);
    let gauss = GaussianMixture::new(MixtureSpec {
        weights: vec![1.0],
        means: vec![mu.to_vec()],
        covs: vec![vec![vec![v[0], 0.0], vec![0.0, v[1]]]],
    })
    .unwrap();
    let eps = 0.4;
    let mut s = LangevinSampler::new(NoiseLevel::data(), eps, 300, 17).unwrap();
    s.reset_from_prior(N, 2, &Device::flex());
    let x = s.run(&MixtureScore::new(gauss)).unwrap();
    let x = x.into_data().try_into_vec::<f32>().unwrap();
    for c in 0..2 {
        let (m, var) = column_moments(&x, 2, c);
        let want = v[c] / (1.0 - eps / (4.0 * v[c]));
        let se_m = (want / N as f64).sqrt();
        let se_v = want * (2.0 / (N as f64 - 1.0)).sqrt();
        assert!(
            (m - mu[c]).abs() <= 3.0 * se_m,
            "coord {c}: mean {m} vs {}",
            mu[c]
        );
        assert!(
            (var - want).abs() <= 3.0 * se_v,
            "coord {c}: var {var} vs {want}"
        );
    }
    assert!(s.done());
    assert!(LangevinSampler::new(NoiseLevel::data(), -0.1, 10, 0).is_err());
    assert!(LangevinSampler::new(NoiseLevel::data(), 0.1, 0, 0).is_err());
}
