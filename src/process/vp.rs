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
