//! `∇ₓ·D(x)`, the divergence of a denoiser `D(x) = E[x_0|x_t]`, which the probability-flow
//! likelihood integrates (Song et al. 2021, app. D.2; Chen et al. 2018, Theorem 1).
//!
//! `tr J = Σ_k e_kᵀ J e_k` exactly with the `d` basis tangents, or Hutchinson–Skilling's
//! unbiased estimate `tr J = E[vᵀ J v]` for `E[v vᵀ] = I` (Hutchinson 1989; Skilling 1989),
//! averaged over `k` probes. Either way the tangents ride in one batch of `count · n` rows
//! (block `j` carries tangent `j` for every point), pushed forward where the network has
//! forward-mode tangents ([`crate::model::Network::predict_jvp`]) and pulled back by one
//! reverse-mode pass (`vᵀ J = ∇ₓ (vᵀ D)`) otherwise.

use burn::prelude::*;
use burn::tensor::Distribution;

use super::jvp::basis_tangents;
use super::ScoreModel;
use crate::error::{Error, Result};
use crate::process::NoiseLevel;

/// The largest dimension for which the exact divergence (d tangents per point) is allowed;
/// above it, use probes.
pub const MAX_EXACT_DIM: usize = 64;

/// How `∇·D` is computed.
#[derive(Debug, Clone)]
pub enum Divergence {
    /// Exactly, with the `d` basis tangents.
    Exact,
    /// Hutchinson–Skilling over fixed probes `v` `[count · n, d]`. They stay fixed over one ODE
    /// solve (score_sde draws its `epsilon` once), so the integrand is smooth in `t`.
    Hutchinson {
        probes: Box<Tensor<2>>,
        count: usize,
    },
}

impl Divergence {
    /// `count` Rademacher probes (`±1`, the lowest-variance choice, Hutchinson 1989) for `n`
    /// points of dimension `d`, from the device's seeded stream.
    pub fn rademacher(count: usize, n: usize, d: usize, device: &Device) -> Result<Self> {
        if count == 0 {
            return Err(Error::invalid(
                "Hutchinson's estimate needs at least 1 probe",
            ));
        }
        let u = Tensor::<2>::random([count * n, d], Distribution::Bernoulli(0.5), device);
        Ok(Self::Hutchinson {
            probes: Box::new(u * 2.0 - 1.0),
            count,
        })
    }

    /// The tangents `[count · n, d]`, their count, and the weight of each `vᵀ J v` in the sum.
    pub fn tangents(&self, n: usize, d: usize, device: &Device) -> Result<(Tensor<2>, usize, f64)> {
        match self {
            Self::Exact if d > MAX_EXACT_DIM => Err(Error::invalid(format!(
                "the exact divergence takes {d} passes per point here (d = {d} > {MAX_EXACT_DIM}); estimate it with probes (Hutchinson)"
            ))),
            Self::Exact => Ok((basis_tangents(n, d, device), d, 1.0)),
            Self::Hutchinson { probes, count } => {
                if probes.dims() != [count * n, d] {
                    return Err(Error::invalid(format!(
                        "the probes are {:?}, not [{count}·{n}, {d}]",
                        probes.dims()
                    )));
                }
                Ok((*probes.clone(), *count, 1.0 / *count as f64))
            }
        }
    }
}

/// `Σ_j w vⱼᵀ J vⱼ` per point `[n]` from the row products `jv` (`J v` or `vᵀ J`, row by row) and
/// the tangents, both `[count · n, d]`.
pub fn quadratic_forms(jv: Tensor<2>, tangents: Tensor<2>, count: usize, weight: f64) -> Tensor<1> {
    let n = jv.dims()[0] / count;
    ((jv * tangents).sum_dim(1).reshape([count, n]).sum_dim(0) * weight).reshape([n])
}

/// `(D(x), ∇·D(x))` for any model by one reverse-mode pass: `vᵀ J = ∇ₓ(Σ_rows vᵀ D)` on the
/// batch of `count · n` rows. Only the input is put on the autodiff tape (burn treats the
/// model's own tensors as constants there), so a model on any device answers.
pub fn reverse_mode(
    model: &(impl ScoreModel + ?Sized),
    x: Tensor<2>,
    level: &NoiseLevel,
    div: &Divergence,
) -> Result<(Tensor<2>, Tensor<1>)> {
    let x = x.inner();
    let [n, d] = x.dims();
    let (tangents, count, weight) = div.tangents(n, d, &x.device())?;
    let xs = x.repeat_dim(0, count).autodiff().require_grad();
    let out = model.denoise(xs.clone(), level)?;
    let grads = (out.clone() * tangents.clone()).sum().backward();
    let vj = xs
        .grad(&grads)
        .ok_or_else(|| Error::Device("the backward pass gave no gradient for x".into()))?;
    let tr = quadratic_forms(vj, tangents.inner(), count, weight);
    Ok((out.narrow(0, 0, n).inner(), tr))
}
