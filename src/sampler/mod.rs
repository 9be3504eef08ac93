//! Samplers are small state machines over a batch: `reset(x_T)`, then `step()` until `done()`.
//! The page calls `step()` once per animation frame batch; the CLI calls it in a loop.

pub mod ancestral;

pub use ancestral::{AncestralSampler, PosteriorVariance};

use burn::prelude::*;

/// What one reverse step produced (diffusers' `SchedulerOutput` plus the noise-free mean).
#[derive(Debug, Clone)]
pub struct StepOutput {
    /// The new sample `x_{t-1}`.
    pub x: Tensor<2>,
    /// The same step without its noise term.
    pub x_mean: Tensor<2>,
    /// The model's current guess of the clean sample, `x̂_0`.
    pub x0_pred: Tensor<2>,
    /// The step `t` that was just taken (the sample is now at `t-1`).
    pub t: usize,
}
