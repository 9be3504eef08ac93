//! An exponential moving average of a model's weights, `θ̄ ← d θ̄ + (1 − d) θ` after every
//! optimiser step (the EMA that DDPM samples from, Ho et al. 2020 §4, decay 0.9999 there).
//! The decay warms up as `min(d, (1 + k)/(10 + k))` at step `k`, as diffusers' `EMAModel`
//! does, so early averages are not dominated by the random initialisation.

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param};
use burn::prelude::*;

#[derive(Debug, Clone)]
pub struct Ema<M> {
    decay: f64,
    model: M,
}

impl<M: Module + Clone> Ema<M> {
    /// Start the average at `model` (copied off the autodiff graph).
    pub fn new(decay: f64, model: &M) -> Self {
        Self {
            decay,
            model: model.clone().map(&mut Plain),
        }
    }

    pub fn decay(&self) -> f64 {
        self.decay
    }

    /// The decay used after optimiser step `k` (0-based).
    pub fn decay_at(&self, k: usize) -> f64 {
        self.decay.min((1.0 + k as f64) / (10.0 + k as f64))
    }

    /// Fold in `live` (same architecture, without autodiff) after optimiser step `k`.
    pub fn update(&mut self, live: &M, k: usize) {
        let d = self.decay_at(k);
        let mut flat = Flatten::default();
        live.visit(&mut flat);
        let mut mix = Mix {
            live: flat.out.into_iter(),
            d,
        };
        self.model = self.model.clone().map(&mut mix);
    }

    pub fn model(&self) -> &M {
        &self.model
    }
}

/// Every float parameter, flattened, in visiting order.
#[derive(Default)]
struct Flatten {
    out: Vec<Tensor<1>>,
}

impl ModuleVisitor for Flatten {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        self.out.push(param.val().without_autodiff().reshape([-1]));
    }
}

/// Every float parameter moved off autodiff: the average is never part of a training graph.
struct Plain;

impl ModuleMapper for Plain {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        param.map(|t| t.without_autodiff())
    }
}

struct Mix<I> {
    live: I,
    d: f64,
}

impl<I: Iterator<Item = Tensor<1>>> ModuleMapper for Mix<I> {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let live = self
            .live
            .next()
            .expect("the EMA and the live model share one architecture");
        let d = self.d;
        param.map(|avg| {
            let shape = avg.shape();
            avg.without_autodiff() * d + live.reshape(shape) * (1.0 - d)
        })
    }
}
