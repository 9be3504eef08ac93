//! Euler–Maruyama on the reverse SDE (Song et al. 2021, eq. 6):
//! `x_{t-Δt} = x_t - [f(t) x_t - g(t)² s(x_t, t)] Δt + g(t) √Δt z`, from `t = 1` to `t = ε`; the
//! last step adds no noise (score_sde's "noise removal").

use super::{Prior, Rule, SdeWalk, Step, StepOutput, Walker};
use crate::error::Result;
use crate::model::x0_from_score;
use crate::noise;
use crate::process::Sde;

/// The reverse SDE on a [`TimeGrid`].
pub struct Em {
    walk: SdeWalk,
}

pub type EulerMaruyama = Walker<Em>;

impl EulerMaruyama {
    /// `steps` steps from `t = 1` down to `t = eps`.
    pub fn new(sde: Box<dyn Sde>, steps: usize, eps: f64, seed: u64) -> Result<Self> {
        let walk = SdeWalk::new(sde, steps, eps)?;
        Ok(Walker::with_rule(Em { walk }, seed))
    }
}

impl Rule for Em {
    fn steps(&self) -> usize {
        self.walk.grid.steps
    }

    fn prior(&self) -> Prior {
        self.walk.prior()
    }

    fn update(&mut self, s: Step<'_>) -> Result<StepOutput> {
        let Step { x, i, rng, model } = s;
        let [n, d] = x.dims();
        let (t, dt) = (self.walk.grid.t(i), self.walk.grid.dt());
        let level = self.walk.sde.level(t);
        let score = model.score(x.clone(), &level)?;
        let x0_pred = x0_from_score(x.clone(), score.clone(), level.marginal);
        let drift = self.walk.sde.reverse_drift(x.clone(), score, t);
        let x_mean = x - drift * dt;
        let left = self.walk.grid.steps - 1 - i;
        let x_next = if left == 0 {
            x_mean.clone()
        } else {
            let g = self.walk.sde.diffusion(t) * dt.sqrt();
            x_mean.clone() + noise::normal(rng, [n, d], &x_mean.device()) * g
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
