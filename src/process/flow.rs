//! The linear path of flow matching and rectified flow (Lipman et al. 2023, eq. 23 with
//! σ_min = 0; Liu et al. 2023, eq. 1): `x_t = (1-t) x_0 + t ε`, `t ∈ [0, 1]`, so `a_t = 1-t`,
//! `s_t = t`, and the path's velocity is `dx_t/dt = ε - x_0`. Its probability-flow ODE is
//! `dx/dt = E[ε - x_0 | x_t] = (x_t - E[x_0 | x_t])/t`.
//!
//! The steps are diffusers' `FlowMatchEulerDiscreteScheduler` grid (`shift = 1`):
//! `t_i = (i+1)/T`, `i = 0..T-1`, so the last is pure noise; a network is fed `T·t`
//! ([`super::Time::Flow`]).

use super::{Marginal, NoiseLevel, Process, Sde, Time};
use crate::error::{Error, Result};

/// The linear path on `T` steps.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FlowProcess {
    steps: usize,
}

impl FlowProcess {
    pub fn new(steps: usize) -> Result<Self> {
        if steps < 2 {
            return Err(Error::invalid(format!(
                "the flow path needs at least 2 steps, got {steps}"
            )));
        }
        Ok(Self { steps })
    }

    /// `t_i = (i+1)/T`.
    pub fn t(&self, i: usize) -> f64 {
        (i + 1) as f64 / self.steps as f64
    }
}

impl Process for FlowProcess {
    fn num_steps(&self) -> usize {
        self.steps
    }

    fn marginal(&self, i: usize) -> Marginal {
        let t = self.t(i);
        Marginal {
            mean_coef: 1.0 - t,
            std: t,
        }
    }

    /// `x_1 = ε`.
    fn prior_std(&self) -> f64 {
        1.0
    }
}

/// The linear path in continuous time, as an SDE with the same marginals:
/// `f(t) = ȧ/a = -1/(1-t)`, `g(t)² = d(s²)/dt - 2 f s² = 2t/(1-t)`. Both are infinite at
/// `t = 1`, so only its probability-flow ODE, finite everywhere in denoiser form, is walked.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct FlowSde;

impl Sde for FlowSde {
    fn drift_coef(&self, t: f64) -> f64 {
        -1.0 / (1.0 - t)
    }

    fn diffusion(&self, t: f64) -> f64 {
        (2.0 * t / (1.0 - t)).sqrt()
    }

    fn marginal(&self, t: f64) -> Marginal {
        Marginal {
            mean_coef: 1.0 - t,
            std: t,
        }
    }

    /// `ȧ = -1`, `ṡ = 1`.
    fn marginal_rate(&self, _t: f64) -> Marginal {
        Marginal {
            mean_coef: -1.0,
            std: 1.0,
        }
    }

    fn prior_std(&self) -> f64 {
        1.0
    }

    fn reverse_sde_defined(&self) -> bool {
        false
    }

    fn level(&self, t: f64) -> NoiseLevel {
        NoiseLevel {
            time: Time::Flow(t),
            marginal: self.marginal(t),
        }
    }
}
