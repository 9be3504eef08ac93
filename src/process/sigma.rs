//! A discrete process in EDM's coordinates (Karras et al. 2022, §2 and Table 1): every Gaussian
//! marginal `x_t = a_t x_0 + s_t z` is `x_t = a_t (x_0 + σ_t z)` with `σ_t = s_t/a_t`, so any
//! network or oracle on the process answers at any σ between its ends. A σ between two steps is
//! fed to a network at the fractional step diffusers' `_sigma_to_t` gives (linear in log σ), and
//! its marginal is the process family's own at that σ.

use super::{DiscreteProcess, Marginal, NoiseLevel, Process, Time};
use crate::error::{Error, Result};

impl DiscreteProcess {
    /// `σ_t = s_t/a_t` at step `t` (VP: `√((1-ᾱ_t)/ᾱ_t)`, VE: the level's σ).
    pub fn sigma(&self, t: usize) -> f64 {
        let m = self.marginal(t);
        m.std / m.mean_coef
    }

    /// The smallest and largest finite σ of the steps, `(σ_0, σ_{T-1})` (the flow path's last
    /// step is pure noise, σ = ∞, so it ends at `σ_{T-2}`); an error unless `0 < σ_0 < σ_max`
    /// (a one-level process has no σ range to walk).
    pub fn sigma_range(&self) -> Result<(f64, f64)> {
        let t = self.num_steps();
        let top = (0..t).rfind(|&i| self.sigma(i).is_finite()).unwrap_or(0);
        let (lo, hi) = (self.sigma(0), self.sigma(top));
        if t < 2 || !(lo > 0.0 && lo < hi && hi.is_finite()) {
            return Err(Error::invalid(format!(
                "a σ-space sampler walks from σ_max down to σ_min > 0 over at least two steps; the {} process has {t} step(s) with σ from {lo} to {hi}",
                self.config().name()
            )));
        }
        Ok((lo, hi))
    }

    /// The fractional step whose σ is `sigma`, linear in log σ between the two steps around it
    /// and clamped to `[0, T-1]` (diffusers' `_sigma_to_t`).
    pub fn step_of_sigma(&self, sigma: f64) -> f64 {
        let t = self.num_steps();
        if t < 2 {
            return 0.0;
        }
        let log_sigma = sigma.max(1e-10).ln();
        let log_at = |i: usize| self.sigma(i).ln();
        // The last step at or below σ, at most T-2 so that a step above it exists.
        let low = (0..t)
            .rfind(|&i| log_at(i) <= log_sigma)
            .unwrap_or(0)
            .min(t - 2);
        let (l, h) = (log_at(low), log_at(low + 1));
        let w = ((l - log_sigma) / (l - h)).clamp(0.0, 1.0);
        (1.0 - w) * low as f64 + w * (low + 1) as f64
    }

    /// The marginal of this process's family whose `s/a` is `sigma`: VP `a = 1/√(1+σ²)`,
    /// sub-VP (`s = 1 - a²`) `a = (√(σ²+4) - σ)/2`, VE `a = 1`, flow (`s = 1 - a`)
    /// `a = 1/(1+σ)`; `s = σ a`.
    pub fn marginal_at_sigma(&self, sigma: f64) -> Marginal {
        let a = match self {
            Self::Vp(_) => 1.0 / (1.0 + sigma * sigma).sqrt(),
            Self::SubVp(_) => ((sigma * sigma + 4.0).sqrt() - sigma) / 2.0,
            Self::Ve(_) => 1.0,
            Self::Flow(_) => 1.0 / (1.0 + sigma),
        };
        Marginal {
            mean_coef: a,
            std: sigma * a,
        }
    }

    /// The noise level at `sigma`: its marginal, and for a network the fractional step
    /// [`DiscreteProcess::step_of_sigma`] as continuous time `t/(T-1)` (which
    /// [`crate::model::NetworkScore`] feeds back as that step), or on the flow path its own time
    /// `t = σ/(1+σ)`. σ = 0 is the clean data.
    pub fn level_at_sigma(&self, sigma: f64) -> NoiseLevel {
        if sigma <= 0.0 {
            return NoiseLevel::data();
        }
        if let Self::Flow(_) = self {
            let t = if sigma.is_finite() {
                sigma / (1.0 + sigma)
            } else {
                1.0
            };
            return NoiseLevel {
                time: Time::Flow(t),
                marginal: Marginal {
                    mean_coef: 1.0 - t,
                    std: t,
                },
            };
        }
        let last = self.num_steps().saturating_sub(1).max(1) as f64;
        NoiseLevel {
            time: Time::Continuous(self.step_of_sigma(sigma) / last),
            marginal: self.marginal_at_sigma(sigma),
        }
    }
}

/// Karras et al.'s σ schedule (eq. 5): `n` values from `σ_max` down to `σ_min`, evenly spaced in
/// `σ^{1/ρ}` (ρ = 7 in the paper), then the clean data `σ = 0`; `n + 1` values.
pub fn karras_sigmas(sigma_min: f64, sigma_max: f64, n: usize, rho: f64) -> Result<Vec<f64>> {
    if n == 0 {
        return Err(Error::invalid("the number of σ steps must be at least 1"));
    }
    if !(rho > 0.0 && rho.is_finite()) {
        return Err(Error::invalid(format!("ρ must be positive, got {rho}")));
    }
    if !(sigma_min > 0.0 && sigma_min < sigma_max && sigma_max.is_finite()) {
        return Err(Error::invalid(format!(
            "Karras σ needs 0 < σ_min < σ_max, got {sigma_min} and {sigma_max}"
        )));
    }
    let (lo, hi) = (sigma_min.powf(1.0 / rho), sigma_max.powf(1.0 / rho));
    let mut out: Vec<f64> = (0..n)
        .map(|i| {
            let ramp = if n == 1 {
                0.0
            } else {
                i as f64 / (n - 1) as f64
            };
            (hi + ramp * (lo - hi)).powf(rho)
        })
        .collect();
    out.push(0.0);
    Ok(out)
}
