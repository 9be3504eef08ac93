//! Sliced score matching (Song, Garg, Shi & Ermon 2019, eqs. 7–8). With random projections `v`,
//! `E[v vᵀ] = I`:
//! - SSM: `J(θ) = E_v E_p [ vᵀ (∇ₓ s_θ) v + ½ (vᵀ s_θ)² ]` (eq. 7),
//! - SSM-VR: `J_vr(θ) = E_v E_p [ vᵀ (∇ₓ s_θ) v + ½ ‖s_θ‖² ]` (eq. 8; the second expectation
//!   taken in closed form, which lowers the variance).
//!
//! `(∇ₓ s_θ) v` is one forward-mode JVP ([`ScoreNet::score_jvp`]); `M` projections per point are
//! one batch of `M · n` rows.

use burn::prelude::*;
use rand::Rng;
use rand_distr::{Distribution, StandardNormal};
use serde::{Deserialize, Serialize};

use super::net::{half_sq_norm, ScoreNet};
use crate::error::{Error, Result};

/// The law of the projections `v` (both have `E[v vᵀ] = I`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Projection {
    /// `v ~ N(0, I)`.
    #[default]
    Gaussian,
    /// Entries independent, uniform on `{-1, +1}` (lowest variance of `vᵀ A v`).
    Rademacher,
}

impl std::str::FromStr for Projection {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "gaussian" => Ok(Self::Gaussian),
            "rademacher" => Ok(Self::Rademacher),
            o => Err(Error::invalid(format!(
                "unknown projection '{o}' (expected gaussian or rademacher)"
            ))),
        }
    }
}

impl Projection {
    /// `rows · dim` draws, row-major `[rows, dim]`, from the host RNG.
    pub fn draw<R: Rng + ?Sized>(self, rng: &mut R, rows: usize, dim: usize) -> Vec<f32> {
        let n = rows * dim;
        match self {
            Self::Gaussian => (0..n).map(|_| StandardNormal.sample(rng)).collect(),
            Self::Rademacher => {
                let sign = rand::distr::Bernoulli::new(0.5).expect("p = 0.5 is valid");
                (0..n)
                    .map(|_| if sign.sample(rng) { 1.0 } else { -1.0 })
                    .collect()
            }
        }
    }
}

/// `x` is `[n, d]`, `c` `[n]`, `v` `[M·n, d]` with rows `m·n .. (m+1)·n` the `m`-th projection of
/// every point; `variance_reduced` selects SSM-VR (eq. 8) over SSM (eq. 7).
/// The per-projection term `vᵀ(∇ₓ s_θ) v + ½ (vᵀ s_θ)²` (eq. 7; `+ ½ ‖s_θ‖²` for eq. 8) `[M·n]`,
/// which [`super::levels`] weights.
pub fn ssm_terms(
    net: &impl ScoreNet,
    x: Tensor<2>,
    c: Tensor<1>,
    v: Tensor<2>,
    variance_reduced: bool,
) -> Result<Tensor<1>> {
    let [n, d] = x.dims();
    let [rows, dv] = v.dims();
    if n == 0 || dv != d || rows % n != 0 || rows == 0 {
        return Err(Error::invalid(format!(
            "projections must be [M·n, d] = [M·{n}, {d}], got [{rows}, {dv}]"
        )));
    }
    let m = rows / n;
    let (s, jv) = net.score_jvp(x.repeat_dim(0, m), c.repeat_dim(0, m), v.clone());
    // vᵀ (∇ₓ s) v per row.
    let vjv = (v.clone() * jv).sum_dim(1).reshape([rows]);
    let second = if variance_reduced {
        half_sq_norm(s)
    } else {
        ((v * s).sum_dim(1).reshape([rows]).square()) * 0.5
    };
    Ok(vjv + second)
}
