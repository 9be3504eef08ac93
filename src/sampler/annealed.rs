//! Annealed Langevin dynamics (Song & Ermon 2019, Algorithm 1): for each NCSN level
//! σ_1 > … > σ_L, `n` Langevin steps `x ← x + (α_i/2) s(x, σ_i) + √α_i z` with
//! `α_i = ε σ_i²/σ_L²`.

use super::{check_positive, check_steps, Prior, Rule, Step, StepOutput, Walker};
use crate::error::Result;
use crate::model::x0_from_score;
use crate::noise;
use crate::process::{NoiseLevel, Process, VeProcess};

/// The levels from the top, `n_per_level` Langevin steps at each.
pub struct Annealed {
    process: VeProcess,
    n_per_level: usize,
    eps: f64,
    /// The prior of [`super::Sampler::reset_from_prior`]: uniform on `[-r, r]^d` (NCSN starts
    /// from uniform noise).
    init_radius: f64,
}

pub type AnnealedLangevin = Walker<Annealed>;

impl AnnealedLangevin {
    /// `n_per_level` steps at each level of `process`, base step `eps` (ε).
    pub fn new(process: VeProcess, n_per_level: usize, eps: f64, seed: u64) -> Result<Self> {
        Annealed::new(process, n_per_level, eps).map(|r| Walker::with_rule(r, seed))
    }

    pub fn with_init_radius(mut self, r: f64) -> Result<Self> {
        check_positive("the initial radius", r)?;
        self.rule_mut().init_radius = r;
        Ok(self)
    }
}

impl Annealed {
    fn new(process: VeProcess, n_per_level: usize, eps: f64) -> Result<Self> {
        check_steps("the number of steps per level", n_per_level)?;
        check_positive("the annealed Langevin step size ε", eps)?;
        Ok(Self {
            process,
            n_per_level,
            eps,
            init_radius: 8.0,
        })
    }
}

impl Rule for Annealed {
    fn steps(&self) -> usize {
        self.process.num_steps() * self.n_per_level
    }

    fn prior(&self) -> Prior {
        Prior::Uniform {
            radius: self.init_radius,
        }
    }

    fn update(&mut self, s: Step<'_>) -> Result<StepOutput> {
        let Step { x, i, rng, model } = s;
        let [n, d] = x.dims();
        let levels = self.process.num_steps();
        // Level i = 1..L from the top is process step t = L - i (σ grows with t).
        let t = levels - 1 - i / self.n_per_level;
        let level = NoiseLevel::step(&self.process, t);
        let sigma = level.marginal.std;
        let sigma_l = self.process.sigmas()[0];
        let alpha = self.eps * sigma * sigma / (sigma_l * sigma_l);
        let score = model.score(x.clone(), &level)?;
        let x0_pred = x0_from_score(x.clone(), score.clone(), level.marginal);
        let x_mean = x + score * (alpha / 2.0);
        let x_next = x_mean.clone() + noise::normal(rng, [n, d], &x_mean.device()) * alpha.sqrt();
        Ok(StepOutput {
            x: x_next,
            x_mean,
            x0_pred,
            t,
            time: level.time,
        })
    }
}
