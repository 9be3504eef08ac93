//! DDPM ancestral sampling (Ho et al. 2020, Algorithm 2):
//! `x_{t-1} = (x_t - β_t/√(1-ᾱ_t) ε_θ(x_t, t)) / √α_t + σ_t z`, `z ~ N(0, I)`, and `z = 0` at t = 0.

use burn::prelude::*;
use rand::rngs::StdRng;
use serde::{Deserialize, Serialize};

use super::{Prior, Rule, Sampler, StartAt, Step, StepOutput, Walker};
use crate::error::{Error, Result};
use crate::model::{Mlp, ScoreModel};
use crate::noise;
use crate::process::{NoiseLevel, Process, Time, VpProcess};

/// The reverse-step variance σ_t² (DDPM §3.2: both choices give similar samples).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum PosteriorVariance {
    /// σ_t² = β_t, optimal for x_0 ~ N(0, I).
    Beta,
    /// σ_t² = β̃_t, optimal for a deterministic x_0.
    #[default]
    BetaTilde,
}

impl std::str::FromStr for PosteriorVariance {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "beta" => Ok(Self::Beta),
            "beta_tilde" | "beta-tilde" => Ok(Self::BetaTilde),
            o => Err(Error::invalid(format!(
                "unknown variance '{o}' (expected beta or beta_tilde)"
            ))),
        }
    }
}

/// DDPM's reverse chain on a VP process's T steps: step `i` takes `x_t` to `x_{t-1}`,
/// `t = T-1-i`.
pub struct Ancestral {
    process: VpProcess,
    variance: PosteriorVariance,
    /// Clip x̂_0 to [-c, c] and step with the posterior mean instead (diffusers' `clip_sample`).
    clip: Option<f64>,
}

pub type AncestralSampler = Walker<Ancestral>;

impl AncestralSampler {
    pub fn new(
        process: VpProcess,
        variance: PosteriorVariance,
        clip: Option<f64>,
        seed: u64,
    ) -> Self {
        Walker::with_rule(
            Ancestral {
                process,
                variance,
                clip,
            },
            seed,
        )
    }

    /// One reverse step with the ε-network `model` (trained on this process's steps).
    pub fn step(&mut self, model: &Mlp) -> Result<StepOutput> {
        self.advance(|rule, x, i, rng| {
            let t = rule.t(i);
            let n = x.dims()[0];
            let tt = Tensor::<1>::from_data(TensorData::new(vec![t as f32; n], [n]), &x.device());
            let eps = model.forward(x.clone(), tt);
            Ok(rule.p_sample(x, eps, t, rng))
        })
    }

    /// One reverse step with any score model (the [`Sampler`] step).
    pub fn step_score(&mut self, model: &dyn ScoreModel) -> Result<StepOutput> {
        Sampler::step(self, model)
    }
}

impl Ancestral {
    /// The DDPM step of walk step `i`.
    fn t(&self, i: usize) -> usize {
        self.process.num_steps() - 1 - i
    }

    /// `p_sample`: draw `x_{t-1} ~ p_θ(x_{t-1}|x_t)` given the predicted noise `eps`.
    fn p_sample(&self, x: Tensor<2>, eps: Tensor<2>, t: usize, rng: &mut StdRng) -> StepOutput {
        let [n, d] = x.dims();
        let device = x.device();
        let s = self.process.schedule();
        let x0_pred = self.process.predict_x0_from_eps(x.clone(), t, eps.clone());
        let x_mean = match self.clip {
            // Clipped x̂_0 through the posterior mean μ̃_t(x̂_0, x_t) (DDPM eq. 7).
            Some(c) => {
                self.process
                    .q_posterior(x0_pred.clone().clamp(-c, c), x.clone(), t)
                    .0
            }
            // Eq. 11 directly: (x_t - β_t/√(1-ᾱ_t) ε) / √α_t.
            None => {
                let m = self.process.marginal(t);
                (x - eps * (s.betas[t] / m.std)) / s.alphas[t].sqrt()
            }
        };
        let x0_pred = match self.clip {
            Some(c) => x0_pred.clamp(-c, c),
            None => x0_pred,
        };
        let x_next = if t > 0 {
            let var = match self.variance {
                PosteriorVariance::Beta => s.betas[t],
                PosteriorVariance::BetaTilde => s.posterior_variance[t],
            };
            x_mean.clone() + noise::normal(rng, [n, d], &device) * var.sqrt()
        } else {
            x_mean.clone()
        };
        StepOutput {
            x: x_next,
            x_mean,
            x0_pred,
            t,
            time: Time::Step(t),
        }
    }
}

impl Rule for Ancestral {
    fn steps(&self) -> usize {
        self.process.num_steps()
    }

    fn prior(&self) -> Prior {
        Prior::Normal {
            std: self.process.prior_std(),
        }
    }

    /// Through `ε = -√(1-ᾱ_t) s` (DDPM eq. 11 read backwards).
    fn update(&mut self, s: Step<'_>) -> Result<StepOutput> {
        let Step { x, i, rng, model } = s;
        let t = self.t(i);
        let level = NoiseLevel::step(&self.process, t);
        let score = model.score(x.clone(), &level)?;
        let eps = score * (-level.marginal.std);
        Ok(self.p_sample(x, eps, t, rng))
    }
}

impl StartAt for AncestralSampler {
    fn start_step(&self, t0: usize) -> Result<usize> {
        let steps = self.rule().process.num_steps();
        if t0 >= steps {
            return Err(Error::invalid(format!(
                "t₀ = {t0} is past the last step T-1 = {}",
                steps - 1
            )));
        }
        Ok(t0)
    }

    fn reset_at(&mut self, x: Tensor<2>, t: usize) -> Result<()> {
        let t = self.start_step(t)?;
        // The next step takes x_t to x_{t-1}: T-1-t steps are behind it.
        let i = self.rule().process.num_steps() - 1 - t;
        self.start_at(x, i);
        Ok(())
    }
}
