//! Classifier-free guidance (Ho & Salimans 2022, eq. 6, in diffusers' form): with guidance scale
//! `s`, `ε̃ = ε(x, ∅) + s (ε(x, c) − ε(x, ∅))`. At one noise level the score is `−ε/s_t` for
//! both, so the same combination of the two scores is the guided score: `s = 1` is the
//! conditional model, `s = 0` the unconditional one, `s > 1` sharpens towards the class.

use burn::prelude::*;

use super::ScoreModel;
use crate::error::{Error, Result};
use crate::process::NoiseLevel;

pub struct Guided<'a> {
    pub conditional: &'a dyn ScoreModel,
    pub unconditional: &'a dyn ScoreModel,
    pub scale: f64,
}

impl<'a> Guided<'a> {
    pub fn new(
        conditional: &'a dyn ScoreModel,
        unconditional: &'a dyn ScoreModel,
        scale: f64,
    ) -> Result<Self> {
        if !scale.is_finite() {
            return Err(Error::invalid(format!(
                "the guidance scale must be a finite number, got {scale}"
            )));
        }
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
}
