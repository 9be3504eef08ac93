//! Exact log-likelihoods by the probability-flow ODE (Song et al. 2021, app. D.2; the
//! instantaneous change of variables of Chen et al. 2018, Theorem 1):
//!
//! `log p_ε(x) = log p_1(x_1) + ∫_ε^1 ∇·f̃(x_t, t) dt`, with `dx_t/dt = f̃(x_t, t)` from
//! `x_ε = x`, `f̃ = c_x x + c_D D(x)` the drift in denoiser form ([`Sde::probability_flow`]) and
//! `∇·f̃ = c_x d + c_D ∇·D`. The state `[x | ∫∇·f̃]` `[n, d+1]` is integrated by
//! Dormand–Prince ([`dopri5`]); `p_1` is the process's prior `N(0, σ_T² I)`, as in score_sde's
//! `likelihood.py`.

pub mod dopri5;

use burn::prelude::*;

pub use dopri5::{Solution, Tolerance};

use crate::error::{Error, Result};
use crate::model::{Divergence, ScoreModel};
use crate::process::Sde;

/// How one likelihood is computed.
#[derive(Debug, Clone)]
pub struct LikelihoodConfig {
    /// The ODE's start `ε` (the likelihood is that of `p_ε`, score_sde's `eps`).
    pub t_end: f64,
    pub tol: Tolerance,
    pub divergence: Divergence,
    /// The most right-hand-side evaluations before giving up.
    pub max_nfe: usize,
}

/// Per point `log p_ε(x)` (nats), and what the solve cost.
#[derive(Debug, Clone)]
pub struct LogLikelihood {
    pub log_p: Vec<f64>,
    /// `log p_1(x_1)`, the prior's part.
    pub prior_log_p: Vec<f64>,
    pub nfe: usize,
    pub steps: usize,
}

impl LogLikelihood {
    /// The mean negative log-likelihood in nats.
    pub fn nll(&self) -> f64 {
        -self.log_p.iter().sum::<f64>() / self.log_p.len().max(1) as f64
    }
}

/// `log N(x; 0, σ² I)` per row of a row-major `[n, d]` host array.
pub fn normal_log_prob(x: &[f32], d: usize, std: f64) -> Vec<f64> {
    let c = -0.5 * d as f64 * (2.0 * std::f64::consts::PI * std * std).ln();
    x.chunks(d)
        .map(|row| c - 0.5 * row.iter().map(|&v| (v as f64).powi(2)).sum::<f64>() / (std * std))
        .collect()
}

/// `log p_ε(x)` for `x` `[n, d]` under `model` on `sde`.
pub fn log_likelihood(
    model: &dyn ScoreModel,
    sde: &dyn Sde,
    x: Tensor<2>,
    config: &LikelihoodConfig,
) -> Result<LogLikelihood> {
    let [n, d] = x.dims();
    let eps = config.t_end;
    if !(eps > 0.0 && eps < 1.0) {
        return Err(Error::invalid(format!(
            "the ODE starts at ε in (0, 1), got {eps}"
        )));
    }
    let rhs = |t: f64, y: Tensor<2>| -> Result<Tensor<2>> {
        let x = y.narrow(1, 0, d);
        let (x0, div_d) = model.denoise_divergence(x.clone(), &sde.level(t), &config.divergence)?;
        let (c_x, c_d) = sde.probability_flow_coefs(t);
        let div = div_d * c_d + c_x * d as f64;
        let dx = sde.probability_flow(x, x0, t);
        Ok(Tensor::cat(vec![dx, div.reshape([n, 1])], 1))
    };
    let y0 = Tensor::cat(vec![x.clone(), Tensor::zeros([n, 1], &x.device())], 1);
    let sol = dopri5::solve(rhs, y0, eps, 1.0, config.tol, config.max_nfe)?;
    let y = sol
        .y
        .into_data()
        .try_into_vec::<f32>()
        .map_err(|e| Error::Device(format!("cannot read the ODE's end state back: {e:?}")))?;
    let (mut x1, mut delta) = (Vec::with_capacity(n * d), Vec::with_capacity(n));
    for row in y.chunks(d + 1) {
        x1.extend_from_slice(&row[..d]);
        delta.push(row[d] as f64);
    }
    let prior_log_p = normal_log_prob(&x1, d, sde.prior_std());
    let log_p: Vec<f64> = prior_log_p
        .iter()
        .zip(&delta)
        .map(|(p, dl)| p + dl)
        .collect();
    if let Some(i) = log_p.iter().position(|v| !v.is_finite()) {
        return Err(Error::invalid(format!(
            "the log-likelihood of point {i} is not finite"
        )));
    }
    Ok(LogLikelihood {
        log_p,
        prior_log_p,
        nfe: sol.nfe,
        steps: sol.accepted,
    })
}

/// Bits per dimension of images in `[-1, 1]` from 8-bit pixels under uniform dequantisation
/// (score_sde's `bpd` with offset `7 = 8 - log₂ 2`): `-log p(x)/(d ln 2) + 7`, an upper bound on
/// the discrete model's bits (Theis et al. 2016).
pub fn bits_per_dim(log_p: f64, d: usize) -> f64 {
    -log_p / (d as f64 * std::f64::consts::LN_2) + 7.0
}
