//! The exact score of a Gaussian mixture's perturbed marginal, as a [`ScoreModel`].
//!
//! For `x_t = a x_0 + s z` with `x_0 ~ Σ π_k N(μ_k, Σ_k)`, `p_t = Σ π_k N(a μ_k, a² Σ_k + s² I)`
//! (VP: `a = √ᾱ_t`, `s = √(1-ᾱ_t)`; VE: `a = 1`, `s = σ`; any SDE: its `(a(t), s(t))`), so the
//! oracle only needs the query's marginal. The math runs on the host in f64, so each query reads
//! `x` back synchronously: fine natively and on the CPU backend; on WebGPU (where synchronous
//! reads panic) read the points with `into_data_async` and call
//! [`MixtureScore::log_prob_and_score`] directly.

use burn::prelude::*;

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

impl ScoreModel for MixtureScore {
    fn score(&self, x: Tensor<2>, level: &NoiseLevel) -> Result<Tensor<2>> {
        let [n, d] = x.dims();
        if d != self.mixture.dim() {
            return Err(Error::invalid(format!(
                "points have dimension {d}, the mixture has {}",
                self.mixture.dim()
            )));
        }
        let device = x.device();
        let host = to_host(x)?;
        let (_, score) = self.log_prob_and_score(&host, level.marginal)?;
        let v: Vec<f32> = score.into_iter().map(|v| v as f32).collect();
        Ok(Tensor::from_data(TensorData::new(v, [n, d]), &device))
    }
}
