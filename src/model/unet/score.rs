//! A [`UNet2D`] as a [`ScoreModel`] for the samplers, which work on flat batches `[n, d]`:
//! rows are images `[c, h, w]` in C order, and the network's output means what its scheduler's
//! `prediction_type` says (ε, x̂₀ or v), turned into a score by [`Parameterization::to_score`].

use burn::prelude::*;

use super::scheduler::SchedulerSettings;
use super::unet2d::UNet2D;
use crate::error::{Error, Result};
use crate::model::guidance::{check_scale, Guided};
use crate::model::{Parameterization, ScoreModel};
use crate::process::NoiseLevel;

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
        let t = level.time.network_input(self.train_steps);
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

    fn denoise(&self, x: Tensor<2>, level: &NoiseLevel) -> Result<Tensor<2>> {
        let out = self.output(x.clone(), level)?;
        self.prediction.to_x0(out, x, level.marginal)
    }
}

/// A UNet as a sampler's model: unconditional; conditioned on `labels` (one per image); or with
/// `scale`, guided between them and `null` (default the last label, as a network trained with
/// labels dropped to an extra class). Labels for an unconditional network, or none for a
/// class-conditional one, are errors.
pub fn conditioned<'a>(
    net: &'a UNet2D,
    image: [usize; 3],
    scheduler: &SchedulerSettings,
    labels: Option<Vec<usize>>,
    scale: Option<f64>,
    null: Option<usize>,
) -> Result<Box<dyn ScoreModel + 'a>> {
    let plain = UNetScore::new(net, image, scheduler);
    let Some(classes) = net.num_classes() else {
        if labels.is_some() || scale.is_some() || null.is_some() {
            return Err(Error::invalid(
                "labels and guidance need a class-conditional UNet (num_class_embeds)",
            ));
        }
        return Ok(Box::new(plain));
    };
    let labels = labels.ok_or_else(|| {
        Error::invalid(format!(
            "the UNet is class-conditional ({classes} labels): give --labels, one per image or one for all"
        ))
    })?;
    let in_range = |what: &str, k: usize| {
        if k < classes {
            Ok(())
        } else {
            Err(Error::invalid(format!(
                "{what} {k} is out of range, the UNet knows 0..{}",
                classes - 1
            )))
        }
    };
    for &k in &labels {
        in_range("label", k)?;
    }
    let Some(scale) = scale else {
        return Ok(Box::new(plain.with_labels(labels)));
    };
    let null = null.unwrap_or(classes - 1);
    in_range("--null-label", null)?;
    check_scale(scale)?;
    let n = labels.len();
    Ok(Box::new(GuidedUNet {
        conditional: UNetScore::new(net, image, scheduler).with_labels(labels),
        unconditional: plain.with_labels(vec![null; n]),
        scale,
    }))
}

/// [`Guided`] owning its two halves.
struct GuidedUNet<'a> {
    conditional: UNetScore<'a>,
    unconditional: UNetScore<'a>,
    scale: f64,
}

impl ScoreModel for GuidedUNet<'_> {
    fn score(&self, x: Tensor<2>, level: &NoiseLevel) -> Result<Tensor<2>> {
        Guided {
            conditional: &self.conditional,
            unconditional: &self.unconditional,
            scale: self.scale,
        }
        .score(x, level)
    }

    fn denoise(&self, x: Tensor<2>, level: &NoiseLevel) -> Result<Tensor<2>> {
        Guided {
            conditional: &self.conditional,
            unconditional: &self.unconditional,
            scale: self.scale,
        }
        .denoise(x, level)
    }
}
