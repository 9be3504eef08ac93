//! The options of a point-cloud run that both faces expose, with one set of defaults and ranges:
//! `dplay train`'s flags of these names (`--batch-size`) and the page's training controls (the
//! catalogue's `training` entry, built from this struct's default and [`RANGES`]).

use serde::{Deserialize, Serialize};

use super::TrainConfig;
use crate::error::{Error, Result};
use crate::model::MlpConfig;
use crate::score::Objective;

/// The ε- (or score-) MLP's size and Adam's run.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrainOptions {
    /// Hidden width and number of residual blocks of the MLP.
    pub hidden: usize,
    pub depth: usize,
    /// Adam's peak learning rate.
    pub lr: f64,
    pub batch_size: usize,
    /// Optimiser steps the learning-rate schedule spans (warm-up, then cosine decay).
    pub steps: usize,
    pub seed: u64,
}

/// The accepted range of each numeric option, `(key, min, max)`: what [`TrainOptions::validate`]
/// checks and the page's controls offer.
pub const RANGES: [(&str, f64, f64); 6] = [
    ("hidden", 1.0, 1024.0),
    ("depth", 1.0, 16.0),
    ("lr", 1e-6, 1.0),
    ("batch_size", 1.0, 65536.0),
    ("steps", 1.0, 10_000_000.0),
    ("seed", 0.0, u32::MAX as f64),
];

impl Default for TrainOptions {
    /// [`TrainConfig`]'s and [`MlpConfig`]'s defaults.
    fn default() -> Self {
        let (c, m) = (TrainConfig::new(), MlpConfig::new());
        Self {
            hidden: m.hidden,
            depth: m.depth,
            lr: c.lr,
            batch_size: c.batch_size,
            steps: c.steps,
            seed: c.seed,
        }
    }
}

/// A tenth of the run warms up, at most DDPM's 100 steps (the default run's warm-up).
pub fn warmup_for(steps: usize) -> usize {
    (steps / 10).clamp(1, 100)
}

impl TrainOptions {
    /// Each option inside its [`RANGES`] entry.
    pub fn validate(&self) -> Result<()> {
        let values = [
            self.hidden as f64,
            self.depth as f64,
            self.lr,
            self.batch_size as f64,
            self.steps as f64,
            self.seed as f64,
        ];
        for ((key, min, max), v) in RANGES.iter().zip(values) {
            if !(*min..=*max).contains(&v) {
                return Err(Error::invalid(format!(
                    "{key} = {v} must lie in [{min}, {max}]"
                )));
            }
        }
        Ok(())
    }

    /// The run: an MLP on `dim`-dimensional points trained with `objective`, warmed up over
    /// [`warmup_for`] steps; the other optimiser settings at their defaults.
    pub fn config(&self, dim: usize, objective: Objective) -> Result<TrainConfig> {
        self.validate()?;
        Ok(TrainConfig::new()
            .with_model(
                MlpConfig::new()
                    .with_dim(dim)
                    .with_hidden(self.hidden)
                    .with_depth(self.depth),
            )
            .with_objective(objective)
            .with_steps(self.steps)
            .with_batch_size(self.batch_size)
            .with_lr(self.lr)
            .with_warmup(warmup_for(self.steps))
            .with_seed(self.seed))
    }
}
