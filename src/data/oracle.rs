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
        Ok(weighted(&resp, grads).neg())
    }

    /// `E[x_0 | x_t] = Σ_k r_k m_k`, the responsibilities times each component's Gaussian
    /// posterior mean (defined at `a = 0` too, where it is the mixture's mean).
    fn denoise(&self, x: Tensor<2>, level: &NoiseLevel) -> Result<Tensor<2>> {
        let (post, means) = self.posterior_means(&x, level.marginal)?;
        Ok(weighted(&post.resp, means))
    }

    /// Exact, whatever `div` asks: with `m_k = μ_k + a Σ_k g_k`, `∂m_k/∂x = a Σ_k P_k` and
    /// `∇r_k = r_k (ḡ - g_k)` for `ḡ = Σ_j r_j g_j`,
    /// `∇·D = Σ_k r_k [a tr(Σ_k P_k) + m_k · (ḡ - g_k)]` (0 at `a = 0`, where `g_k` agree).
    fn denoise_divergence(
        &self,
        x: Tensor<2>,
        level: &NoiseLevel,
        _div: &crate::model::Divergence,
    ) -> Result<(Tensor<2>, Tensor<1>)> {
        let m = level.marginal;
        let [n, _] = x.dims();
        let (post, means) = self.posterior_means(&x, m)?;
        let (precisions, _) = self.marginal_mixture(m)?.precisions();
        let d = self.mixture.dim();
        let g_bar = weighted(&post.resp, post.grads.clone());
        let mut div = Tensor::<2>::zeros([n, 1], &x.device());
        for (k, ((g, mk), (cov, prec))) in post
            .grads
            .into_iter()
            .zip(means.iter().cloned())
            .zip(self.mixture.covs().iter().zip(&precisions))
            .enumerate()
        {
            // tr(Σ_k P_k) = Σ_ij (Σ_k)_ij (P_k)_ji, P_k symmetric.
            let tr: f64 = (0..d)
                .flat_map(|i| (0..d).map(move |j| (i, j)))
                .map(|(i, j)| cov[i][j] * prec[i * d + j])
                .sum();
            let term = (mk * (g_bar.clone() - g)).sum_dim(1) + m.mean_coef * tr;
            div = div + term * post.resp.clone().narrow(1, k, 1);
        }
        Ok((weighted(&post.resp, means), div.reshape([n])))
    }
}

impl MixtureScore {
    /// The posterior and each component's posterior mean `m_k = μ_k + a Σ_k g_k` `[n, d]`.
    fn posterior_means(&self, x: &Tensor<2>, m: Marginal) -> Result<(Posterior, Vec<Tensor<2>>)> {
        let d = self.mixture.dim();
        let post = self.posterior(x, m)?;
        let device = x.device();
        let parts = self.mixture.means().iter().zip(self.mixture.covs());
        let means = post
            .grads
            .iter()
            .zip(parts)
            .map(|(g, (mu, cov))| {
                let flat: Vec<f64> = cov.iter().flatten().copied().collect();
                let cov = host_matrix(&flat, [d, d], &device);
                g.clone().matmul(cov) * m.mean_coef + host_matrix(mu, [1, d], &device)
            })
            .collect();
        Ok((post, means))
    }
}

/// `Σ_k r_k v_k` for responsibilities `[n, K]`.
fn weighted(resp: &Tensor<2>, parts: Vec<Tensor<2>>) -> Tensor<2> {
    let mut out = parts[0].zeros_like();
    for (k, v) in parts.into_iter().enumerate() {
        out = out + v * resp.clone().narrow(1, k, 1);
    }
    out
}
