//! The probability-flow ODE (Song et al. 2021, eq. 13), `dx/dt = f(t) x - ½ g(t)² s(x, t)`,
//! integrated from `t = 1` to `t = ε` with Euler or Heun's method (Karras et al. 2022,
//! Algorithm 1, without the last-step Euler fallback since `ε > 0`). Deterministic given `x_T`.

use burn::prelude::*;
use rand::rngs::StdRng;
use serde::{Deserialize, Serialize};

use super::{take_state, Sampler, StepOutput, TimeGrid};
use crate::error::Result;
use crate::model::{x0_from_score, ScoreModel};
use crate::noise;
use crate::process::{Reverse, Sde};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum OdeMethod {
    /// First order: `x ← x - d(x, t) Δt`.
    Euler,
    /// Second order: average the slopes at both ends of the step.
    #[default]
    Heun,
}

pub struct ProbabilityFlowOde {
    sde: Box<dyn Sde>,
    grid: TimeGrid,
    method: OdeMethod,
    /// Draws only the prior.
    rng: StdRng,
    x: Option<Tensor<2>>,
    i: usize,
}

impl ProbabilityFlowOde {
    pub fn new(
        sde: Box<dyn Sde>,
        steps: usize,
        eps: f64,
        method: OdeMethod,
        seed: u64,
    ) -> Result<Self> {
        Ok(Self {
            sde,
            grid: TimeGrid::new(steps, eps)?,
            method,
            rng: noise::rng(seed),
            x: None,
            i: 0,
        })
    }

    fn slope(
        &self,
        model: &dyn ScoreModel,
        x: Tensor<2>,
        t: f64,
    ) -> Result<(Tensor<2>, Tensor<2>)> {
        let level = self.sde.level(t);
        let score = model.score(x.clone(), &level)?;
        let x0 = x0_from_score(x.clone(), score.clone(), level.marginal);
        Ok((
            self.sde
                .reverse_drift(x, score, t, Reverse::ProbabilityFlow),
            x0,
        ))
    }
}

impl Sampler for ProbabilityFlowOde {
    fn reset(&mut self, x_t: Tensor<2>) {
        self.x = Some(x_t);
        self.i = 0;
    }

    fn reset_from_prior(&mut self, n: usize, d: usize, device: &Device) {
        let x = noise::normal(&mut self.rng, [n, d], device) * self.sde.prior_std();
        self.reset(x);
    }

    fn step(&mut self, model: &dyn ScoreModel) -> Result<StepOutput> {
        let x = take_state(self.done(), &mut self.x)?;
        let (t, dt) = (self.grid.t(self.i), self.grid.dt());
        let (d1, x0_pred) = self.slope(model, x.clone(), t)?;
        let x_next = match self.method {
            OdeMethod::Euler => x - d1 * dt,
            OdeMethod::Heun => {
                let x_euler = x.clone() - d1.clone() * dt;
                let (d2, _) = self.slope(model, x_euler, t - dt)?;
                x - (d1 + d2) * (0.5 * dt)
            }
        };
        self.i += 1;
        self.x = Some(x_next.clone());
        Ok(StepOutput {
            x: x_next.clone(),
            x_mean: x_next,
            x0_pred,
            t: self.remaining(),
            time: crate::process::Time::Continuous(t),
        })
    }

    fn done(&self) -> bool {
        self.i >= self.grid.steps
    }

    fn remaining(&self) -> usize {
        self.grid.steps - self.i
    }

    fn current(&self) -> Option<&Tensor<2>> {
        self.x.as_ref()
    }
}
