//! The variance-exploding process of NCSN (Song & Ermon 2019): `x̃ = x + σ z` with σ geometric
//! from σ_max to σ_min, in discrete levels ([`VeProcess`]) and in continuous time ([`VeSde`],
//! Song et al. 2021, eq. 30: `σ(t) = σ_min (σ_max/σ_min)^t`, `dx = σ(t)√(2 ln(σ_max/σ_min)) dW`).

use super::{Discretized, Marginal, Process, Sde};
use crate::error::{Error, Result};

fn validate_sigmas(sigma_min: f64, sigma_max: f64) -> Result<()> {
    if !(sigma_min > 0.0 && sigma_min.is_finite() && sigma_max.is_finite()) {
        return Err(Error::invalid(format!(
            "sigma_min must be positive and finite and sigma_max finite, got {sigma_min} and {sigma_max}"
        )));
    }
    if sigma_min >= sigma_max {
        return Err(Error::invalid(format!(
            "need sigma_min < sigma_max, got sigma_min {sigma_min} >= sigma_max {sigma_max}"
        )));
    }
    Ok(())
}

/// NCSN's noise levels.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct VeConfig {
    pub sigma_min: f64,
    pub sigma_max: f64,
    /// L, the number of levels.
    pub levels: usize,
}

impl Default for VeConfig {
    /// NCSN's CIFAR-10 levels: σ from 1 to 0.01 over L = 10 (Song & Ermon 2019, §4.2).
    fn default() -> Self {
        Self {
            sigma_min: 0.01,
            sigma_max: 1.0,
            levels: 10,
        }
    }
}

impl VeConfig {
    pub fn validate(&self) -> Result<()> {
        validate_sigmas(self.sigma_min, self.sigma_max)?;
        if self.levels < 2 {
            return Err(Error::invalid(format!(
                "need at least 2 noise levels, got {}",
                self.levels
            )));
        }
        crate::budget::check_tables("a VE process", self.levels)
    }

    /// One level `x̃ = x + σ z`: what a noise-free objective trains on (σ = 0, the data itself)
    /// or one σ (Vincent 2011). It is not a process to sample: [`VeConfig::validate`] refuses it.
    pub fn one_level(sigma: f64) -> Self {
        Self {
            sigma_min: sigma,
            sigma_max: sigma,
            levels: 1,
        }
    }

    /// Whether this is [`VeConfig::one_level`] (one level with σ_min = σ_max).
    pub fn is_one_level(&self) -> bool {
        self.levels == 1 && self.sigma_min == self.sigma_max
    }

    /// The checks of [`VeConfig::validate`], or for one level σ ≥ 0 finite.
    pub fn validate_levels(&self) -> Result<()> {
        if !self.is_one_level() {
            return self.validate();
        }
        let s = self.sigma_min;
        if s >= 0.0 && s.is_finite() {
            Ok(())
        } else {
            Err(Error::invalid(format!(
                "the noise level σ must be non-negative and finite, got {s}"
            )))
        }
    }

    /// The levels, where [`VeConfig::validate_levels`] accepts them (one level included).
    pub fn build(&self) -> Result<VeProcess> {
        self.validate_levels()?;
        let l = self.levels;
        let ratio = self.sigma_max / self.sigma_min;
        let sigmas = match self.is_one_level() {
            true => vec![self.sigma_min],
            false => (0..l)
                .map(|t| self.sigma_min * ratio.powf(t as f64 / (l - 1) as f64))
                .collect(),
        };
        Ok(VeProcess {
            config: *self,
            sigmas,
        })
    }
}

/// The discrete VE process. Index `t = 0..L-1` grows with the noise as DDPM's does:
/// `σ_t = σ_min (σ_max/σ_min)^{t/(L-1)}`, so NCSN's `σ_i` (i = 1..L, decreasing) is `σ_{L-i}`.
#[derive(Debug, Clone, PartialEq)]
pub struct VeProcess {
    config: VeConfig,
    sigmas: Vec<f64>,
}

impl VeProcess {
    pub fn config(&self) -> &VeConfig {
        &self.config
    }

    /// `x̃ = x + σ_t z` (NCSN's perturbation, Song & Ermon 2019, §4.1), one level `t` per row.
    pub fn q_sample(
        &self,
        x0: burn::prelude::Tensor<2>,
        t: &[usize],
        noise: burn::prelude::Tensor<2>,
    ) -> burn::prelude::Tensor<2> {
        use burn::prelude::*;
        let s: Vec<f32> = t.iter().map(|&t| self.sigmas[t] as f32).collect();
        let s = Tensor::<2>::from_data(TensorData::new(s, [t.len(), 1]), &x0.device());
        x0 + noise * s
    }

    /// σ_t for `t = 0..L-1`, increasing.
    pub fn sigmas(&self) -> &[f64] {
        &self.sigmas
    }
}

impl Process for VeProcess {
    fn num_steps(&self) -> usize {
        self.sigmas.len()
    }

    /// `q(x̃|x) = N(x, σ_t² I)`.
    fn marginal(&self, t: usize) -> Marginal {
        Marginal {
            mean_coef: 1.0,
            std: self.sigmas[t],
        }
    }

    fn prior_std(&self) -> f64 {
        self.config.sigma_max
    }
}

/// The VE SDE, NCSN's continuous limit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VeSde {
    pub sigma_min: f64,
    pub sigma_max: f64,
}

impl VeSde {
    pub fn new(sigma_min: f64, sigma_max: f64) -> Result<Self> {
        validate_sigmas(sigma_min, sigma_max)?;
        Ok(Self {
            sigma_min,
            sigma_max,
        })
    }

    /// `σ(t) = σ_min (σ_max/σ_min)^t`.
    pub fn sigma(&self, t: f64) -> f64 {
        self.sigma_min * (self.sigma_max / self.sigma_min).powf(t)
    }
}

impl Sde for VeSde {
    fn drift_coef(&self, _t: f64) -> f64 {
        0.0
    }

    /// `g(t) = σ(t) √(2 ln(σ_max/σ_min))`, so that `d σ²/dt = g²`.
    fn diffusion(&self, t: f64) -> f64 {
        self.sigma(t) * (2.0 * (self.sigma_max / self.sigma_min).ln()).sqrt()
    }

    fn marginal(&self, t: f64) -> Marginal {
        Marginal {
            mean_coef: 1.0,
            std: self.sigma(t),
        }
    }

    fn prior_std(&self) -> f64 {
        self.sigma_max
    }

    /// SMLD's own chain `x_i = x_{i-1} + √(σ_i² - σ_{i-1}²) z` (Song et al. 2021, eq. 45), with
    /// σ = 0 below t = 0 as in score_sde.
    fn discretize(&self, t: f64, dt: f64) -> Discretized {
        let prev = if t - dt > 0.0 {
            self.sigma(t - dt)
        } else {
            0.0
        };
        let s = self.sigma(t);
        Discretized {
            f_coef: 0.0,
            g: (s * s - prev * prev).max(0.0).sqrt(),
        }
    }
}

/// NCSNv2's Technique 1 (Song & Ermon 2020, §3.1): σ_max as large as the largest Euclidean
/// distance between two training points. `points` is row-major `[n, d]`.
pub fn sigma_max_from_data(points: &[f32], d: usize) -> Result<f64> {
    if d == 0 || points.len() % d != 0 || points.len() / d < 2 {
        return Err(Error::invalid(format!(
            "need at least two points of dimension {d} to measure their spread, got {} values",
            points.len()
        )));
    }
    let n = points.len() / d;
    let mut best = 0.0f64;
    for i in 0..n {
        let a = &points[i * d..(i + 1) * d];
        for j in i + 1..n {
            let b = &points[j * d..(j + 1) * d];
            let d2: f64 = a
                .iter()
                .zip(b)
                .map(|(p, q)| (*p as f64 - *q as f64).powi(2))
                .sum();
            best = best.max(d2);
        }
    }
    if !best.is_finite() {
        return Err(Error::invalid("the points are not finite"));
    }
    Ok(best.sqrt())
}
