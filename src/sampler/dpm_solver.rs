//! DPM-Solver++ (Lu et al. 2022b), multistep, in data-prediction form, on any discrete process
//! with Gaussian marginals `x_t = a_t x_0 + s_t z` (VP, sub-VP, VE). With `λ = log(a/s)` and
//! `h = λ_t - λ_s`, the first-order step is (eq. 9, DDIM's)
//! `x_t = (s_t/s_s) x_s - a_t (e^{-h} - 1) x̂₀(x_s)`,
//! and the k-th order multistep one (Algorithm 2, 2M; App. B, 3M) replaces `x̂₀` by an
//! extrapolation from the last k model outputs. The first steps and the last ones use lower
//! orders (`min(order, i + 1, steps left)`); the last step lands on the clean data (`s = 0`,
//! diffusers' `final_sigmas_type = "zero"`).
//!
//! The steps are diffusers' "linspace" rule: `round(linspace(0, T-1, n+1))`, noisiest first,
//! the last (t = 0) replaced by the clean data.

use burn::prelude::*;

use super::{Prior, Rule, Step, StepOutput, Walker};
use crate::error::{Error, Result};
use crate::process::{DiscreteProcess, Marginal, NoiseLevel, Process};

/// The `n` steps DPM-Solver++ queries the model at, noisiest first (1 ≤ n ≤ T-1, so that they are
/// distinct).
pub fn dpm_timesteps(train_steps: usize, n: usize) -> Result<Vec<usize>> {
    if n == 0 || n + 1 > train_steps {
        return Err(Error::invalid(format!(
            "DPM-Solver++ takes between 1 and T-1 = {} steps, got {n}",
            train_steps.saturating_sub(1)
        )));
    }
    let last = (train_steps - 1) as f64;
    Ok((1..=n)
        .rev()
        .map(|k| (k as f64 * last / n as f64).round_ties_even() as usize)
        .collect())
}

pub struct DpmSolver {
    process: DiscreteProcess,
    timesteps: Vec<usize>,
    order: usize,
    /// The model's `x̂₀` at the last steps with their marginals, newest first.
    history: Vec<(Tensor<2>, Marginal)>,
}

pub type DpmSolverSampler = Walker<DpmSolver>;

impl DpmSolverSampler {
    pub fn new(process: DiscreteProcess, steps: usize, order: usize, seed: u64) -> Result<Self> {
        if !(1..=3).contains(&order) {
            return Err(Error::invalid(format!(
                "DPM-Solver++'s order is 1, 2 or 3, got {order}"
            )));
        }
        let timesteps = dpm_timesteps(process.num_steps(), steps)?;
        let rule = DpmSolver {
            process,
            timesteps,
            order,
            history: Vec::new(),
        };
        Ok(Walker::with_rule(rule, seed))
    }

    /// The steps it queries the model at, noisiest first.
    pub fn timesteps(&self) -> &[usize] {
        &self.rule().timesteps
    }
}

/// `λ = log(a/s)`.
fn lambda(m: &Marginal) -> f64 {
    (m.mean_coef / m.std).ln()
}

impl Rule for DpmSolver {
    fn steps(&self) -> usize {
        self.timesteps.len()
    }

    fn prior(&self) -> Prior {
        Prior::Normal {
            std: self.process.marginal(self.timesteps[0]).std,
        }
    }

    fn update(&mut self, s: Step<'_>) -> Result<StepOutput> {
        let Step { x, i, model, .. } = s;
        if i == 0 {
            self.history.clear();
        }
        let t = self.timesteps[i];
        let level = NoiseLevel::step(&self.process, t);
        let m_s = level.marginal;
        let x0 = model.denoise(x.clone(), &level)?;
        self.history.insert(0, (x0.clone(), m_s));
        self.history.truncate(3);
        let m_t = self.timesteps.get(i + 1).map_or(
            Marginal {
                mean_coef: 1.0,
                std: 0.0,
            },
            |&p| self.process.marginal(p),
        );
        let order = self.order.min(i + 1).min(self.steps() - i);
        // e^{-h} = (s_t a_s)/(a_t s_s): 0 at the clean data, where h is infinite.
        let e = (m_t.std * m_s.mean_coef) / (m_t.mean_coef * m_s.std);
        let base = x * (m_t.std / m_s.std) - x0.clone() * (m_t.mean_coef * (e - 1.0));
        let x_next = match order {
            1 => base,
            2 => {
                // Algorithm 2 (midpoint form): D1 = (x̂₀ - x̂₀_prev)/r₀, r₀ = h₀/h.
                let (prev, m_1) = &self.history[1];
                let h = lambda(&m_t) - lambda(&m_s);
                let r0 = (lambda(&m_s) - lambda(m_1)) / h;
                let d1 = (x0.clone() - prev.clone()) / r0;
                base - d1 * (0.5 * m_t.mean_coef * (e - 1.0))
            }
            _ => {
                // App. B, third order.
                let (x1, m_1) = &self.history[1];
                let (x2, m_2) = &self.history[2];
                let h = lambda(&m_t) - lambda(&m_s);
                let r0 = (lambda(&m_s) - lambda(m_1)) / h;
                let r1 = (lambda(m_1) - lambda(m_2)) / h;
                let d1_0 = (x0.clone() - x1.clone()) / r0;
                let d1_1 = (x1.clone() - x2.clone()) / r1;
                let d1 = d1_0.clone() + (d1_0.clone() - d1_1.clone()) * (r0 / (r0 + r1));
                let d2 = (d1_0 - d1_1) / (r0 + r1);
                let a = m_t.mean_coef;
                base + d1 * (a * ((e - 1.0) / h + 1.0)) - d2 * (a * ((e - 1.0 + h) / (h * h) - 0.5))
            }
        };
        Ok(StepOutput {
            x: x_next.clone(),
            x_mean: x_next,
            x0_pred: x0,
            t,
            time: level.time,
        })
    }
}
