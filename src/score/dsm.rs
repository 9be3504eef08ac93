//! Denoising score matching at one noise level (Vincent 2011, eq. 11; Song & Ermon 2019, eq. 2):
//! with `x̃ = x + σ z`, `z ~ N(0, I)`, `q_σ(x̃|x) = N(x, σ² I)` and
//! `∇_x̃ log q_σ(x̃|x) = -(x̃ - x)/σ² = -z/σ`, so
//! `J_DSM(θ) = E ½ ‖s_θ(x̃) + (x̃ - x)/σ²‖²`, minimised by the score of `p_σ = p ∗ N(0, σ² I)`.

use burn::prelude::*;

use super::net::{half_sq_norm, ScoreNet};
use crate::error::{Error, Result};

/// The batch mean of `½ ‖s_θ(x + σ z, c) + z/σ‖²` for clean points `x` and noise `z` `[n, d]`.
pub fn dsm_loss(
    net: &impl ScoreNet,
    x: Tensor<2>,
    c: Tensor<1>,
    z: Tensor<2>,
    sigma: f64,
) -> Result<Tensor<1>> {
    check_sigma(sigma)?;
    let x_tilde = x + z.clone() * sigma;
    // (x̃ - x)/σ² = z/σ.
    Ok(half_sq_norm(net.score(x_tilde, c) + z / sigma).mean())
}

pub(crate) fn check_sigma(sigma: f64) -> Result<()> {
    if sigma > 0.0 && sigma.is_finite() {
        Ok(())
    } else {
        Err(Error::invalid(format!(
            "the noise level σ must be positive and finite, got {sigma}"
        )))
    }
}
