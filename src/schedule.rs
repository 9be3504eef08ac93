//! Discrete noise schedules: β_t tables for DDPM-style processes, computed once in f64.
//!
//! Time is the DDPM/diffusers index `t = 0..T-1`; `ᾱ_{-1} = 1`.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// How β_t is spread over `t = 0..T-1`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum BetaSchedule {
    /// β linear from `beta_start` to `beta_end` (Ho et al. 2020, §4).
    #[default]
    Linear,
    /// `squaredcos_cap_v2` (Nichol & Dhariwal 2021, eq. 17), β capped at 0.999.
    Cosine,
    /// diffusers' `scaled_linear` (latent diffusion, Stable Diffusion): √β linear from
    /// `√beta_start` to `√beta_end`.
    ScaledLinear,
}

impl std::str::FromStr for BetaSchedule {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "linear" => Ok(Self::Linear),
            "cosine" => Ok(Self::Cosine),
            "scaled_linear" => Ok(Self::ScaledLinear),
            other => Err(Error::invalid(format!(
                "unknown beta schedule '{other}' (expected linear, cosine or scaled_linear)"
            ))),
        }
    }
}

/// Everything that defines a discrete schedule. Saved beside trained weights.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ScheduleConfig {
    pub kind: BetaSchedule,
    /// Number of diffusion steps T.
    pub steps: usize,
    pub beta_start: f64,
    pub beta_end: f64,
}

impl Default for ScheduleConfig {
    /// DDPM's schedule: T = 1000, β linear from 1e-4 to 0.02.
    fn default() -> Self {
        Self {
            kind: BetaSchedule::Linear,
            steps: 1000,
            beta_start: 1e-4,
            beta_end: 0.02,
        }
    }
}

impl ScheduleConfig {
    /// score_sde's `VPSDE.discrete_betas`: β_i linear from β_min/T to β_max/T, the chain whose
    /// limit is the VP SDE with β(t) linear from β_min to β_max (T = 1000, 0.1 and 20: DDPM's
    /// 1e-4 to 0.02).
    pub fn score_sde(beta_min: f64, beta_max: f64, steps: usize) -> Self {
        Self {
            kind: BetaSchedule::Linear,
            steps,
            beta_start: beta_min / steps as f64,
            beta_end: beta_max / steps as f64,
        }
    }

    pub fn validate(&self) -> Result<()> {
        if self.steps == 0 {
            return Err(Error::invalid(
                "the number of diffusion steps T must be at least 1",
            ));
        }
        crate::budget::check_tables("a β schedule", self.steps)?;
        if self.kind != BetaSchedule::Cosine
            && !(self.beta_start > 0.0 && self.beta_start <= self.beta_end && self.beta_end < 1.0)
        {
            return Err(Error::invalid(format!(
                "need 0 < beta_start <= beta_end < 1, got {} and {}",
                self.beta_start, self.beta_end
            )));
        }
        Ok(())
    }

    pub fn build(&self) -> Result<Schedule> {
        self.validate()?;
        Ok(Schedule::from_betas(*self, self.betas()))
    }

    fn betas(&self) -> Vec<f64> {
        let t = self.steps;
        match self.kind {
            BetaSchedule::Linear if t == 1 => vec![self.beta_start],
            // torch.linspace(beta_start, beta_end, T) in float32, as diffusers builds it.
            BetaSchedule::Linear => (0..t)
                .map(|i| {
                    let b = self.beta_start
                        + (self.beta_end - self.beta_start) * i as f64 / (t - 1) as f64;
                    b as f32 as f64
                })
                .collect(),
            BetaSchedule::ScaledLinear if t == 1 => vec![self.beta_start],
            // torch.linspace(√beta_start, √beta_end, T, dtype=float32) ** 2.
            BetaSchedule::ScaledLinear => {
                let (lo, hi) = (self.beta_start.sqrt(), self.beta_end.sqrt());
                (0..t)
                    .map(|i| {
                        let r = (lo + (hi - lo) * i as f64 / (t - 1) as f64) as f32;
                        (r * r) as f64
                    })
                    .collect()
            }
            BetaSchedule::Cosine => {
                // ᾱ(τ) = cos²((τ + s)/(1 + s) · π/2), s = 0.008; β_t = 1 - ᾱ((t+1)/T)/ᾱ(t/T).
                let abar = |tau: f64| {
                    ((tau + 0.008) / 1.008 * std::f64::consts::FRAC_PI_2)
                        .cos()
                        .powi(2)
                };
                (0..t)
                    .map(|i| {
                        let b = 1.0 - abar((i + 1) as f64 / t as f64) / abar(i as f64 / t as f64);
                        b.min(0.999) as f32 as f64
                    })
                    .collect()
            }
        }
    }
}

/// The tables of a discrete VP schedule (DDPM eqs. 4, 6, 7).
#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    pub config: ScheduleConfig,
    /// β_t
    pub betas: Vec<f64>,
    /// α_t = 1 - β_t
    pub alphas: Vec<f64>,
    /// ᾱ_t = Π_{s≤t} α_s
    pub alphas_cumprod: Vec<f64>,
    /// ᾱ_{t-1}, with ᾱ_{-1} = 1
    pub alphas_cumprod_prev: Vec<f64>,
    /// β̃_t = β_t (1 - ᾱ_{t-1}) / (1 - ᾱ_t)
    pub posterior_variance: Vec<f64>,
    /// c1_t = β_t √ᾱ_{t-1} / (1 - ᾱ_t), the coefficient of x_0 in μ̃_t
    pub posterior_mean_coef1: Vec<f64>,
    /// c2_t = (1 - ᾱ_{t-1}) √α_t / (1 - ᾱ_t), the coefficient of x_t in μ̃_t
    pub posterior_mean_coef2: Vec<f64>,
}

impl Schedule {
    fn from_betas(config: ScheduleConfig, betas: Vec<f64>) -> Self {
        // diffusers keeps β, α and ᾱ in float32 tensors (torch's CPU cumprod accumulates in
        // double and rounds each entry); mirroring that makes every table agree with PyTorch's to
        // ~1e-8. Everything derived from them is computed in f64.
        let alphas: Vec<f64> = betas.iter().map(|&b| (1.0f32 - b as f32) as f64).collect();
        let alphas_cumprod: Vec<f64> = alphas
            .iter()
            .scan(1.0f64, |acc, a| {
                *acc *= a;
                Some(*acc as f32 as f64)
            })
            .collect();
        let alphas_cumprod_prev: Vec<f64> = std::iter::once(1.0)
            .chain(alphas_cumprod.iter().copied())
            .take(betas.len())
            .collect();
        let n = betas.len();
        let mut posterior_variance = Vec::with_capacity(n);
        let mut coef1 = Vec::with_capacity(n);
        let mut coef2 = Vec::with_capacity(n);
        for t in 0..n {
            let (b, a, ab, abp) = (
                betas[t],
                alphas[t],
                alphas_cumprod[t],
                alphas_cumprod_prev[t],
            );
            posterior_variance.push(b * (1.0 - abp) / (1.0 - ab));
            coef1.push(b * abp.sqrt() / (1.0 - ab));
            coef2.push((1.0 - abp) * a.sqrt() / (1.0 - ab));
        }
        Self {
            config,
            betas,
            alphas,
            alphas_cumprod,
            alphas_cumprod_prev,
            posterior_variance,
            posterior_mean_coef1: coef1,
            posterior_mean_coef2: coef2,
        }
    }

    /// T, the number of steps.
    pub fn len(&self) -> usize {
        self.betas.len()
    }

    pub fn is_empty(&self) -> bool {
        self.betas.is_empty()
    }
}
