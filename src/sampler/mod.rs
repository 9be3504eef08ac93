//! Samplers are small state machines over a batch: `reset(x_T)`, then `step()` until `done()`.
//! The page calls `step()` once per animation frame batch; the CLI calls it in a loop.
//!
//! Every sampler runs any [`ScoreModel`] (a network through [`crate::model::NetworkScore`], or an
//! exact oracle) through the [`Sampler`] trait. Discrete samplers walk a [`crate::process::Process`]'s
//! steps (`usize`); continuous ones walk a grid on `[ε, 1]` of an [`crate::process::Sde`] (`f64`).

pub mod ancestral;
pub mod annealed;
pub mod ddim;
pub mod dpm_solver;
pub mod edm;
pub mod euler_maruyama;
pub mod langevin;
pub mod ode;
pub mod pc;
pub mod spec;
pub mod walk;

pub use ancestral::{AncestralSampler, PosteriorVariance};
pub use annealed::AnnealedLangevin;
pub use ddim::{ddim_timesteps, DdimEnd, DdimSampler, TimestepSpacing};
pub use dpm_solver::{dpm_timesteps, DpmSolverSampler};
pub use edm::{Churn, EdmMethod, EdmSampler};
pub use euler_maruyama::EulerMaruyama;
pub use langevin::{langevin_corrector_step, LangevinSampler};
pub use ode::{OdeMethod, ProbabilityFlowOde};
pub use pc::PredictorCorrector;
pub use spec::{no_data, SamplerSpec, ScoreSource, SdeKind};
pub use walk::{Prior, Rule, Step, Walker};

use burn::prelude::*;

use crate::error::{Error, Result};
use crate::model::ScoreModel;
use crate::process::Time;

/// What one reverse step produced (diffusers' `SchedulerOutput` plus the noise-free mean).
#[derive(Debug, Clone)]
pub struct StepOutput {
    /// The new sample `x_{t-1}`.
    pub x: Tensor<2>,
    /// The same step without its noise term.
    pub x_mean: Tensor<2>,
    /// The model's current guess of the clean sample, `x̂_0`.
    pub x0_pred: Tensor<2>,
    /// The index of the step just taken: the DDPM step `t` for discrete samplers (the sample is
    /// now at `t-1`), the number of steps still to take for the others.
    pub t: usize,
    /// The process time at which the step queried the model.
    pub time: Time,
}

/// The contract every sampler keeps.
pub trait Sampler {
    /// Start from `x_T` `[n, d]`.
    fn reset(&mut self, x_t: Tensor<2>);
    /// Start from the sampler's prior, drawn from its own seeded generator.
    fn reset_from_prior(&mut self, n: usize, d: usize, device: &Device);
    /// One step with the score model `model`.
    fn step(&mut self, model: &dyn ScoreModel) -> Result<StepOutput>;
    fn done(&self) -> bool;
    /// Steps still to take.
    fn remaining(&self) -> usize;
    /// The current sample.
    fn current(&self) -> Option<&Tensor<2>>;

    /// Step until done and return the final sample.
    fn run(&mut self, model: &dyn ScoreModel) -> Result<Tensor<2>> {
        while !self.done() {
            self.step(model)?;
        }
        self.current()
            .cloned()
            .ok_or_else(|| Error::invalid("the sampler has no x_T; call reset first"))
    }
}

/// Discrete samplers that can join the reverse chain partway down: SDEdit (Meng et al. 2022, §3)
/// draws `x(t₀) ~ N(√ᾱ_{t₀} x₀, (1-ᾱ_{t₀}) I)` from a guide image and runs the reverse process
/// from `t₀` instead of from `T`.
pub trait StartAt: Sampler {
    /// The step the walk starts from for a requested `t₀`: the largest step it visits that is
    /// `≤ t₀` (every step for ancestral sampling, DDIM's sub-sequence τ for DDIM).
    fn start_step(&self, t0: usize) -> Result<usize>;
    /// Start from `x` `[n, d]`, a draw of `q(x_t | x_0)` at step `t = start_step(t)`: the next
    /// step queries the model at `t`.
    fn reset_at(&mut self, x: Tensor<2>, t: usize) -> Result<()>;
}

/// An SDE sampler's walk: the SDE it reverses and its time grid, from the prior at `t = 1` (the
/// SDE's `N(0, σ_T² I)`) to `t = ε`: what Euler–Maruyama, PC and the ODE share.
pub struct SdeWalk {
    pub sde: Box<dyn crate::process::Sde>,
    pub grid: TimeGrid,
}

impl SdeWalk {
    pub fn new(sde: Box<dyn crate::process::Sde>, steps: usize, eps: f64) -> Result<Self> {
        Ok(Self {
            sde,
            grid: TimeGrid::new(steps, eps)?,
        })
    }

    pub fn prior(&self) -> Prior {
        Prior::Normal {
            std: self.sde.prior_std(),
        }
    }
}

/// score_sde's sampling grid, with its end made exact: `t_i = 1 - i (1-ε)/N`, `i = 0..N`, so the
/// walk runs from the prior at `t = 1` to `t = ε` in `N` steps of `Δt = (1-ε)/N`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TimeGrid {
    pub steps: usize,
    pub eps: f64,
}

impl TimeGrid {
    pub fn new(steps: usize, eps: f64) -> Result<Self> {
        if steps == 0 {
            return Err(Error::invalid(
                "the number of sampling steps must be at least 1",
            ));
        }
        if !(eps > 0.0 && eps < 1.0) {
            return Err(Error::invalid(format!(
                "the end time ε must lie in (0, 1), got {eps}"
            )));
        }
        Ok(Self { steps, eps })
    }

    /// `t_i`.
    pub fn t(&self, i: usize) -> f64 {
        1.0 - i as f64 * self.dt()
    }

    /// `Δt > 0`.
    pub fn dt(&self) -> f64 {
        (1.0 - self.eps) / self.steps as f64
    }
}

pub fn check_positive(name: &str, v: f64) -> Result<()> {
    if !(v > 0.0 && v.is_finite()) {
        return Err(Error::invalid(format!(
            "{name} must be positive and finite, got {v}"
        )));
    }
    Ok(())
}

pub(crate) fn check_steps(name: &str, n: usize) -> Result<()> {
    if n == 0 {
        return Err(Error::invalid(format!("{name} must be at least 1")));
    }
    Ok(())
}
