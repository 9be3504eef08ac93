//! The probability-flow ODE (Song et al. 2021, eq. 13), `dx/dt = f(t) x - ½ g(t)² ∇log p_t`, in
//! denoiser form ([`Sde::probability_flow`]) so that it starts where the signal is gone (the
//! flow path's `t = 1`), integrated from `t = 1` to `t = ε` with Euler or Heun's method (Karras
//! et al. 2022, Algorithm 1, without the last-step Euler fallback since `ε > 0`). Deterministic
//! given `x_T`.

use burn::prelude::*;
use serde::{Deserialize, Serialize};

use super::{Prior, Rule, SdeWalk, Step, StepOutput, Walker};
use crate::error::Result;
use crate::model::ScoreModel;
use crate::process::Sde;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum OdeMethod {
    /// First order: `x ← x - d(x, t) Δt`.
    Euler,
    /// Second order: average the slopes at both ends of the step.
    #[default]
    Heun,
}

/// The probability-flow ODE on a [`TimeGrid`]; its random stream draws only the prior.
pub struct Ode {
    walk: SdeWalk,
    method: OdeMethod,
}

pub type ProbabilityFlowOde = Walker<Ode>;

impl ProbabilityFlowOde {
    pub fn new(
        sde: Box<dyn Sde>,
        steps: usize,
        eps: f64,
        method: OdeMethod,
        seed: u64,
    ) -> Result<Self> {
        let walk = SdeWalk::new(sde, steps, eps)?;
        Ok(Walker::with_rule(Ode { walk, method }, seed))
    }
}

impl Ode {
    fn slope(
        &self,
        model: &dyn ScoreModel,
        x: Tensor<2>,
        t: f64,
    ) -> Result<(Tensor<2>, Tensor<2>)> {
        let level = self.walk.sde.level(t);
        let x0 = model.denoise(x.clone(), &level)?;
        Ok((self.walk.sde.probability_flow(x, x0.clone(), t), x0))
    }
}

impl Rule for Ode {
    fn steps(&self) -> usize {
        self.walk.grid.steps
    }

    fn prior(&self) -> Prior {
        self.walk.prior()
    }

    fn update(&mut self, s: Step<'_>) -> Result<StepOutput> {
        let Step {
            x,
            i,
            rng: _,
            model,
        } = s;
        let (t, dt) = (self.walk.grid.t(i), self.walk.grid.dt());
        let (d1, x0_pred) = self.slope(model, x.clone(), t)?;
        let x_next = match self.method {
            OdeMethod::Euler => x - d1 * dt,
            OdeMethod::Heun => {
                let x_euler = x.clone() - d1.clone() * dt;
                let (d2, _) = self.slope(model, x_euler, t - dt)?;
                x - (d1 + d2) * (0.5 * dt)
            }
        };
        Ok(StepOutput {
            x: x_next.clone(),
            x_mean: x_next,
            x0_pred,
            t: self.walk.grid.steps - 1 - i,
            time: self.walk.sde.level(t).time,
        })
    }
}
