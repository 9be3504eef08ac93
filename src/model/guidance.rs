//! Classifier-free guidance (Ho & Salimans 2022, eq. 6, in diffusers' form): with guidance scale
//! `s`, `ε̃ = ε(x, ∅) + s (ε(x, c) − ε(x, ∅))`. At one noise level the score is `−ε/s_t` for
//! both, so the same combination of the two scores is the guided score: `s = 1` is the
//! conditional model, `s = 0` the unconditional one, `s > 1` sharpens towards the class.

use burn::prelude::*;
use serde::{Deserialize, Serialize};

use super::ScoreModel;
use crate::error::{Error, Result};
use crate::process::NoiseLevel;

pub struct Guided<'a> {
    pub conditional: &'a dyn ScoreModel,
    pub unconditional: &'a dyn ScoreModel,
    pub scale: f64,
}

/// A guidance scale is any finite number.
pub fn check_scale(scale: f64) -> Result<()> {
    if scale.is_finite() {
        Ok(())
    } else {
        Err(Error::invalid(format!(
            "the guidance scale must be a finite number, got {scale}"
        )))
    }
}

impl<'a> Guided<'a> {
    pub fn new(
        conditional: &'a dyn ScoreModel,
        unconditional: &'a dyn ScoreModel,
        scale: f64,
    ) -> Result<Self> {
        check_scale(scale)?;
        Ok(Self {
            conditional,
            unconditional,
            scale,
        })
    }
}

impl ScoreModel for Guided<'_> {
    fn score(&self, x: Tensor<2>, level: &NoiseLevel) -> Result<Tensor<2>> {
        let u = self.unconditional.score(x.clone(), level)?;
        let c = self.conditional.score(x, level)?;
        Ok(u.clone() + (c - u) * self.scale)
    }

    /// `x̂_0 = (x - s ε)/a` is affine in ε at one `x`, so the same combination of the two
    /// estimates is the guided one (and stays defined where `a = 0`).
    fn denoise(&self, x: Tensor<2>, level: &NoiseLevel) -> Result<Tensor<2>> {
        let u = self.unconditional.denoise(x.clone(), level)?;
        let c = self.conditional.denoise(x, level)?;
        Ok(u.clone() + (c - u) * self.scale)
    }
}

/// How a class-conditional image model samples on the page: every image of a run with `label`,
/// guided with `scale` against `null_label` (None: the last label).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Guidance {
    pub label: usize,
    pub scale: f64,
    pub null_label: Option<usize>,
}

impl Default for Guidance {
    /// Label 0, scale 2: guided, within the range (s − 1 = w ∈ [0.3, 4]) where Ho & Salimans
    /// found the best trade of sample quality against diversity.
    fn default() -> Self {
        Self {
            label: 0,
            scale: 2.0,
            null_label: None,
        }
    }
}

/// The largest label and scale the page's controls offer.
pub const MAX_LABEL: f64 = 999.0;
pub const MAX_SCALE: f64 = 20.0;
