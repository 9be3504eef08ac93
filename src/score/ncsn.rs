//! Noise-conditional score networks (Song & Ermon 2019, §4): one network `s_θ(x, σ)` trained by
//! denoising score matching at the `L` levels of a [`crate::process::VeProcess`], with the per-level loss
//! (eq. 5) `ℓ(θ; σ) = ½ E ‖s_θ(x̃, σ) + (x̃ - x)/σ²‖²` and the weighted sum (eq. 6)
//! `L(θ) = (1/L) Σ_i λ(σ_i) ℓ(θ; σ_i)`, `λ(σ) = σ²`, which makes every level's term
//! `½ ‖σ s_θ + z‖²` of order one. On one level it is Vincent's (2011, eq. 11) DSM at σ, times σ².
//!
//! Conditioning: the network's float "time" input is the process's level index `t = 0..L-1`
//! (σ grows with `t`), exactly as DDPM feeds its step, so an NCSN-trained network read through
//! [`crate::model::NetworkScore`] with [`crate::model::Parameterization::Score`] drives annealed
//! Langevin on the same process. NCSN conditions on the index too (conditional instance norm,
//! §4.2).

use burn::prelude::*;

use super::net::{half_sq_norm, ScoreNet};

/// The per-point term `½ ‖σ s_θ(x̃, c) + z‖²` `[n]` at `x̃ = x + σ z` (eqs. 5–6 with λ = σ²),
/// `sigma` `[n, 1]`: NCSN's, and every level's in [`super::levels`].
pub fn ncsn_terms(
    net: &impl ScoreNet,
    x_tilde: Tensor<2>,
    c: Tensor<1>,
    sigma: Tensor<2>,
    z: Tensor<2>,
) -> Tensor<1> {
    half_sq_norm(net.score(x_tilde, c) * sigma + z)
}
