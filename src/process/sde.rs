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

    /// `(ȧ(t), ṡ(t))`, the rates of the marginal's coefficients. From `f = d log a/dt` and
    /// `g² = d(s²)/dt - 2 f s²` (the moment equations of the linear SDE, Särkkä & Solin 2019,
    /// eq. 5.51): `ȧ = f a`, `ṡ = (g² + 2 f s²)/(2s)`. A process whose `f` or `g` is infinite
    /// somewhere (the flow path at `t = 1`) states them exactly instead.
    fn marginal_rate(&self, t: f64) -> Marginal {
        let (f, g, m) = (self.drift_coef(t), self.diffusion(t), self.marginal(t));
        Marginal {
            mean_coef: f * m.mean_coef,
            std: (g * g + 2.0 * f * m.std * m.std) / (2.0 * m.std),
        }
    }

    /// The probability-flow ODE in denoiser form, `dx/dt = c_x x + c_D D(x)` with
    /// `D = E[x_0|x_t]`: from `f x - ½ g² ∇log p` and Tweedie's `∇log p = -(x - a D)/s²`,
    /// `dx/dt = ȧ D + ṡ ε̂ = (ṡ/s) x + (ȧ - a ṡ/s) D` (Karras et al. 2022, eq. 4 in `x`). It is
    /// finite where the signal is gone (`a = 0`), unlike the score form. Returns `(c_x, c_D)`;
    /// the drift's divergence is `c_x d + c_D ∇·D`.
    fn probability_flow_coefs(&self, t: f64) -> (f64, f64) {
        let (m, r) = (self.marginal(t), self.marginal_rate(t));
        let c_x = r.std / m.std;
        (c_x, r.mean_coef - m.mean_coef * c_x)
    }

    /// `dx/dt` of the probability-flow ODE at `x` with denoiser output `x0` (see
    /// [`Sde::probability_flow_coefs`]).
    fn probability_flow(&self, x: Tensor<2>, x0: Tensor<2>, t: f64) -> Tensor<2> {
        let (c_x, c_d) = self.probability_flow_coefs(t);
        x * c_x + x0 * c_d
    }

    /// Whether the reverse SDE can be walked from `t = 1` (its `f` and `g` finite there).
    fn reverse_sde_defined(&self) -> bool {
        true
    }

    /// The reverse SDE's drift `f(t) x - g(t)² ∇log p_t` (Song et al. 2021, eq. 6; Anderson 1982).
    fn reverse_drift(&self, x: Tensor<2>, score: Tensor<2>, t: f64) -> Tensor<2> {
        let g = self.diffusion(t);
        x * self.drift_coef(t) - score * (g * g)
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
