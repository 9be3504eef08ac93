//! The variance-preserving process in DDPM's discrete time (Ho et al. 2020, §2).

use burn::prelude::*;

use super::{Marginal, Process};
use crate::error::Result;
use crate::schedule::{Schedule, ScheduleConfig};

#[derive(Debug, Clone)]
pub struct VpProcess {
    schedule: Schedule,
}

impl VpProcess {
    pub fn new(config: ScheduleConfig) -> Result<Self> {
        Ok(Self {
            schedule: config.build()?,
        })
    }

    pub fn schedule(&self) -> &Schedule {
        &self.schedule
    }

    /// `q_sample`: `x_t = √ᾱ_t x_0 + √(1-ᾱ_t) ε` (DDPM eq. 4), one `t` per row of `x0`.
    pub fn q_sample(&self, x0: Tensor<2>, t: &[usize], noise: Tensor<2>) -> Tensor<2> {
        let device = x0.device();
        let a = self.column(t, |t| self.marginal(t).mean_coef, &device);
        let s = self.column(t, |t| self.marginal(t).std, &device);
        x0 * a + noise * s
    }

    /// One step of the chain: `x_t = √α_t x_{t-1} + √β_t ε` (DDPM eq. 2).
    pub fn q_step(&self, x_prev: Tensor<2>, t: usize, noise: Tensor<2>) -> Tensor<2> {
        let (a, b) = (self.schedule.alphas[t], self.schedule.betas[t]);
        x_prev * a.sqrt() + noise * b.sqrt()
    }

    /// `q_posterior`: the mean `μ̃_t = c1 x_0 + c2 x_t` and variance `β̃_t` of `q(x_{t-1} | x_t, x_0)`
    /// (DDPM eq. 7).
    pub fn q_posterior(&self, x0: Tensor<2>, xt: Tensor<2>, t: usize) -> (Tensor<2>, f64) {
        let s = &self.schedule;
        (
            x0 * s.posterior_mean_coef1[t] + xt * s.posterior_mean_coef2[t],
            s.posterior_variance[t],
        )
    }

    /// `x̂_0 = (x_t - √(1-ᾱ_t) ε) / √ᾱ_t`, inverting eq. 4 for a predicted ε.
    pub fn predict_x0_from_eps(&self, xt: Tensor<2>, t: usize, eps: Tensor<2>) -> Tensor<2> {
        let m = self.marginal(t);
        (xt - eps * m.std) / m.mean_coef
    }

    /// A `[n, 1]` column of per-row coefficients `f(t_i)`.
    fn column(&self, t: &[usize], f: impl Fn(usize) -> f64, device: &Device) -> Tensor<2> {
        let v: Vec<f32> = t.iter().map(|&t| f(t) as f32).collect();
        Tensor::from_data(TensorData::new(v, [t.len(), 1]), device)
    }
}

impl Process for VpProcess {
    fn num_steps(&self) -> usize {
        self.schedule.len()
    }

    fn marginal(&self, t: usize) -> Marginal {
        let ab = self.schedule.alphas_cumprod[t];
        Marginal {
            mean_coef: ab.sqrt(),
            std: (1.0 - ab).sqrt(),
        }
    }

    fn prior_std(&self) -> f64 {
        1.0
    }
}

/// The VP SDE, DDPM's continuous limit (Song et al. 2021, eq. 11 and eq. 29):
/// `dx = -½β(t) x dt + √β(t) dW`, `β(t) = β_min + t (β_max - β_min)`, `t ∈ [0, 1]`.
/// The discrete [`VpProcess`] with `β_i = β(i/(T-1))/T` is its discretisation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VpSde {
    pub beta_min: f64,
    pub beta_max: f64,
}

impl Default for VpSde {
    /// The limit of DDPM's schedule: `β_min = T·1e-4 = 0.1`, `β_max = T·0.02 = 20`.
    fn default() -> Self {
        Self {
            beta_min: 0.1,
            beta_max: 20.0,
        }
    }
}

impl VpSde {
    pub fn new(beta_min: f64, beta_max: f64) -> Result<Self> {
        super::sde::validate_beta_range(beta_min, beta_max)?;
        Ok(Self { beta_min, beta_max })
    }

    /// The continuous limit of a linear discrete schedule: `β(t) = T β_{tT}`.
    pub fn from_schedule(config: &ScheduleConfig) -> Result<Self> {
        config.validate()?;
        if config.kind != crate::schedule::BetaSchedule::Linear {
            return Err(crate::Error::invalid(
                "only a linear β schedule has a linear continuous limit β(t)",
            ));
        }
        let t = config.steps as f64;
        Self::new(t * config.beta_start, t * config.beta_end)
    }

    /// `β(t)`.
    pub fn beta(&self, t: f64) -> f64 {
        self.beta_min + t * (self.beta_max - self.beta_min)
    }
}

impl super::Sde for VpSde {
    fn drift_coef(&self, t: f64) -> f64 {
        -0.5 * self.beta(t)
    }

    fn diffusion(&self, t: f64) -> f64 {
        self.beta(t).sqrt()
    }

    /// `N(e^{log a} x_0, (1 - e^{2 log a}) I)` (Song et al. 2021, eq. 29).
    fn marginal(&self, t: f64) -> Marginal {
        let lm = super::sde::vp_log_mean_coef(self.beta_min, self.beta_max, t);
        Marginal {
            mean_coef: lm.exp(),
            std: (-(2.0 * lm).exp_m1()).sqrt(),
        }
    }

    fn prior_std(&self) -> f64 {
        1.0
    }

    /// DDPM's own chain `x_i = √(1-β_i) x_{i-1} + √β_i z` with `β_i = β(t) dt`
    /// (DDPM eq. 2; score_sde `VPSDE.discretize`).
    fn discretize(&self, t: f64, dt: f64) -> super::Discretized {
        let b = self.beta(t) * dt;
        super::Discretized {
            f_coef: (1.0 - b).sqrt() - 1.0,
            g: b.sqrt(),
        }
    }

    fn corrector_alpha(&self, t: f64, dt: f64) -> f64 {
        1.0 - self.beta(t) * dt
    }
}
