//! Predictor–corrector sampling (Song et al. 2021, Algorithm 1, §4.2): at each time, `k` Langevin
//! corrector steps with signal-to-noise ratio `r` ([`super::langevin_corrector_step`]), then one
//! reverse-diffusion predictor step on the process's own discretisation (eq. 46):
//! `x_mean = x - (f_i x - G_i² s)`, `x = x_mean + G_i z`, no noise on the last step.

use burn::prelude::*;
use rand::rngs::StdRng;

use super::{check_positive, langevin_corrector_step, take_state, Sampler, StepOutput, TimeGrid};
use crate::error::{Error, Result};
use crate::model::{x0_from_score, ScoreModel};
use crate::noise;
use crate::process::Sde;

pub struct PredictorCorrector {
    sde: Box<dyn Sde>,
    grid: TimeGrid,
    snr: f64,
    corrector_steps: usize,
    rng: StdRng,
    x: Option<Tensor<2>>,
    i: usize,
}

impl PredictorCorrector {
    /// `steps` predictor steps from `t = 1` to `eps`, each after `corrector_steps` Langevin
    /// corrector steps at signal-to-noise ratio `snr` (score_sde: 0.16 for VE, 0.01 for VP).
    pub fn new(
        sde: Box<dyn Sde>,
        steps: usize,
        eps: f64,
        snr: f64,
        corrector_steps: usize,
        seed: u64,
    ) -> Result<Self> {
        if corrector_steps > 0 {
            check_positive("the corrector's snr", snr)?;
        } else if snr.is_nan() || snr < 0.0 {
            return Err(Error::invalid(format!("snr must be ≥ 0, got {snr}")));
        }
        Ok(Self {
            sde,
            grid: TimeGrid::new(steps, eps)?,
            snr,
            corrector_steps,
            rng: noise::rng(seed),
            x: None,
            i: 0,
        })
    }
}

impl Sampler for PredictorCorrector {
    fn reset(&mut self, x_t: Tensor<2>) {
        self.x = Some(x_t);
        self.i = 0;
    }

    fn reset_from_prior(&mut self, n: usize, d: usize, device: &Device) {
        let x = noise::normal(&mut self.rng, [n, d], device) * self.sde.prior_std();
        self.reset(x);
    }

    fn step(&mut self, model: &dyn ScoreModel) -> Result<StepOutput> {
        let mut x = take_state(self.done(), &mut self.x)?;
        let [n, d] = x.dims();
        let (t, dt) = (self.grid.t(self.i), self.grid.dt());
        let level = self.sde.level(t);
        // Corrector (Algorithm 5).
        let alpha = self.sde.corrector_alpha(t, dt);
        for _ in 0..self.corrector_steps {
            let score = model.score(x.clone(), &level)?;
            x = langevin_corrector_step(x, score, self.snr, alpha, &mut self.rng)?.0;
        }
        // Predictor: reverse diffusion (eq. 46).
        let score = model.score(x.clone(), &level)?;
        let x0_pred = x0_from_score(x.clone(), score.clone(), level.marginal);
        let step = self.sde.discretize(t, dt);
        let rev_f = x.clone() * step.f_coef - score * (step.g * step.g);
        let x_mean = x - rev_f;
        self.i += 1;
        let x_next = if self.done() {
            x_mean.clone()
        } else {
            x_mean.clone() + noise::normal(&mut self.rng, [n, d], &x_mean.device()) * step.g
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
