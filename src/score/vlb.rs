//! DDPM's variational bound (Ho et al. 2020, eq. 5), term by term, in bits per dimension:
//!
//! `L = L_T + Σ_{t>1} L_{t-1} + L_0`, with
//! - `L_T = KL(q(x_T|x_0) ‖ N(0, I))`,
//! - `L_{t-1} = KL(q(x_{t-1}|x_t, x_0) ‖ p_θ(x_{t-1}|x_t))`, both Gaussian (eqs. 6–7, 10–11),
//! - `L_0 = -log p_θ(x_0|x_1)`, a discretised Gaussian decoder on 256 bins of `[-1, 1]` (§3.3,
//!   eq. 13).
//!
//! Time is the crate's 0-based index: step `t = 0..T-1` is the paper's `t + 1`, so the KL terms
//! sit at `t ≥ 1` and the decoder at `t = 0`. Every term is the per-example mean over dimensions
//! divided by `ln 2` (bits/dim), the convention of Ho et al.'s and Nichol & Dhariwal's tables.
//! `p_θ(x_{t-1}|x_t) = N(μ_θ, σ_t² I)` with `μ_θ` from an ε prediction (eq. 11) and a fixed σ_t²
//! ([`PosteriorVariance`]).

use std::f64::consts::LN_2;

use burn::prelude::*;

use crate::error::{Error, Result};
use crate::process::{Process, VpProcess};
use crate::sampler::PosteriorVariance;

/// Half the width of one of the 256 bins of `[-1, 1]`: the bin centres are `2k/255 - 1`.
pub const HALF_BIN: f64 = 1.0 / 255.0;

/// `KL(N(μ₁, e^{ℓ₁}) ‖ N(μ₂, e^{ℓ₂}))` elementwise, in nats:
/// `½ (-1 + ℓ₂ - ℓ₁ + e^{ℓ₁ - ℓ₂} + (μ₁ - μ₂)² e^{-ℓ₂})`.
pub fn normal_kl<const D: usize>(
    mean1: Tensor<D>,
    logvar1: Tensor<D>,
    mean2: Tensor<D>,
    logvar2: Tensor<D>,
) -> Tensor<D> {
    let diff = mean1 - mean2;
    let dl = logvar2.clone() - logvar1;
    ((dl.clone() - 1.0) + dl.neg().exp() + diff.square() * logvar2.neg().exp()) * 0.5
}

/// `Φ(x) = ½ (1 + erf(x/√2))`, the standard normal CDF.
pub fn standard_normal_cdf<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    ((x * std::f64::consts::FRAC_1_SQRT_2).erf() + 1.0) * 0.5
}

/// `log p(x)` elementwise under the discretised Gaussian of Ho et al. §3.3 (eq. 13): for data
/// `x` on the 256 bin centres of `[-1, 1]`, the probability of `x`'s bin
/// `[x - 1/255, x + 1/255]` under `N(mean, e^{2 log_scale})`, the two edge bins extended to
/// `∓∞`, so the 256 probabilities sum to 1 for any mean and scale. Probabilities are floored at
/// `1e-12` before the log.
pub fn discretized_gaussian_log_likelihood<const D: usize>(
    x: Tensor<D>,
    mean: Tensor<D>,
    log_scale: Tensor<D>,
) -> Tensor<D> {
    let inv_std = log_scale.neg().exp();
    let centred = x.clone() - mean;
    let cdf_plus = standard_normal_cdf((centred.clone() + HALF_BIN) * inv_std.clone());
    let cdf_min = standard_normal_cdf((centred - HALF_BIN) * inv_std);
    let log_cdf_plus = cdf_plus.clone().clamp_min(1e-12).log();
    let log_one_minus_cdf_min = (cdf_min.clone().neg() + 1.0).clamp_min(1e-12).log();
    let log_delta = (cdf_plus - cdf_min).clamp_min(1e-12).log();
    let lowest = x.clone().lower_elem(-0.999);
    let highest = x.greater_elem(0.999);
    log_delta
        .mask_where(highest, log_one_minus_cdf_min)
        .mask_where(lowest, log_cdf_plus)
}

/// `-mean_dims(t) / ln 2` per row: nats summed over a row → bits/dim.
fn bits_per_dim(nats: Tensor<2>) -> Tensor<1> {
    let [n, _] = nats.dims();
    nats.mean_dim(1).reshape([n]) / LN_2
}

/// `L_T` in bits/dim per row: `KL(N(√ᾱ_{T-1} x_0, 1-ᾱ_{T-1}) ‖ N(0, 1))` averaged over dims.
pub fn prior_bpd(process: &VpProcess, x0: Tensor<2>) -> Tensor<1> {
    let m = process.marginal(process.num_steps() - 1);
    let mean = x0 * m.mean_coef;
    let logvar = mean.zeros_like() + (m.std * m.std).ln();
    let zeros = mean.zeros_like();
    bits_per_dim(normal_kl(mean, logvar, zeros.clone(), zeros))
}

/// `μ_θ(x_t, t) = (x_t - β_t/√(1-ᾱ_t) ε_θ) / √α_t` (eq. 11).
pub fn p_mean_from_eps(process: &VpProcess, xt: Tensor<2>, t: usize, eps: Tensor<2>) -> Tensor<2> {
    let s = process.schedule();
    let coef = s.betas[t] / (1.0 - s.alphas_cumprod[t]).sqrt();
    (xt - eps * coef) / s.alphas[t].sqrt()
}

/// `ln σ_t²` of the fixed reverse variance, clipped at `t = 0` as in Nichol & Dhariwal's code
/// (`β̃_0 = 0`, so step 0 borrows `β̃_1`): `β_t` (σ² = β, "fixed large") or `β̃_t`
/// ("fixed small") for `t ≥ 1`.
pub fn model_log_variance(process: &VpProcess, t: usize, variance: PosteriorVariance) -> f64 {
    let s = process.schedule();
    if t == 0 {
        let v = s.posterior_variance.get(1).copied().unwrap_or(s.betas[0]);
        return v.ln();
    }
    match variance {
        PosteriorVariance::Beta => s.betas[t].ln(),
        PosteriorVariance::BetaTilde => s.posterior_variance[t].ln(),
    }
}

fn check_step(process: &VpProcess, t: usize) -> Result<()> {
    if t >= process.num_steps() {
        return Err(Error::invalid(format!(
            "step {t} out of range for T = {}",
            process.num_steps()
        )));
    }
    Ok(())
}

/// `L_{t-1}` in bits/dim per row for `t ≥ 1`: `KL(N(μ̃_t(x_0, x_t), β̃_t) ‖ N(model_mean, e^{log_var}))`.
pub fn posterior_kl_bpd(
    process: &VpProcess,
    x0: Tensor<2>,
    xt: Tensor<2>,
    t: usize,
    model_mean: Tensor<2>,
    model_log_var: f64,
) -> Result<Tensor<1>> {
    check_step(process, t)?;
    if t == 0 {
        return Err(Error::invalid(
            "step 0 has no KL term: its term is the decoder's L_0 (decoder_nll_bpd)",
        ));
    }
    let (mean, var) = process.q_posterior(x0, xt, t);
    let logvar = mean.zeros_like() + var.ln();
    let model_logvar = model_mean.zeros_like() + model_log_var;
    Ok(bits_per_dim(normal_kl(
        mean,
        logvar,
        model_mean,
        model_logvar,
    )))
}

/// `L_0 = -log p_θ(x_0|x_1)` in bits/dim per row, the decoder `N(model_mean, e^{log_var})`
/// discretised to 256 bins (x_0 must lie on the bin centres of `[-1, 1]`).
pub fn decoder_nll_bpd(x0: Tensor<2>, model_mean: Tensor<2>, model_log_var: f64) -> Tensor<1> {
    let log_scale = model_mean.zeros_like() + 0.5 * model_log_var;
    bits_per_dim(discretized_gaussian_log_likelihood(x0, model_mean, log_scale).neg())
}

/// The bound's term at step `t` in bits/dim per row for an ε prediction at `x_t`:
/// `L_0` (decoder) at `t = 0`, `L_{t-1}` (KL) at `t ≥ 1`.
pub fn vlb_term_bpd(
    process: &VpProcess,
    x0: Tensor<2>,
    xt: Tensor<2>,
    t: usize,
    eps_pred: Tensor<2>,
    variance: PosteriorVariance,
) -> Result<Tensor<1>> {
    check_step(process, t)?;
    let mean = p_mean_from_eps(process, xt.clone(), t, eps_pred);
    let log_var = model_log_variance(process, t, variance);
    if t == 0 {
        Ok(decoder_nll_bpd(x0, mean, log_var))
    } else {
        posterior_kl_bpd(process, x0, xt, t, mean, log_var)
    }
}

/// The whole bound, per row and by term.
#[derive(Debug, Clone)]
pub struct VlbBreakdown {
    /// `L_T`, `[n]`.
    pub prior: Tensor<1>,
    /// `L_0`, `[n]`.
    pub decoder: Tensor<1>,
    /// `Σ_{t≥1} L_{t-1}`, `[n]`.
    pub kl: Tensor<1>,
}

impl VlbBreakdown {
    /// `L_T + Σ L_{t-1} + L_0`, an upper bound on `-log p_θ(x_0)` in bits/dim, `[n]`.
    pub fn total(&self) -> Tensor<1> {
        self.prior.clone() + self.decoder.clone() + self.kl.clone()
    }
}

/// The bound at every step for data `x0` `[n, d]` on the 256-bin grid: at each `t`, `x_t` is
/// drawn from `q(x_t|x_0)` with `noise(t)` `[n, d]` and `eps_model(x_t, t)` predicts ε
/// (T network evaluations).
pub fn nll_bound_bpd(
    process: &VpProcess,
    x0: Tensor<2>,
    mut noise: impl FnMut(usize) -> Tensor<2>,
    mut eps_model: impl FnMut(Tensor<2>, usize) -> Tensor<2>,
    variance: PosteriorVariance,
) -> Result<VlbBreakdown> {
    let [n, d] = x0.dims();
    let device = x0.device();
    let mut kl = Tensor::<1>::zeros([n], &device);
    let mut decoder = None;
    for t in 0..process.num_steps() {
        let z = noise(t);
        if z.dims() != [n, d] {
            return Err(Error::invalid(format!(
                "noise at step {t} is {:?}, expected [{n}, {d}]",
                z.dims()
            )));
        }
        let xt = process.q_sample(x0.clone(), &vec![t; n], z);
        let eps = eps_model(xt.clone(), t);
        let term = vlb_term_bpd(process, x0.clone(), xt, t, eps, variance)?;
        if t == 0 {
            decoder = Some(term);
        } else {
            kl = kl + term;
        }
    }
    Ok(VlbBreakdown {
        prior: prior_bpd(process, x0.clone()),
        decoder: decoder.expect("T ≥ 1 is validated by the schedule"),
        kl,
    })
}
