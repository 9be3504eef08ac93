//! A [`UNet2D`] as a [`ScoreModel`] for the samplers, which work on flat batches `[n, d]`:
//! rows are images `[c, h, w]` in C order, and the network's output means what its scheduler's
//! `prediction_type` says (ε, x̂₀ or v), turned into a score by [`Parameterization::to_score`].

use burn::prelude::*;

use super::scheduler::SchedulerSettings;
use super::unet2d::UNet2D;
use crate::error::{Error, Result};
use crate::model::{Parameterization, ScoreModel};
use crate::process::{NoiseLevel, Time};

pub struct UNetScore<'a> {
    pub net: &'a UNet2D,
    /// `[c, h, w]` of one image.
    pub image: [usize; 3],
    /// T, the number of steps the network was trained on (continuous time `t` feeds `t·(T-1)`).
    pub train_steps: usize,
    /// What the network predicts.
    pub prediction: Parameterization,
    /// One class label per image, for a class-conditional network.
    pub labels: Option<Vec<usize>>,
}

impl<'a> UNetScore<'a> {
    /// The network as its scheduler config reads it.
    pub fn new(net: &'a UNet2D, image: [usize; 3], scheduler: &SchedulerSettings) -> Self {
        Self {
            net,
            image,
            train_steps: scheduler.schedule.steps,
            prediction: scheduler.prediction,
            labels: None,
        }
    }

    /// The same network conditioned on `labels`, one per image.
    pub fn with_labels(mut self, labels: Vec<usize>) -> Self {
        self.labels = Some(labels);
        self
    }

    /// The network's output (its [`Self::prediction`]) for flat images `x` `[n, c·h·w]`, flat
    /// again.
    pub fn output(&self, x: Tensor<2>, level: &NoiseLevel) -> Result<Tensor<2>> {
        let [n, d] = x.dims();
        let [c, h, w] = self.image;
        if d != c * h * w {
            return Err(Error::invalid(format!(
                "rows of {d} values are not images of shape {:?}",
                self.image
            )));
        }
        let t = match level.time {
            Time::Step(i) => i as f32,
            Time::Continuous(t) => (t * (self.train_steps.max(1) - 1) as f64) as f32,
        };
        let out = self.net.try_forward_labelled(
            x.reshape([n, c, h, w]),
            &vec![t; n],
            self.labels.as_deref(),
        )?;
        Ok(out.reshape([n, d]))
    }
}

impl ScoreModel for UNetScore<'_> {
    fn score(&self, x: Tensor<2>, level: &NoiseLevel) -> Result<Tensor<2>> {
        let out = self.output(x.clone(), level)?;
        self.prediction.to_score(out, x, level.marginal)
    }
}
