//! What every sampler shares: the current sample, the steps taken since `reset`, and the seeded
//! random stream. A sampler writes only its [`Rule`] (its length, its prior and its update);
//! [`Walker`] keeps the bookkeeping and is the [`Sampler`].

use burn::prelude::*;
use rand::rngs::StdRng;

use super::{Sampler, StepOutput};
use crate::error::{Error, Result};
use crate::model::ScoreModel;
use crate::noise;

/// A sampler's own part.
pub trait Rule {
    /// The steps of one walk, from `x_T` to the sample.
    fn steps(&self) -> usize;
    /// The law `x_T` is drawn from.
    fn prior(&self) -> Prior;
    /// The update rule: step `s.i` (`0..steps()`) from `s.x`.
    fn update(&mut self, s: Step<'_>) -> Result<StepOutput>;
}

/// Where a walk starts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Prior {
    /// `N(0, σ² I)`: the process's prior.
    Normal { std: f64 },
    /// Uniform on `[-r, r]^d` (Langevin dynamics from anywhere; NCSN starts from uniform noise).
    Uniform { radius: f64 },
}

/// One step's inputs: the current sample, the step's index, the walk's random stream and the
/// score.
pub struct Step<'a> {
    pub x: Tensor<2>,
    pub i: usize,
    pub rng: &'a mut StdRng,
    pub model: &'a dyn ScoreModel,
}

/// A [`Rule`] walked from a start to its end.
pub struct Walker<R> {
    rule: R,
    x: Option<Tensor<2>>,
    /// Steps taken since the start.
    i: usize,
    rng: StdRng,
}

impl<R: Rule> Walker<R> {
    pub fn with_rule(rule: R, seed: u64) -> Self {
        Self {
            rule,
            x: None,
            i: 0,
            rng: noise::rng(seed),
        }
    }

    pub fn rule(&self) -> &R {
        &self.rule
    }

    pub(crate) fn rule_mut(&mut self) -> &mut R {
        &mut self.rule
    }

    /// Start from `x` with `i` of the walk's steps already behind it (SDEdit's partial walks).
    pub(crate) fn start_at(&mut self, x: Tensor<2>, i: usize) {
        self.x = Some(x);
        self.i = i;
    }

    /// Take the next step with `update`, which gets the rule, the current sample, the step index
    /// and the random stream.
    pub(crate) fn advance(
        &mut self,
        update: impl FnOnce(&mut R, Tensor<2>, usize, &mut StdRng) -> Result<StepOutput>,
    ) -> Result<StepOutput> {
        if self.done() {
            return Err(Error::invalid("the sampler is done; call reset first"));
        }
        let x = self
            .x
            .take()
            .ok_or_else(|| Error::invalid("the sampler has no x_T; call reset first"))?;
        let out = update(&mut self.rule, x, self.i, &mut self.rng)?;
        self.i += 1;
        self.x = Some(out.x.clone());
        Ok(out)
    }
}

impl<R: Rule> Sampler for Walker<R> {
    fn reset(&mut self, x_t: Tensor<2>) {
        self.start_at(x_t, 0);
    }

    fn reset_from_prior(&mut self, n: usize, d: usize, device: &Device) {
        let x = match self.rule.prior() {
            Prior::Normal { std } => noise::normal(&mut self.rng, [n, d], device) * std,
            Prior::Uniform { radius } => {
                super::langevin::uniform(&mut self.rng, n, d, radius, device)
            }
        };
        self.reset(x);
    }

    fn step(&mut self, model: &dyn ScoreModel) -> Result<StepOutput> {
        self.advance(|rule, x, i, rng| rule.update(Step { x, i, rng, model }))
    }

    fn done(&self) -> bool {
        self.i >= self.rule.steps()
    }

    fn remaining(&self) -> usize {
        self.rule.steps().saturating_sub(self.i)
    }

    fn current(&self) -> Option<&Tensor<2>> {
        self.x.as_ref()
    }
}
