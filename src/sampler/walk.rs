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
    /// Draw `x_T` `[n, d]` from the sampler's prior.
    fn prior(&self, rng: &mut StdRng, n: usize, d: usize, device: &Device) -> Tensor<2>;
    /// Step `i` (`0..steps()`) from `x`: the update rule.
    fn update(
        &mut self,
        x: Tensor<2>,
        i: usize,
        rng: &mut StdRng,
        model: &dyn ScoreModel,
    ) -> Result<StepOutput>;
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
        let x = self.rule.prior(&mut self.rng, n, d, device);
        self.reset(x);
    }

    fn step(&mut self, model: &dyn ScoreModel) -> Result<StepOutput> {
        self.advance(|rule, x, i, rng| rule.update(x, i, rng, model))
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
