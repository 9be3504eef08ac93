//! Forward processes. A process owns its schedule tables and knows its marginal
//! `q(x_t | x_0) = N(a_t x_0, s_t² I)`, its prior and its one-step chain.
//!
//! Both directions of the picture share this code: the forward-noising view and the training
//! loss call [`Process::marginal`].

pub mod vp;

pub use vp::VpProcess;

/// `q(x_t | x_0) = N(mean_coef · x_0, std² I)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Marginal {
    pub mean_coef: f64,
    pub std: f64,
}

/// A discrete-time forward process on `t = 0..T-1`.
pub trait Process {
    /// T, the number of steps.
    fn num_steps(&self) -> usize;
    /// The closed-form marginal at step `t`.
    fn marginal(&self, t: usize) -> Marginal;
    /// The prior `p(x_T)` is `N(0, prior_std² I)`.
    fn prior_std(&self) -> f64;
}
