//! The continuous processes (VP, VE, sub-VP) and NCSN's discrete VE levels: closed-form marginals
//! against sampling, and the forward SDEs simulated step by step against their closed forms.
//!
//! Tolerances. With n draws of a coordinate with variance v, the sample mean has SE √(v/n) and the
//! sample variance √(2/(n-1))·v (Gaussian). Every check allows 3 SE. The Euler–Maruyama simulation
//! adds a bias of order Σ(β_i Δt)² ≈ 1e-4 relative at Δt = 1e-3, far below 3 SE.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use burn::prelude::*;
use common::column_moments;
use diffusion_playground::noise;
use diffusion_playground::process::{
    sigma_max_from_data, Marginal, Process, Sde, SubVpSde, VeConfig, VeSde, VpProcess, VpSde,
};
use diffusion_playground::schedule::{BetaSchedule, ScheduleConfig};
use rand_distr::{Distribution, StandardNormal};

const X0: [f32; 2] = [1.5, -2.0];

fn read(x: Tensor<2>) -> Vec<f32> {
    x.into_data().try_into_vec::<f32>().unwrap()
}

fn assert_moments(x: &[f32], m: Marginal, what: &str) {
    let n = x.len() / 2;
    let var = m.std * m.std;
    for (c, x0) in X0.iter().enumerate() {
        let (mean, v) = column_moments(x, 2, c);
        let want = m.mean_coef * *x0 as f64;
        let se_m = (var / n as f64).sqrt();
        let se_v = var * (2.0 / (n as f64 - 1.0)).sqrt();
        assert!(
            (mean - want).abs() <= 3.0 * se_m,
            "{what} coord {c}: mean {mean} vs {want} (3 SE = {})",
            3.0 * se_m
        );
        assert!(
            (v - var).abs() <= 3.0 * se_v,
            "{what} coord {c}: var {v} vs {var} (3 SE = {})",
            3.0 * se_v
        );
    }
}

fn x0_batch(n: usize, device: &Device) -> Tensor<2> {
    Tensor::from_data(TensorData::new(X0.repeat(n), [n, 2]), device)
}

#[test]
fn sde_q_sample_matches_closed_form_moments() {
    const N: usize = 20_000;
    let device = Device::flex();
    let mut rng = noise::rng(21);
    let sdes: [(&str, Box<dyn Sde>); 3] = [
        ("vp", Box::new(VpSde::default())),
        ("ve", Box::new(VeSde::new(0.01, 10.0).unwrap())),
        ("subvp", Box::new(SubVpSde::default())),
    ];
    for (name, sde) in &sdes {
        for t in [0.05, 0.3, 0.7, 1.0] {
            let z = noise::normal(&mut rng, [N, 2], &device);
            let x = read(sde.q_sample(x0_batch(N, &device), t, z));
            assert_moments(&x, sde.marginal(t), &format!("{name} q_sample t={t}"));
        }
    }
}

#[test]
fn ve_levels_q_sample_matches_closed_form_moments() {
    const N: usize = 20_000;
    let device = Device::flex();
    let ve = VeConfig {
        sigma_min: 0.01,
        sigma_max: 20.0,
        levels: 10,
    }
    .build()
    .unwrap();
    let mut rng = noise::rng(22);
    for t in [0, 3, 6, 9] {
        let z = noise::normal(&mut rng, [N, 2], &device);
        let x = read(ve.q_sample(x0_batch(N, &device), &vec![t; N], z));
        assert_moments(&x, ve.marginal(t), &format!("ve level {t}"));
    }
}

/// Simulate `dx = f(t) x dt + g(t) dW` forward from `x(0)` with Euler–Maruyama on the host.
fn simulate(sde: &dyn Sde, x: &mut [f32], from: f64, to: f64, steps: usize, seed: u64) {
    let mut rng = noise::rng(seed);
    let dt = (to - from) / steps as f64;
    for i in 0..steps {
        let t = from + i as f64 * dt;
        let (f, g) = (sde.drift_coef(t) * dt, sde.diffusion(t) * dt.sqrt());
        for v in x.iter_mut() {
            let z: f64 = StandardNormal.sample(&mut rng);
            *v = (*v as f64 * (1.0 + f) + g * z) as f32;
        }
    }
}

#[test]
fn forward_sdes_integrate_to_their_marginals() {
    // Drift and diffusion, simulated, must give the closed-form marginal: this ties f and g to
    // (a(t), s(t)) for each process (Song et al. 2021, eqs. 29-32 from eq. 5.50 of Särkkä & Solin).
    const N: usize = 10_000;
    let ve = VeSde::new(0.01, 10.0).unwrap();
    let sdes: [(&str, &dyn Sde); 3] = [
        ("vp", &VpSde::default()),
        ("ve", &ve),
        ("subvp", &SubVpSde::default()),
    ];
    for (k, (name, sde)) in sdes.iter().enumerate() {
        let mut x: Vec<f32> = X0.repeat(N);
        if *name == "ve" {
            // score_sde's VE marginal N(x_0, σ(t)² I) assumes x(0) = x_0 + σ_min z.
            let mut rng = noise::rng(99);
            for v in x.iter_mut() {
                let z: f64 = StandardNormal.sample(&mut rng);
                *v += (ve.sigma_min * z) as f32;
            }
        }
        let mut t = 0.0;
        for (j, t_next) in [0.25, 0.5, 1.0].into_iter().enumerate() {
            let steps = ((t_next - t) * 1000.0) as usize;
            simulate(
                *sde,
                &mut x,
                t,
                t_next,
                steps,
                100 + 10 * k as u64 + j as u64,
            );
            t = t_next;
            assert_moments(&x, sde.marginal(t), &format!("{name} simulated to t={t}"));
        }
    }
}

#[test]
fn vp_sde_is_the_limit_of_ddpm() {
    let config = ScheduleConfig::default();
    let ddpm = VpProcess::new(config).unwrap();
    let sde = VpSde::from_schedule(&config).unwrap();
    assert_eq!((sde.beta_min, sde.beta_max), (0.1, 20.0));
    let big_t = ddpm.num_steps();
    for i in [0, 1, 250, 500, 999] {
        // β_i = β(i/(T-1))/T exactly (score_sde VPSDE.discrete_betas); ddpm rounds to float32.
        let t = i as f64 / (big_t - 1) as f64;
        let step = sde.discretize(t, 1.0 / big_t as f64);
        let beta = ddpm.schedule().betas[i];
        assert!((step.g * step.g - beta).abs() < 1e-8, "beta {i}");
        assert!(((1.0 + step.f_coef).powi(2) - (1.0 - beta)).abs() < 1e-8);
        // The marginals agree to O(Σ β_j²) ≈ 0.13 in log ᾱ, i.e. to 0.01 in a and s.
        let (m, c) = (
            ddpm.marginal(i),
            sde.marginal((i + 1) as f64 / big_t as f64),
        );
        assert!(
            (m.mean_coef - c.mean_coef).abs() < 0.01,
            "a at {i}: {m:?} vs {c:?}"
        );
        assert!((m.std - c.std).abs() < 0.01, "s at {i}: {m:?} vs {c:?}");
    }
    let cosine = ScheduleConfig {
        kind: BetaSchedule::Cosine,
        ..config
    };
    assert!(VpSde::from_schedule(&cosine).is_err());
}

#[test]
fn ve_levels_are_geometric_and_validated() {
    let ve = VeConfig {
        sigma_min: 0.01,
        sigma_max: 1.0,
        levels: 3,
    }
    .build()
    .unwrap();
    let s = ve.sigmas();
    assert!(
        (s[0] - 0.01).abs() < 1e-12 && (s[1] - 0.1).abs() < 1e-12 && (s[2] - 1.0).abs() < 1e-12
    );
    assert_eq!(ve.prior_std(), 1.0);
    for (lo, hi) in [
        (1.0, 1.0),
        (2.0, 1.0),
        (0.0, 1.0),
        (-1.0, 1.0),
        (f64::NAN, 1.0),
    ] {
        let c = VeConfig {
            sigma_min: lo,
            sigma_max: hi,
            levels: 10,
        };
        assert!(
            c.build().is_err(),
            "accepted sigma_min {lo}, sigma_max {hi}"
        );
        assert!(VeSde::new(lo, hi).is_err());
    }
    let one_level = VeConfig {
        levels: 1,
        ..VeConfig::default()
    };
    assert!(one_level.build().is_err());
}

#[test]
fn sigma_max_is_the_largest_pairwise_distance() {
    let pts = [0.0f32, 0.0, 3.0, 4.0, 1.0, 1.0, -1.0, 0.0];
    assert!((sigma_max_from_data(&pts, 2).unwrap() - (16.0f64 + 16.0).sqrt()).abs() < 1e-6);
    assert!(sigma_max_from_data(&pts[..2], 2).is_err());
}

#[test]
fn sub_vp_variance_stays_below_vp() {
    let (vp, sub) = (VpSde::default(), SubVpSde::default());
    for i in 1..=20 {
        let t = i as f64 / 20.0;
        let (a, b) = (vp.marginal(t), sub.marginal(t));
        assert!((a.mean_coef - b.mean_coef).abs() < 1e-15);
        assert!(
            b.std < a.std,
            "t={t}: sub-VP std {} ≥ VP std {}",
            b.std,
            a.std
        );
    }
}
