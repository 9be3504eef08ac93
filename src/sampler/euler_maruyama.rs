//! Euler–Maruyama on the reverse SDE (Song et al. 2021, eq. 6):
//! `x_{t-Δt} = x_t - [f(t) x_t - g(t)² s(x_t, t)] Δt + g(t) √Δt z`, from `t = 1` to `t = ε`; the
//! last step adds no noise (score_sde's "noise removal").

use burn::prelude::*;
use rand::rngs::StdRng;

use super::{take_state, Sampler, StepOutput, TimeGrid};
use crate::error::Result;
use crate::model::{x0_from_score, ScoreModel};
use crate::noise;
use crate::process::{Reverse, Sde};

pub struct EulerMaruyama {
    sde: Box<dyn Sde>,
    grid: TimeGrid,
    rng: StdRng,
    x: Option<Tensor<2>>,
    i: usize,
}

impl EulerMaruyama {
    /// `steps` steps from `t = 1` down to `t = eps`.
    pub fn new(sde: Box<dyn Sde>, steps: usize, eps: f64, seed: u64) -> Result<Self> {
        Ok(Self {
            sde,
            grid: TimeGrid::new(steps, eps)?,
            rng: noise::rng(seed),
            x: None,
            i: 0,
        })
    }
}

impl Sampler for EulerMaruyama {
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
        let [n, d] = x.dims();
        let (t, dt) = (self.grid.t(self.i), self.grid.dt());
        let level = self.sde.level(t);
        let score = model.score(x.clone(), &level)?;
        let x0_pred = x0_from_score(x.clone(), score.clone(), level.marginal);
        let drift = self.sde.reverse_drift(x.clone(), score, t, Reverse::Sde);
        let x_mean = x - drift * dt;
        self.i += 1;
        let x_next = if self.done() {
            x_mean.clone()
        } else {
            let g = self.sde.diffusion(t) * dt.sqrt();
            x_mean.clone() + noise::normal(&mut self.rng, [n, d], &x_mean.device()) * g
        };
        self.x = Some(x_next.clone());
        Ok(StepOutput {
            x: x_next,
            x_mean,
            x0_pred,
            t: self.remaining(),
            time: level.time,
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
