//! The exact score of a Gaussian mixture's perturbed marginal, as a [`ScoreModel`].
//!
//! For `x_t = a x_0 + s z` with `x_0 ~ Σ π_k N(μ_k, Σ_k)`, `p_t = Σ π_k N(a μ_k, a² Σ_k + s² I)`
//! (VP: `a = √ᾱ_t`, `s = √(1-ᾱ_t)`; VE: `a = 1`, `s = σ`; any SDE: its `(a(t), s(t))`), so the
//! oracle only needs the query's marginal. As a [`ScoreModel`] it runs on the device, with the
//! `K` perturbed precisions computed on the host: no read-back, so it drives samplers on WebGPU
//! (where synchronous reads panic) as it does on the CPU. [`MixtureScore::log_prob_and_score`]
//! is the f64 host version for grids and metrics.

use burn::prelude::*;
use burn::tensor::activation::softmax;

use super::GaussianMixture;
use crate::error::{Error, Result};
use crate::model::ScoreModel;
use crate::process::{Marginal, NoiseLevel};

/// Reads a `[n, d]` tensor back to the host.
pub(crate) fn to_host(x: Tensor<2>) -> Result<Vec<f32>> {
    x.into_data()
        .try_into_vec::<f32>()
        .map_err(|e| Error::Device(format!("cannot read a tensor back: {e:?}")))
}

/// The oracle score model of a mixture.
#[derive(Debug, Clone)]
pub struct MixtureScore {
    mixture: GaussianMixture,
}

impl MixtureScore {
    pub fn new(mixture: GaussianMixture) -> Self {
        Self { mixture }
    }

    pub fn mixture(&self) -> &GaussianMixture {
        &self.mixture
    }

    /// The perturbed mixture `p_t` for marginal `m`.
    pub fn marginal_mixture(&self, m: Marginal) -> Result<GaussianMixture> {
        self.mixture.perturbed(m.mean_coef, m.std)
    }

    /// `log p_t(x)` and `∇ log p_t(x)` on the host, `x` row-major `[n, d]`.
    pub fn log_prob_and_score(&self, x: &[f32], m: Marginal) -> Result<(Vec<f64>, Vec<f64>)> {
        let d = self.mixture.dim();
        if x.len() % d != 0 {
            return Err(Error::invalid(format!(
                "{} values are not rows of dimension {d}",
                x.len()
            )));
        }
        Ok(self.marginal_mixture(m)?.log_prob_and_score_batch(x))
    }
}

/// Per component `k` of the perturbed mixture at a query: `g_k = P_k (x - a μ_k)` and the
/// responsibilities `r_k(x)` `[n, K]`.
struct Posterior {
    resp: Tensor<2>,
    grads: Vec<Tensor<2>>,
}

impl MixtureScore {
    fn posterior(&self, x: &Tensor<2>, m: Marginal) -> Result<Posterior> {
        let [_, d] = x.dims();
        if d != self.mixture.dim() {
            return Err(Error::invalid(format!(
                "points have dimension {d}, the mixture has {}",
                self.mixture.dim()
            )));
        }
        let device = x.device();
        let p = self.marginal_mixture(m)?;
        let (precisions, log_c) = p.precisions();
        // The log responsibility numerator c_k - ½ (x - aμ_k)ᵀ g_k.
        let mut logits = Vec::with_capacity(p.num_components());
        let mut grads = Vec::with_capacity(p.num_components());
        for ((mu, prec), c) in p.means().iter().zip(&precisions).zip(&log_c) {
            let mu = host_matrix(mu, [1, d], &device);
            let prec = host_matrix(&prec[..], [d, d], &device);
            let diff = x.clone() - mu;
            // P_k is symmetric, so row-wise (P_k diff)ᵀ = diff P_k.
            let g = diff.clone().matmul(prec);
            logits.push((g.clone() * diff).sum_dim(1) * -0.5 + *c);
            grads.push(g);
        }
        Ok(Posterior {
            resp: softmax(Tensor::cat(logits, 1), 1),
            grads,
        })
    }
}

fn host_matrix(v: &[f64], shape: [usize; 2], device: &Device) -> Tensor<2> {
    let v: Vec<f32> = v.iter().map(|&v| v as f32).collect();
    Tensor::<2>::from_data(TensorData::new(v, shape), device)
}

impl ScoreModel for MixtureScore {
    /// `∇log p_t = -Σ_k r_k g_k`.
    fn score(&self, x: Tensor<2>, level: &NoiseLevel) -> Result<Tensor<2>> {
        let Posterior { resp, grads } = self.posterior(&x, level.marginal)?;
        let mut score = x.zeros_like();
        for (k, g) in grads.into_iter().enumerate() {
            score = score - g * resp.clone().narrow(1, k, 1);
        }
        Ok(score)
    }

    /// `E[x_0 | x_t] = Σ_k r_k (μ_k + a Σ_k g_k)`, the Gaussian posterior mean of each
    /// component (defined at `a = 0` too, where it is the mixture's mean).
    fn denoise(&self, x: Tensor<2>, level: &NoiseLevel) -> Result<Tensor<2>> {
        let a = level.marginal.mean_coef;
        let d = self.mixture.dim();
        let Posterior { resp, grads } = self.posterior(&x, level.marginal)?;
        let device = x.device();
        let mut x0 = x.zeros_like();
        let parts = self.mixture.means().iter().zip(self.mixture.covs());
        for (k, (g, (mu, cov))) in grads.into_iter().zip(parts).enumerate() {
            let flat: Vec<f64> = cov.iter().flatten().copied().collect();
            let cov = host_matrix(&flat, [d, d], &device);
            let mean = g.matmul(cov) * a + host_matrix(mu, [1, d], &device);
            x0 = x0 + mean * resp.clone().narrow(1, k, 1);
        }
        Ok(x0)
    }
}
