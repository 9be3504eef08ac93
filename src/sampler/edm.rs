//! EDM's sampler (Karras et al. 2022, Algorithm 2) on any discrete process, in its σ
//! coordinates ([`crate::process::sigma`]): the ODE `dx/dσ = (x - D(x; σ))/σ` (eq. 3 with
//! `σ(t) = t`, `s(t) = 1`) on Karras σ (eq. 5), by Heun's method with an Euler last step into
//! `σ = 0`, or by Euler's (diffusers' `EulerDiscreteScheduler`). Stochastic churn (§4) first
//! raises σ_i to `σ̂ = (1 + γ) σ_i`, `γ = min(S_churn/N, √2 - 1)` for `σ_i ∈ [S_tmin, S_tmax]`,
//! adding `√(σ̂² - σ_i²) S_noise z`.
//!
//! `D(x; σ)` is the model's `x̂₀` at the process's level with that σ, fed `a(σ) x`; the walk keeps
//! the sample in the process's own coordinates `x_t = a x`, so it starts from the prior and is
//! drawn as the other samplers are.

use burn::prelude::*;
use serde::{Deserialize, Serialize};

use super::{Prior, Rule, Step, StepOutput, Walker};
use crate::error::{Error, Result};
use crate::model::ScoreModel;
use crate::noise;
use crate::process::{karras_sigmas, DiscreteProcess};

/// The integrator of the σ-ODE.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum EdmMethod {
    /// First order, one network call a step.
    Euler,
    /// Second order (Algorithm 2): two calls a step, one for the last.
    #[default]
    Heun,
}

/// Stochastic churn's settings (Algorithm 2, lines 4–6).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Churn {
    pub s_churn: f64,
    pub s_tmin: f64,
    pub s_tmax: f64,
    pub s_noise: f64,
}

impl Churn {
    /// No churn: the deterministic ODE.
    pub const NONE: Self = Self {
        s_churn: 0.0,
        s_tmin: 0.0,
        s_tmax: f64::INFINITY,
        s_noise: 1.0,
    };

    fn validate(&self) -> Result<()> {
        let ok = self.s_churn >= 0.0
            && self.s_churn.is_finite()
            && self.s_tmin >= 0.0
            && self.s_tmax >= self.s_tmin
            && self.s_noise >= 0.0
            && self.s_noise.is_finite();
        if !ok {
            return Err(Error::invalid(format!(
                "churn needs S_churn ≥ 0, 0 ≤ S_tmin ≤ S_tmax and S_noise ≥ 0, got {self:?}"
            )));
        }
        Ok(())
    }

    /// `γ_i` at `σ_i` on a walk of `n` steps.
    fn gamma(&self, sigma: f64, n: usize) -> f64 {
        if (self.s_tmin..=self.s_tmax).contains(&sigma) {
            (self.s_churn / n as f64).min(std::f64::consts::SQRT_2 - 1.0)
        } else {
            0.0
        }
    }
}

pub struct Edm {
    process: DiscreteProcess,
    /// `σ_0 > … > σ_{N-1} > σ_N = 0`.
    sigmas: Vec<f64>,
    method: EdmMethod,
    churn: Churn,
}

pub type EdmSampler = Walker<Edm>;

impl EdmSampler {
    /// `steps` steps on Karras σ with `rho` between the process's smallest and largest σ.
    pub fn new(
        process: DiscreteProcess,
        steps: usize,
        rho: f64,
        method: EdmMethod,
        churn: Churn,
        seed: u64,
    ) -> Result<Self> {
        churn.validate()?;
        let (lo, hi) = process.sigma_range()?;
        let sigmas = karras_sigmas(lo, hi, steps, rho)?;
        let rule = Edm {
            process,
            sigmas,
            method,
            churn,
        };
        Ok(Walker::with_rule(rule, seed))
    }

    /// The σ of each step, then 0.
    pub fn sigmas(&self) -> &[f64] {
        &self.rule().sigmas
    }
}

impl Edm {
    /// `D(x; σ)`, `x` in σ coordinates.
    fn denoise(&self, model: &dyn ScoreModel, x: Tensor<2>, sigma: f64) -> Result<Tensor<2>> {
        let level = self.process.level_at_sigma(sigma);
        model.denoise(x * level.marginal.mean_coef, &level)
    }
}

impl Rule for Edm {
    fn steps(&self) -> usize {
        self.sigmas.len() - 1
    }

    fn prior(&self) -> Prior {
        Prior::Normal {
            std: self.process.marginal_at_sigma(self.sigmas[0]).std,
        }
    }

    fn update(&mut self, s: Step<'_>) -> Result<StepOutput> {
        let Step { x, i, rng, model } = s;
        let n = self.steps();
        let (sigma, next) = (self.sigmas[i], self.sigmas[i + 1]);
        let mut x = x / self.process.marginal_at_sigma(sigma).mean_coef;
        let gamma = self.churn.gamma(sigma, n);
        let sigma_hat = sigma * (1.0 + gamma);
        if gamma > 0.0 {
            let z = noise::normal(rng, x.dims(), &x.device());
            x = x + z * ((sigma_hat * sigma_hat - sigma * sigma).sqrt() * self.churn.s_noise);
        }
        let x0_pred = self.denoise(model, x.clone(), sigma_hat)?;
        let d = (x.clone() - x0_pred.clone()) / sigma_hat;
        let dt = next - sigma_hat;
        let mut x_next = x.clone() + d.clone() * dt;
        if self.method == EdmMethod::Heun && next > 0.0 {
            let d2 = (x_next.clone() - self.denoise(model, x_next, next)?) / next;
            x_next = x + (d + d2) * (0.5 * dt);
        }
        let x_next = x_next * self.process.marginal_at_sigma(next).mean_coef;
        Ok(StepOutput {
            x: x_next.clone(),
            x_mean: x_next,
            x0_pred,
            t: n - 1 - i,
            time: self.process.level_at_sigma(sigma_hat).time,
        })
    }
}
