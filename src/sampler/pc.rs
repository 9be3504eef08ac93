//! Predictor–corrector sampling (Song et al. 2021, Algorithm 1, §4.2): at each time, `k` Langevin
//! corrector steps with signal-to-noise ratio `r` ([`super::langevin_corrector_step`]), then one
//! reverse-diffusion predictor step on the process's own discretisation (eq. 46):
//! `x_mean = x - (f_i x - G_i² s)`, `x = x_mean + G_i z`, no noise on the last step.

use super::{
    check_positive, langevin_corrector_step, Prior, Rule, SdeWalk, Step, StepOutput, Walker,
};
use crate::error::{Error, Result};
use crate::model::x0_from_score;
use crate::noise;
use crate::process::Sde;

/// Corrector then predictor at each time of a [`TimeGrid`].
pub struct Pc {
    walk: SdeWalk,
    snr: f64,
    corrector_steps: usize,
}

pub type PredictorCorrector = Walker<Pc>;

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
        let rule = Pc {
            walk: SdeWalk::new(sde, steps, eps)?,
            snr,
            corrector_steps,
        };
        Ok(Walker::with_rule(rule, seed))
    }
}

impl Rule for Pc {
    fn steps(&self) -> usize {
        self.walk.grid.steps
    }

    fn prior(&self) -> Prior {
        self.walk.prior()
    }

    fn update(&mut self, s: Step<'_>) -> Result<StepOutput> {
        let Step {
            mut x,
            i,
            rng,
            model,
        } = s;
        let [n, d] = x.dims();
        let (t, dt) = (self.walk.grid.t(i), self.walk.grid.dt());
        let level = self.walk.sde.level(t);
        // Corrector (Algorithm 5).
        let alpha = self.walk.sde.corrector_alpha(t, dt);
        for _ in 0..self.corrector_steps {
            let score = model.score(x.clone(), &level)?;
            x = langevin_corrector_step(x, score, self.snr, alpha, rng)?.0;
        }
        // Predictor: reverse diffusion (eq. 46).
        let score = model.score(x.clone(), &level)?;
        let x0_pred = x0_from_score(x.clone(), score.clone(), level.marginal);
        let step = self.walk.sde.discretize(t, dt);
        let rev_f = x.clone() * step.f_coef - score * (step.g * step.g);
        let x_mean = x - rev_f;
        let left = self.walk.grid.steps - 1 - i;
        let x_next = if left == 0 {
            x_mean.clone()
        } else {
            x_mean.clone() + noise::normal(rng, [n, d], &x_mean.device()) * step.g
        };
        Ok(StepOutput {
            x: x_next,
            x_mean,
            x0_pred,
            t: left,
            time: level.time,
        })
    }
}
