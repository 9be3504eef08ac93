//! Forward processes. A process owns its schedule tables and knows its marginal
//! `q(x_t | x_0) = N(a_t x_0, s_t² I)`, its prior and its one-step chain.
//!
//! Both directions of the picture share this code: the forward-noising view and the training
//! loss call [`Process::marginal`].

pub mod discrete;
pub mod flow;
pub mod sde;
pub mod sigma;
pub mod subvp;
pub mod ve;
pub mod vp;

pub use discrete::{DiscreteProcess, ProcessConfig};
pub use flow::{FlowProcess, FlowSde};
pub use sde::{Discretized, Sde};
pub use sigma::karras_sigmas;
pub use subvp::{SubVpProcess, SubVpSde};
pub use ve::{sigma_max_from_data, VeConfig, VeProcess, VeSde};
pub use vp::{VpProcess, VpSde};

/// A point in time of a process. Discrete DDPM/NCSN indices and continuous score-SDE time are
/// different kinds of time, and the variants keep them apart.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Time {
    /// A discrete index `t = 0..T-1` of a [`Process`] (DDPM step or NCSN level, noisier as it grows).
    Step(usize),
    /// Continuous time `t ∈ [0, 1]` of an [`Sde`].
    Continuous(f64),
    /// Time `t ∈ [0, 1]` on flow matching's linear path ([`FlowProcess`]).
    Flow(f64),
}

impl Time {
    /// The float a network trained on `train_steps` steps is conditioned on: DDPM's step `i`;
    /// score_sde's `t·(T-1)` for continuous time (`labels = t * (N - 1)`); diffusers' `T·t` on
    /// the flow path (`timestep = σ · num_train_timesteps`).
    pub fn network_input(self, train_steps: usize) -> f32 {
        let t_max = train_steps.max(1) as f64;
        (match self {
            Self::Step(i) => i as f64,
            Self::Continuous(t) => t * (t_max - 1.0),
            Self::Flow(t) => t * t_max,
        }) as f32
    }
}

/// Where a score model is queried: the time (for a network's conditioning) and the marginal
/// `x_t = a x_0 + s z` at that time (for parameterisation conversions and exact oracles).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NoiseLevel {
    pub time: Time,
    pub marginal: Marginal,
}

impl NoiseLevel {
    /// Step `t` of a discrete process.
    pub fn step(process: &impl Process, t: usize) -> Self {
        Self {
            time: process.time(t),
            marginal: process.marginal(t),
        }
    }

    /// The clean data itself (`a = 1`, `s = 0`): what plain Langevin dynamics targets.
    pub fn data() -> Self {
        Self {
            time: Time::Continuous(0.0),
            marginal: Marginal {
                mean_coef: 1.0,
                std: 0.0,
            },
        }
    }
}

/// `q(x_t | x_0) = N(mean_coef · x_0, std² I)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Marginal {
    pub mean_coef: f64,
    pub std: f64,
}

impl Marginal {
    /// The signal-to-noise ratio `a²/s²` (ᾱ_t/(1-ᾱ_t) for VP; Kingma et al. 2021, eq. 1).
    pub fn snr(&self) -> f64 {
        (self.mean_coef * self.mean_coef) / (self.std * self.std)
    }
}

/// A discrete-time forward process on `t = 0..T-1`.
pub trait Process {
    /// T, the number of steps.
    fn num_steps(&self) -> usize;
    /// The closed-form marginal at step `t`.
    fn marginal(&self, t: usize) -> Marginal;
    /// The prior `p(x_T)` is `N(0, prior_std² I)`.
    fn prior_std(&self) -> f64;
    /// Step `t` as the process's kind of time (what a network is conditioned on).
    fn time(&self, t: usize) -> Time {
        Time::Step(t)
    }
}
