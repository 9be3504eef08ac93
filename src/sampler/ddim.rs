//! DDIM (Song, Meng & Ermon 2021, eq. 12) on a sub-sequence τ of DDPM's steps:
//! `x_{τ'} = √ᾱ_{τ'} x̂_0 + √(1-ᾱ_{τ'}-σ²) ε̂ + σ z`,
//! `σ = η √((1-ᾱ_{τ'})/(1-ᾱ_τ)) √(1-ᾱ_τ/ᾱ_{τ'})` (eq. 16); η = 0 is deterministic, η = 1 is
//! DDPM's posterior variance. τ follows diffusers' `timestep_spacing`.
//!
//! The same family exists for any Gaussian marginal `x_t = a_t x_0 + s_t ε` (DDIM §4.1 needs only
//! the marginals): `x_{τ'} = a_{τ'} x̂_0 + √(s_{τ'}² - σ²) ε̂ + σ z`, `x̂_0 = (x_τ - s_τ ε̂)/a_τ`,
//! `σ² = η² s_{τ'}² (s_τ² - r² s_{τ'}²)/s_τ²`, `r = a_τ/a_{τ'}` (the posterior variance of the
//! chain τ' → τ); VP gives eq. 16 back, so one sampler walks VP, sub-VP and VE
//! ([`DdimSampler::on_process`]).

use burn::prelude::*;
use serde::{Deserialize, Serialize};

use super::{Prior, Rule, StartAt, Step, StepOutput, Walker};
use crate::error::{Error, Result};
use crate::noise;
use crate::process::{DiscreteProcess, Marginal, NoiseLevel, Process, VpProcess};

/// How the inference steps are spread over `0..T-1` (diffusers `DDIMScheduler.set_timesteps`;
/// Lin et al. 2024, Table 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum TimestepSpacing {
    /// `k·⌊T/n⌋`, k = n-1..0 (DDIM's original; never visits T-1).
    #[default]
    Leading,
    /// `round(T - k·T/n) - 1`, k = 0..n-1 (starts at T-1).
    Trailing,
    /// `round(linspace(0, T-1, n))`, reversed.
    Linspace,
}

/// The `n` DDIM timesteps out of `train_steps`, from the noisiest down. Rounding is numpy's
/// (half to even) so the lists equal diffusers'.
pub fn ddim_timesteps(
    train_steps: usize,
    n: usize,
    spacing: TimestepSpacing,
) -> Result<Vec<usize>> {
    if n == 0 || n > train_steps {
        return Err(Error::invalid(format!(
            "the number of DDIM steps must be between 1 and T = {train_steps}, got {n}"
        )));
    }
    let big_t = train_steps as f64;
    let steps: Vec<usize> = match spacing {
        TimestepSpacing::Leading => {
            let ratio = train_steps / n;
            (0..n).rev().map(|k| k * ratio).collect()
        }
        TimestepSpacing::Trailing => {
            let ratio = big_t / n as f64;
            (0..n)
                .map(|k| (big_t - k as f64 * ratio).round_ties_even() as usize - 1)
                .collect()
        }
        TimestepSpacing::Linspace => {
            let last = (train_steps - 1) as f64;
            (0..n)
                .rev()
                .map(|k| {
                    if n == 1 {
                        0
                    } else {
                        (k as f64 * last / (n - 1) as f64).round_ties_even() as usize
                    }
                })
                .collect()
        }
    };
    Ok(steps)
}

/// Where DDIM's last step lands (diffusers' `set_alpha_to_one`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum DdimEnd {
    /// As an image model's scheduler says ([`super::SamplerSpec::under_scheduler`]), else
    /// [`DdimEnd::Data`].
    #[default]
    Auto,
    /// On the clean data, `ᾱ = 1` (`set_alpha_to_one=True`).
    Data,
    /// On step 0's marginal, `ᾱ = ᾱ_0` (`set_alpha_to_one=False`, as Stable Diffusion's).
    FirstStep,
}

/// DDIM's walk down τ: step `i` goes from `τ_i` to `τ_{i+1}` (then to [`DdimEnd`]).
pub struct Ddim {
    process: DiscreteProcess,
    timesteps: Vec<usize>,
    eta: f64,
    /// Clip x̂_0 to [-c, c] (diffusers' `clip_sample`).
    clip: Option<f64>,
    end: DdimEnd,
}

pub type DdimSampler = Walker<Ddim>;

impl DdimSampler {
    pub fn new(
        process: VpProcess,
        n_steps: usize,
        spacing: TimestepSpacing,
        eta: f64,
        clip: Option<f64>,
        seed: u64,
    ) -> Result<Self> {
        Self::on_process(process.into(), n_steps, spacing, eta, clip, seed)
    }

    /// DDIM on any discrete process's marginals (see the module docs).
    pub fn on_process(
        process: DiscreteProcess,
        n_steps: usize,
        spacing: TimestepSpacing,
        eta: f64,
        clip: Option<f64>,
        seed: u64,
    ) -> Result<Self> {
        if !(0.0..=1.0).contains(&eta) {
            return Err(Error::invalid(format!("η must lie in [0, 1], got {eta}")));
        }
        if let Some(c) = clip {
            super::check_positive("the clip bound", c)?;
        }
        let timesteps = ddim_timesteps(process.num_steps(), n_steps, spacing)?;
        let rule = Ddim {
            process,
            timesteps,
            eta,
            clip,
            end: DdimEnd::Auto,
        };
        Ok(Walker::with_rule(rule, seed))
    }

    /// The last step lands on `end`.
    pub fn with_end(mut self, end: DdimEnd) -> Self {
        self.rule_mut().end = end;
        self
    }

    /// The timesteps τ this sampler visits, noisiest first.
    pub fn timesteps(&self) -> &[usize] {
        &self.rule().timesteps
    }
}

impl Rule for Ddim {
    fn steps(&self) -> usize {
        self.timesteps.len()
    }

    fn prior(&self) -> Prior {
        Prior::Normal {
            std: self.process.prior_std(),
        }
    }

    fn update(&mut self, s: Step<'_>) -> Result<StepOutput> {
        let Step { x, i, rng, model } = s;
        let [n, d] = x.dims();
        let t = self.timesteps[i];
        let level = NoiseLevel::step(&self.process, t);
        let (a, s_t) = (level.marginal.mean_coef, level.marginal.std);
        // The next visited step's marginal; past the end the clean data or step 0's marginal
        // (diffusers' set_alpha_to_one).
        let next = match (self.timesteps.get(i + 1), self.end) {
            (Some(&p), _) => self.process.marginal(p),
            (None, DdimEnd::Auto | DdimEnd::Data) => Marginal {
                mean_coef: 1.0,
                std: 0.0,
            },
            (None, DdimEnd::FirstStep) => self.process.marginal(0),
        };
        let (a_next, s_next) = (next.mean_coef, next.std);
        // x̂_0 (eq. 12, "predicted x_0") and ε̂ = (x_t - a_t x̂_0)/s_t, the model's own pair (so
        // the flow path's pure noise, a = 0, is a step like any other: its Euler step).
        let x0 = model.denoise(x.clone(), &level)?;
        let eps = (x.clone() - x0.clone() * a) / s_t;
        let x0_pred = match self.clip {
            Some(c) => x0.clamp(-c, c),
            None => x0,
        };
        let r = a / a_next;
        let var = s_next * s_next * (s_t * s_t - r * r * s_next * s_next) / (s_t * s_t);
        let sigma = self.eta * var.max(0.0).sqrt();
        let dir = (s_next * s_next - sigma * sigma).max(0.0).sqrt();
        let x_mean = x0_pred.clone() * a_next + eps * dir;
        let x_next = if sigma > 0.0 {
            x_mean.clone() + noise::normal(rng, [n, d], &x_mean.device()) * sigma
        } else {
            x_mean.clone()
        };
        Ok(StepOutput {
            x: x_next,
            x_mean,
            x0_pred,
            t,
            time: level.time,
        })
    }
}

impl StartAt for DdimSampler {
    fn start_step(&self, t0: usize) -> Result<usize> {
        // τ is descending: the first entry ≤ t₀.
        self.timesteps()
            .iter()
            .copied()
            .find(|&t| t <= t0)
            .ok_or_else(|| Error::invalid(format!("no DDIM step at or below t₀ = {t0}")))
    }

    fn reset_at(&mut self, x: Tensor<2>, t: usize) -> Result<()> {
        let i = self
            .timesteps()
            .iter()
            .position(|&s| s == t)
            .ok_or_else(|| {
                Error::invalid(format!(
                    "t = {t} is not one of the {} DDIM steps; start at start_step(t)",
                    self.timesteps().len()
                ))
            })?;
        self.start_at(x, i);
        Ok(())
    }
}
