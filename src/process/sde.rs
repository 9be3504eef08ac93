//! Continuous-time processes `dx = f(x,t) dt + g(t) dW` on `t ∈ [ε, 1]` (Song et al. 2021,
//! "Score-Based Generative Modeling through SDEs", eq. 5), modelled on score_sde's `sde_lib.py`.
//!
//! Every process here has a drift linear in `x`, `f(x,t) = f(t)·x`, so a process is described by
//! two scalar functions of `t` and its Gaussian marginal `p_{0t}(x_t|x_0) = N(a(t) x_0, s(t)² I)`.
//! Continuous time is `f64`; discrete DDPM/NCSN indices are `usize` (see [`super::Process`]).

use burn::prelude::*;

use super::{Marginal, NoiseLevel, Time};

/// One step of a process's own discretisation `x_{i+1} = x_i + f_i x_i + G_i z`
/// (score_sde `SDE.discretize`; Song et al. 2021, eq. 45 for the reverse-diffusion predictor).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Discretized {
    /// `f_i`, the coefficient of `x_i` in the drift increment.
    pub f_coef: f64,
    /// `G_i`, the noise scale of the step.
    pub g: f64,
}

/// Which reverse-time dynamics to follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reverse {
    /// The reverse SDE, drift `f - g² ∇log p_t` (Song et al. 2021, eq. 6; Anderson 1982).
    Sde,
    /// The probability-flow ODE, drift `f - ½ g² ∇log p_t` (Song et al. 2021, eq. 13).
    ProbabilityFlow,
}

/// A forward SDE with a linear drift and a Gaussian marginal, in continuous time `t ∈ [0, 1]`.
pub trait Sde {
    /// `f(t)` with `f(x, t) = f(t)·x`.
    fn drift_coef(&self, t: f64) -> f64;
    /// `g(t)`.
    fn diffusion(&self, t: f64) -> f64;
    /// The perturbation kernel `p_{0t}(x_t|x_0) = N(a(t) x_0, s(t)² I)`.
    fn marginal(&self, t: f64) -> Marginal;
    /// The prior `p_1 = N(0, prior_std² I)`.
    fn prior_std(&self) -> f64;

    /// The process's discretisation over `[t - dt, t]`. The default is Euler–Maruyama:
    /// `f_i = f(t) dt`, `G_i = g(t) √dt` (score_sde `SDE.discretize`).
    fn discretize(&self, t: f64, dt: f64) -> Discretized {
        Discretized {
            f_coef: self.drift_coef(t) * dt,
            g: self.diffusion(t) * dt.sqrt(),
        }
    }

    /// The `α_i` that scales the Langevin corrector's step (score_sde `LangevinCorrector`):
    /// `α_i = 1 - β_i` for VP, 1 otherwise.
    fn corrector_alpha(&self, _t: f64, _dt: f64) -> f64 {
        1.0
    }

    /// The noise level a score model is queried at.
    fn level(&self, t: f64) -> NoiseLevel {
        NoiseLevel {
            time: Time::Continuous(t),
            marginal: self.marginal(t),
        }
    }

    /// `x_t = a(t) x_0 + s(t) z`, a draw from the perturbation kernel.
    fn q_sample(&self, x0: Tensor<2>, t: f64, noise: Tensor<2>) -> Tensor<2> {
        let m = self.marginal(t);
        x0 * m.mean_coef + noise * m.std
    }

    /// The reverse drift `f(t) x - w g(t)² s` with `w = 1` (reverse SDE, eq. 6) or `w = ½`
    /// (probability flow, eq. 13).
    fn reverse_drift(&self, x: Tensor<2>, score: Tensor<2>, t: f64, kind: Reverse) -> Tensor<2> {
        let w = match kind {
            Reverse::Sde => 1.0,
            Reverse::ProbabilityFlow => 0.5,
        };
        let g = self.diffusion(t);
        x * self.drift_coef(t) - score * (w * g * g)
    }
}

/// `log a(t) = -¼ t² (β_max - β_min) - ½ t β_min`, the log mean coefficient shared by VP and
/// sub-VP (Song et al. 2021, eq. 29 and eq. 32).
pub(crate) fn vp_log_mean_coef(beta_min: f64, beta_max: f64, t: f64) -> f64 {
    -0.25 * t * t * (beta_max - beta_min) - 0.5 * t * beta_min
}

/// `β(t) = β_min + t (β_max - β_min)` must be positive on `[0, 1]`.
pub(crate) fn validate_beta_range(beta_min: f64, beta_max: f64) -> crate::Result<()> {
    if !(beta_min > 0.0 && beta_min.is_finite() && beta_max >= beta_min && beta_max.is_finite()) {
        return Err(crate::Error::invalid(format!(
            "need 0 < beta_min <= beta_max, got {beta_min} and {beta_max}"
        )));
    }
    Ok(())
}
