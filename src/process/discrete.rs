//! One discrete forward process chosen by name, as the page's controls and a model card give it:
//! VP (DDPM's chain), sub-VP or VE (NCSN's levels), each a Gaussian marginal
//! `q(x_t|x_0) = N(a_t x_0, s_t² I)` on `t = 0..T-1`.
//!
//! Every such process has the one-step chain `x_t = r_t x_{t-1} + √(s_t² - r_t² s_{t-1}²) z`,
//! `r_t = a_t/a_{t-1}`, `(a_{-1}, s_{-1}) = (1, 0)`, whose marginals are these: VP's is DDPM
//! eq. 2 (`r_t² = α_t`, the variance `β_t`), VE's is SMLD's `√(σ_t² - σ_{t-1}²)` (Song et al.
//! 2021, eq. 45), sub-VP's variance is `(1-α_t)(1-α_t ᾱ_{t-1}²) ≥ 0`.

use burn::prelude::*;
use serde::{Deserialize, Serialize};

use super::{
    FlowProcess, FlowSde, Marginal, Process, Sde, SubVpProcess, SubVpSde, Time, VeConfig,
    VeProcess, VeSde, VpProcess, VpSde,
};
use crate::error::{Error, Result};
use crate::schedule::{BetaSchedule, ScheduleConfig};

/// Which discrete process, with its tables' parameters.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ProcessConfig {
    /// DDPM's variance-preserving chain on a β schedule (Ho et al. 2020).
    Vp { schedule: ScheduleConfig },
    /// sub-VP on a β schedule (Song et al. 2021, eq. 16 and 32).
    SubVp { schedule: ScheduleConfig },
    /// NCSN's geometric noise levels (Song & Ermon 2019).
    Ve(VeConfig),
    /// Flow matching's linear path `x_t = (1-t) x_0 + t ε` on `T` steps (Lipman et al. 2023;
    /// Liu et al. 2023).
    Flow { steps: usize },
}

impl Default for ProcessConfig {
    /// DDPM's: linear β from 1e-4 to 0.02, T = 1000.
    fn default() -> Self {
        Self::Vp {
            schedule: ScheduleConfig::default(),
        }
    }
}

impl ProcessConfig {
    /// One default of each kind, the page's and the catalogue's: DDPM's schedule for VP and
    /// sub-VP; for VE, L = 10 levels from σ_min = 0.1 to σ_max = 20, about the largest distance
    /// between points of the 2-D sets (NCSNv2's technique 1).
    /// The flow path on diffusers' T = 1000 steps.
    pub fn defaults() -> [Self; 4] {
        [
            Self::default(),
            Self::SubVp {
                schedule: ScheduleConfig::default(),
            },
            Self::Ve(VeConfig {
                sigma_min: 0.1,
                sigma_max: 20.0,
                levels: 10,
            }),
            Self::Flow { steps: 1000 },
        ]
    }

    /// The catalogue name, the JSON's `kind`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Vp { .. } => "vp",
            Self::SubVp { .. } => "sub_vp",
            Self::Ve(_) => "ve",
            Self::Flow { .. } => "flow",
        }
    }

    pub fn validate(&self) -> Result<()> {
        match self {
            Self::Vp { schedule } | Self::SubVp { schedule } => schedule.validate(),
            Self::Ve(ve) => ve.validate(),
            Self::Flow { steps } => FlowProcess::new(*steps).map(|_| ()),
        }
    }

    /// A process to sample: [`ProcessConfig::validate`] holds.
    pub fn build(&self) -> Result<DiscreteProcess> {
        self.validate()?;
        self.build_levels()
    }

    /// A noise-free objective's one level ([`VeConfig::one_level`]).
    pub fn one_level(sigma: f64) -> Self {
        Self::Ve(VeConfig::one_level(sigma))
    }

    /// Whether this is one level, not a chain: nothing to reverse, Langevin only.
    pub fn is_one_level(&self) -> bool {
        matches!(self, Self::Ve(ve) if ve.is_one_level())
    }

    /// The levels an objective trains on: a process, or one level.
    pub fn validate_levels(&self) -> Result<()> {
        match self {
            Self::Ve(ve) => ve.validate_levels(),
            _ => self.validate(),
        }
    }

    /// The tables of [`ProcessConfig::validate_levels`]'s levels.
    pub fn build_levels(&self) -> Result<DiscreteProcess> {
        Ok(match self {
            Self::Vp { schedule } => DiscreteProcess::Vp(VpProcess::new(*schedule)?),
            Self::SubVp { schedule } => DiscreteProcess::SubVp(SubVpProcess::new(*schedule)?),
            Self::Ve(ve) => DiscreteProcess::Ve(ve.build()?),
            Self::Flow { steps } => DiscreteProcess::Flow(FlowProcess::new(*steps)?),
        })
    }

    /// "VP", "sub-VP", "VE" or "flow".
    pub fn name(&self) -> &'static str {
        match self {
            Self::Vp { .. } => "VP",
            Self::SubVp { .. } => "sub-VP",
            Self::Ve(_) => "VE",
            Self::Flow { .. } => "flow",
        }
    }

    /// The name with its parameters, e.g. "VP (linear β, T = 1000)".
    pub fn describe(&self) -> String {
        let beta = |s: &ScheduleConfig| match s.kind {
            BetaSchedule::Linear => "linear β",
            BetaSchedule::Cosine => "cosine β",
            BetaSchedule::ScaledLinear => "scaled-linear β",
        };
        match self {
            Self::Vp { schedule } | Self::SubVp { schedule } => {
                format!(
                    "{} ({}, T = {})",
                    self.name(),
                    beta(schedule),
                    schedule.steps
                )
            }
            Self::Ve(ve) if ve.is_one_level() && ve.sigma_min == 0.0 => {
                "the data itself (no noise)".to_string()
            }
            Self::Ve(ve) if ve.is_one_level() => format!("one noise level (σ = {})", ve.sigma_min),
            Self::Ve(ve) => format!(
                "VE (σ from {} to {}, L = {})",
                ve.sigma_min, ve.sigma_max, ve.levels
            ),
            Self::Flow { steps } => format!("flow (linear path, T = {steps})"),
        }
    }

    /// T, the number of steps (levels).
    pub fn num_steps(&self) -> usize {
        match self {
            Self::Vp { schedule } | Self::SubVp { schedule } => schedule.steps,
            Self::Ve(ve) => ve.levels,
            Self::Flow { steps } => *steps,
        }
    }

    /// The continuous SDE this process discretises (score_sde's `labels = t·(T-1)`): VP and
    /// sub-VP with `β(t) = T β_{tT}` on a linear schedule, VE with the same σ range. A cosine
    /// schedule has no linear β(t), so no SDE here. The flow path's is [`FlowSde`], singular at
    /// `t = 1`, so only its probability-flow ODE is walked.
    pub fn sde(&self) -> Result<Box<dyn Sde>> {
        let linear = |schedule: &ScheduleConfig| {
            VpSde::from_schedule(schedule).map_err(|_| {
                Error::invalid(format!(
                    "the continuous {} SDE is the limit of a linear β schedule; this process uses the cosine one",
                    self.name()
                ))
            })
        };
        Ok(match self {
            Self::Vp { schedule } => Box::new(linear(schedule)?),
            Self::SubVp { schedule } => {
                let vp = linear(schedule)?;
                Box::new(SubVpSde::new(vp.beta_min, vp.beta_max)?)
            }
            Self::Ve(ve) => Box::new(VeSde::new(ve.sigma_min, ve.sigma_max)?),
            Self::Flow { .. } => Box::new(FlowSde),
        })
    }
}

/// A built [`ProcessConfig`]: its tables.
#[derive(Debug, Clone)]
pub enum DiscreteProcess {
    Vp(VpProcess),
    SubVp(SubVpProcess),
    Ve(VeProcess),
    Flow(FlowProcess),
}

impl From<VpProcess> for DiscreteProcess {
    fn from(p: VpProcess) -> Self {
        Self::Vp(p)
    }
}

impl From<VeProcess> for DiscreteProcess {
    fn from(p: VeProcess) -> Self {
        Self::Ve(p)
    }
}

impl DiscreteProcess {
    pub fn config(&self) -> ProcessConfig {
        match self {
            Self::Vp(p) => ProcessConfig::Vp {
                schedule: p.schedule().config,
            },
            Self::SubVp(p) => ProcessConfig::SubVp {
                schedule: p.schedule().config,
            },
            Self::Ve(p) => ProcessConfig::Ve(*p.config()),
            Self::Flow(p) => ProcessConfig::Flow {
                steps: p.num_steps(),
            },
        }
    }

    pub fn as_vp(&self) -> Option<&VpProcess> {
        match self {
            Self::Vp(p) => Some(p),
            _ => None,
        }
    }

    pub fn as_ve(&self) -> Option<&VeProcess> {
        match self {
            Self::Ve(p) => Some(p),
            _ => None,
        }
    }

    /// `x_t = a_t x_0 + s_t z`, one `t` per row of `x0`.
    pub fn q_sample(&self, x0: Tensor<2>, t: &[usize], noise: Tensor<2>) -> Tensor<2> {
        let device = x0.device();
        let column = |f: fn(Marginal) -> f64| {
            let v: Vec<f32> = t.iter().map(|&t| f(self.marginal(t)) as f32).collect();
            Tensor::<2>::from_data(TensorData::new(v, [t.len(), 1]), &device)
        };
        x0 * column(|m| m.mean_coef) + noise * column(|m| m.std)
    }

    /// One step of the chain from `x_{t-1}` to `x_t` (see the module docs).
    pub fn q_step(&self, x_prev: Tensor<2>, t: usize, noise: Tensor<2>) -> Tensor<2> {
        if let Self::Vp(p) = self {
            return p.q_step(x_prev, t, noise);
        }
        let (r, var) = self.chain_coefs(t);
        x_prev * r + noise * var.max(0.0).sqrt()
    }

    /// `(r_t, s_t² - r_t² s_{t-1}²)` of the one-step chain.
    pub fn chain_coefs(&self, t: usize) -> (f64, f64) {
        let now = self.marginal(t);
        let prev = match t {
            0 => Marginal {
                mean_coef: 1.0,
                std: 0.0,
            },
            _ => self.marginal(t - 1),
        };
        let r = now.mean_coef / prev.mean_coef;
        (r, now.std * now.std - r * r * prev.std * prev.std)
    }
}

impl Process for DiscreteProcess {
    fn num_steps(&self) -> usize {
        match self {
            Self::Vp(p) => p.num_steps(),
            Self::SubVp(p) => p.num_steps(),
            Self::Ve(p) => p.num_steps(),
            Self::Flow(p) => p.num_steps(),
        }
    }

    fn marginal(&self, t: usize) -> Marginal {
        match self {
            Self::Vp(p) => p.marginal(t),
            Self::SubVp(p) => p.marginal(t),
            Self::Ve(p) => p.marginal(t),
            Self::Flow(p) => p.marginal(t),
        }
    }

    fn prior_std(&self) -> f64 {
        match self {
            Self::Vp(p) => p.prior_std(),
            Self::SubVp(p) => p.prior_std(),
            Self::Ve(p) => p.prior_std(),
            Self::Flow(p) => p.prior_std(),
        }
    }

    fn time(&self, t: usize) -> Time {
        match self {
            Self::Flow(p) => Time::Flow(p.t(t)),
            _ => Time::Step(t),
        }
    }
}
