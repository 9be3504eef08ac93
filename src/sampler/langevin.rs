//! Langevin dynamics with a fixed step (Song & Ermon 2019, eq. 4; Welling & Teh 2011):
//! `x ← x + (ε/2) ∇log p(x) + √ε z`, at one fixed noise level (the clean data by default).
//! And the score_sde Langevin corrector, whose step is set by a signal-to-noise ratio.

use burn::prelude::*;
use rand::rngs::StdRng;

use super::{check_positive, check_steps, Prior, Rule, Step, StepOutput, Walker};
use crate::error::Result;
use crate::model::x0_from_score;
use crate::noise;
use crate::process::NoiseLevel;

/// `n_steps` Langevin steps at one level.
pub struct Langevin {
    level: NoiseLevel,
    step_size: f64,
    n_steps: usize,
    /// The prior of [`super::Sampler::reset_from_prior`]: uniform on `[-r, r]^d`.
    init_radius: f64,
}

pub type LangevinSampler = Walker<Langevin>;

impl LangevinSampler {
    /// `n_steps` steps of size `step_size` (ε) on the score at `level`.
    pub fn new(level: NoiseLevel, step_size: f64, n_steps: usize, seed: u64) -> Result<Self> {
        check_positive("the Langevin step size", step_size)?;
        check_steps("the number of Langevin steps", n_steps)?;
        let rule = Langevin {
            level,
            step_size,
            n_steps,
            init_radius: 8.0,
        };
        Ok(Walker::with_rule(rule, seed))
    }

    /// Draw [`super::Sampler::reset_from_prior`]'s points uniformly on `[-r, r]^d` (default 8).
    pub fn with_init_radius(mut self, r: f64) -> Result<Self> {
        check_positive("the initial radius", r)?;
        self.rule_mut().init_radius = r;
        Ok(self)
    }
}

/// `n` points uniform on `[-r, r]^d`, drawn on the host.
pub fn uniform(rng: &mut StdRng, n: usize, d: usize, r: f64, device: &Device) -> Tensor<2> {
    use rand::RngExt;
    let v: Vec<f32> = (0..n * d).map(|_| rng.random_range(-r..r) as f32).collect();
    Tensor::from_data(TensorData::new(v, [n, d]), device)
}

impl Rule for Langevin {
    fn steps(&self) -> usize {
        self.n_steps
    }

    fn prior(&self) -> Prior {
        Prior::Uniform {
            radius: self.init_radius,
        }
    }

    fn update(&mut self, s: Step<'_>) -> Result<StepOutput> {
        let Step { x, i, rng, model } = s;
        let [n, d] = x.dims();
        let score = model.score(x.clone(), &self.level)?;
        let x0_pred = x0_from_score(x.clone(), score.clone(), self.level.marginal);
        let eps = self.step_size;
        let x_mean = x + score * (eps / 2.0);
        let x_next = x_mean.clone() + noise::normal(rng, [n, d], &x_mean.device()) * eps.sqrt();
        Ok(StepOutput {
            x: x_next,
            x_mean,
            x0_pred,
            t: self.n_steps - 1 - i,
            time: self.level.time,
        })
    }
}

/// One step of score_sde's `LangevinCorrector` (Song et al. 2021, Algorithm 5 and App. G):
/// `ε = 2α (r ‖z‖/‖s‖)²` with ‖·‖ the per-sample norm averaged over the batch,
/// `x_mean = x + ε s`, `x = x_mean + √(2ε) z` (ε = 0 where the score vanishes). Returns
/// `(x, x_mean)`. The step size stays on the device as a `[1, 1]` tensor, so no value is read
/// back (WebGPU allows no synchronous reads).
pub fn langevin_corrector_step(
    x: Tensor<2>,
    score: Tensor<2>,
    snr: f64,
    alpha: f64,
    rng: &mut StdRng,
) -> Result<(Tensor<2>, Tensor<2>)> {
    let [n, d] = x.dims();
    let z = noise::normal(rng, [n, d], &x.device());
    let mean_norm = |t: Tensor<2>| t.square().sum_dim(1).sqrt().mean().reshape([1, 1]);
    let grad_norm = mean_norm(score.clone());
    let noise_norm = mean_norm(z.clone());
    let vanished = grad_norm.clone().lower_equal_elem(0.0);
    let ratio = noise_norm / grad_norm.clamp_min(f32::MIN_POSITIVE) * snr;
    let step = (ratio.square() * (2.0 * alpha)).mask_fill(vanished, 0.0);
    let x_mean = x + score * step.clone();
    let x = x_mean.clone() + z * (step * 2.0).sqrt();
    Ok((x, x_mean))
}
