//! DDPM's variational bound (Ho et al. 2020, eq. 5) term by term, against closed forms.
#![cfg(not(target_arch = "wasm32"))]

use burn::prelude::*;
use diffusion_playground::noise;
use diffusion_playground::process::{Process, VpProcess};
use diffusion_playground::sampler::PosteriorVariance;
use diffusion_playground::schedule::ScheduleConfig;
use diffusion_playground::score::vlb;

const LN2: f64 = std::f64::consts::LN_2;

fn host<const D: usize>(x: Tensor<D>) -> Vec<f32> {
    x.into_data().try_into_vec::<f32>().unwrap()
}

fn t1(v: &[f32]) -> Tensor<1> {
    Tensor::from_data(TensorData::new(v.to_vec(), [v.len()]), &Device::flex())
}

/// `Φ(x)` in f64 (Abramowitz–Stegun 7.1.26 erf, |error| < 1.5e-7).
fn phi(x: f64) -> f64 {
    let z = x.abs() / std::f64::consts::SQRT_2;
    let k = 1.0 / (1.0 + 0.3275911 * z);
    let poly = k
        * (0.254829592
            + k * (-0.284496736 + k * (1.421413741 + k * (-1.453152027 + k * 1.061405429))));
    let erf = 1.0 - poly * (-z * z).exp();
    0.5 * (1.0 + if x < 0.0 { -erf } else { erf })
}

#[test]
fn gaussian_kl_matches_its_closed_form() {
    // KL(N(μ₁, v₁) ‖ N(μ₂, v₂)) = ½ (ln(v₂/v₁) - 1 + v₁/v₂ + (μ₁ - μ₂)²/v₂).
    let cases: [(f64, f64, f64, f64); 3] = [
        (1.0, 2.0, -0.5, 0.5),
        (0.0, 1.0, 0.0, 1.0),
        (0.3, 0.01, 0.2, 0.04),
    ];
    for (m1, v1, m2, v2) in cases {
        let kl = host(vlb::normal_kl(
            t1(&[m1 as f32]),
            t1(&[v1.ln() as f32]),
            t1(&[m2 as f32]),
            t1(&[v2.ln() as f32]),
        ))[0] as f64;
        let want = 0.5 * ((v2 / v1).ln() - 1.0 + v1 / v2 + (m1 - m2) * (m1 - m2) / v2);
        assert!((kl - want).abs() < 1e-5 * (1.0 + want), "KL {kl} vs {want}");
    }
}

#[test]
fn discretized_decoder_is_a_distribution_over_the_256_bins() {
    let centres: Vec<f32> = (0..256).map(|k| 2.0 * k as f32 / 255.0 - 1.0).collect();
    for (mean, scale) in [
        (0.0f32, 0.01f32),
        (0.97, 0.02),
        (-1.2, 0.3),
        (0.5, 2.0),
        (0.1, 0.002),
    ] {
        let x = Tensor::<2>::from_data(TensorData::new(centres.clone(), [1, 256]), &Device::flex());
        let mu = x.zeros_like() + mean;
        let log_scale = x.zeros_like() + scale.ln();
        let ll = host(vlb::discretized_gaussian_log_likelihood(x, mu, log_scale));
        let total: f64 = ll.iter().map(|&l| (l as f64).exp()).sum();
        // f32 CDF differences carry ~1e-7 each; 256 of them and the 1e-12 floor stay far below 1e-4.
        assert!(
            (total - 1.0).abs() < 1e-4,
            "mass {total} at mean {mean}, scale {scale}"
        );
    }
}

fn setup(n: usize) -> (VpProcess, Tensor<2>, Device) {
    let device = Device::flex();
    let process = VpProcess::new(ScheduleConfig::default()).unwrap();
    // Data on the 256-level grid of [-1, 1], away from the edge bins.
    let mut rng = noise::rng(5);
    let x: Vec<f32> = noise::normal_vec(&mut rng, n * 4)
        .iter()
        .map(|z| ((z.clamp(-2.0, 2.0) * 0.4 + 1.0) * 127.5).round() / 127.5 - 1.0)
        .collect();
    (
        process,
        Tensor::from_data(TensorData::new(x, [n, 4]), &device),
        device,
    )
}

#[test]
fn the_true_noise_makes_every_kl_term_vanish_with_beta_tilde() {
    // With ε_θ = the ε that made x_t, μ_θ (eq. 11) equals μ̃_t(x_0, x_t) (eq. 7), so with
    // σ_t² = β̃_t each L_{t-1} is 0; with σ_t² = β_t it is ½(ln(β/β̃) - 1 + β̃/β)/ln 2 per dim.
    let (process, x0, device) = setup(8);
    let s = process.schedule();
    for t in [1usize, 10, 500, 999] {
        let eps = noise::normal(&mut noise::rng(t as u64), [8, 4], &device);
        let xt = process.q_sample(x0.clone(), &[t; 8], eps.clone());
        let small = host(
            vlb::vlb_term_bpd(
                &process,
                x0.clone(),
                xt.clone(),
                t,
                eps.clone(),
                PosteriorVariance::BetaTilde,
            )
            .unwrap(),
        );
        assert!(small.iter().all(|v| v.abs() < 2e-3), "t = {t}: {small:?}");
        let large = host(
            vlb::vlb_term_bpd(&process, x0.clone(), xt, t, eps, PosteriorVariance::Beta).unwrap(),
        );
        let r = s.posterior_variance[t] / s.betas[t];
        let want = 0.5 * (-r.ln() - 1.0 + r) / LN2;
        for v in large {
            assert!(
                (v as f64 - want).abs() < 2e-3 + 1e-3 * want,
                "t = {t}: {v} vs {want}"
            );
        }
    }
}

#[test]
fn decoder_and_prior_terms_match_their_closed_forms() {
    let (process, x0, device) = setup(8);
    let s = process.schedule();
    // At t = 0 the true noise gives μ_θ = x_0 exactly (ᾱ_0 = α_0), and the decoder's σ² borrows
    // β̃_1, so L_0 = -log₂(Φ(h/σ) - Φ(-h/σ)) with h = 1/255 for interior pixels.
    let eps = noise::normal(&mut noise::rng(0), [8, 4], &device);
    let x1 = process.q_sample(x0.clone(), &[0; 8], eps.clone());
    let l0 = host(
        vlb::vlb_term_bpd(
            &process,
            x0.clone(),
            x1,
            0,
            eps,
            PosteriorVariance::BetaTilde,
        )
        .unwrap(),
    );
    let sigma = s.posterior_variance[1].sqrt();
    let want = -(phi(vlb::HALF_BIN / sigma) - phi(-vlb::HALF_BIN / sigma)).log2();
    for v in l0 {
        assert!((v as f64 - want).abs() < 1e-3, "L_0 {v} vs {want}");
    }
    // L_T = KL(N(√ᾱ x₀, 1-ᾱ) ‖ N(0, 1)) = ½(-ln(1-ᾱ) - 1 + (1-ᾱ) + ᾱ x₀²) per dim.
    let abar = s.alphas_cumprod[process.num_steps() - 1];
    let xs = host(x0.clone());
    let prior = host(vlb::prior_bpd(&process, x0));
    for (i, p) in prior.iter().enumerate() {
        let want: f64 = xs[i * 4..i * 4 + 4]
            .iter()
            .map(|&x| 0.5 * (-(1.0 - abar).ln() - 1.0 + (1.0 - abar) + abar * (x as f64).powi(2)))
            .sum::<f64>()
            / 4.0
            / LN2;
        assert!((*p as f64 - want).abs() < 1e-5, "L_T {p} vs {want}");
    }
}

#[test]
fn the_bound_of_a_perfect_denoiser_is_below_a_useless_one() {
    let (process, x0, device) = setup(4);
    let noise_at = |t: usize| noise::normal(&mut noise::rng(1000 + t as u64), [4, 4], &device);
    // The oracle returns exactly the noise that made x_t (recomputed from the same seed).
    let oracle = vlb::nll_bound_bpd(
        &process,
        x0.clone(),
        noise_at,
        |_, t| noise_at(t),
        PosteriorVariance::BetaTilde,
    )
    .unwrap();
    let zero = vlb::nll_bound_bpd(
        &process,
        x0,
        noise_at,
        |x, _| x.zeros_like(),
        PosteriorVariance::BetaTilde,
    )
    .unwrap();
    let (good, bad) = (host(oracle.total()), host(zero.total()));
    let kl = host(oracle.kl);
    for i in 0..4 {
        assert!(kl[i].abs() < 0.05, "Σ KL with the true noise is {}", kl[i]);
        assert!(
            good[i] > 0.0 && good[i] < bad[i],
            "bound {} (oracle) vs {} (ε = 0)",
            good[i],
            bad[i]
        );
    }
}

#[test]
fn steps_out_of_range_are_errors() {
    let (process, x0, device) = setup(2);
    let eps = noise::normal(&mut noise::rng(0), [2, 4], &device);
    assert!(vlb::vlb_term_bpd(
        &process,
        x0.clone(),
        x0.clone(),
        1000,
        eps.clone(),
        PosteriorVariance::Beta
    )
    .is_err());
    assert!(vlb::posterior_kl_bpd(&process, x0.clone(), x0.clone(), 0, eps, 0.0).is_err());
}
