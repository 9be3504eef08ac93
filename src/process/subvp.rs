//! The sub-VP SDE (Song et al. 2021, eq. 16): `dx = -½β(t) x dt + √(β(t)(1 - e^{-2∫₀ᵗβ})) dW`.
//! Its variance stays below VP's at every `t`. [`SubVpProcess`] is its discrete-time form on a
//! β schedule: the marginal of eq. 32 at DDPM's steps, `q(x_t|x_0) = N(√ᾱ_t x_0, (1-ᾱ_t)² I)`.

use super::sde::{validate_beta_range, vp_log_mean_coef};
use super::{Marginal, Process, Sde};
use crate::error::Result;
use crate::schedule::{Schedule, ScheduleConfig};

/// sub-VP in discrete time: DDPM's `ᾱ_t`, with std `1 - ᾱ_t` where VP has `√(1 - ᾱ_t)`
/// (eq. 32 with `e^{-∫₀ᵗβ} = ᾱ_t`).
#[derive(Debug, Clone)]
pub struct SubVpProcess {
    schedule: Schedule,
}

impl SubVpProcess {
    pub fn new(config: ScheduleConfig) -> Result<Self> {
        Ok(Self {
            schedule: config.build()?,
        })
    }

    pub fn schedule(&self) -> &Schedule {
        &self.schedule
    }
}

impl Process for SubVpProcess {
    fn num_steps(&self) -> usize {
        self.schedule.len()
    }

    fn marginal(&self, t: usize) -> Marginal {
        let ab = self.schedule.alphas_cumprod[t];
        Marginal {
            mean_coef: ab.sqrt(),
            std: 1.0 - ab,
        }
    }

    fn prior_std(&self) -> f64 {
        1.0
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SubVpSde {
    pub beta_min: f64,
    pub beta_max: f64,
}

impl Default for SubVpSde {
    /// score_sde's defaults, β from 0.1 to 20.
    fn default() -> Self {
        Self {
            beta_min: 0.1,
            beta_max: 20.0,
        }
    }
}

impl SubVpSde {
    pub fn new(beta_min: f64, beta_max: f64) -> Result<Self> {
        validate_beta_range(beta_min, beta_max)?;
        Ok(Self { beta_min, beta_max })
    }

    pub fn beta(&self, t: f64) -> f64 {
        self.beta_min + t * (self.beta_max - self.beta_min)
    }
}

impl Sde for SubVpSde {
    fn drift_coef(&self, t: f64) -> f64 {
        -0.5 * self.beta(t)
    }

    fn diffusion(&self, t: f64) -> f64 {
        // ∫₀ᵗ β = β_min t + ½ (β_max - β_min) t².
        let integral = self.beta_min * t + 0.5 * (self.beta_max - self.beta_min) * t * t;
        (self.beta(t) * (1.0 - (-2.0 * integral).exp())).sqrt()
    }

    /// `N(e^{log a} x_0, (1 - e^{2 log a})² I)` (Song et al. 2021, eq. 32).
    fn marginal(&self, t: f64) -> Marginal {
        let lm = vp_log_mean_coef(self.beta_min, self.beta_max, t);
        Marginal {
            mean_coef: lm.exp(),
            std: -(2.0 * lm).exp_m1(),
        }
    }

    fn prior_std(&self) -> f64 {
        1.0
    }
}
