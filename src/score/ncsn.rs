//! Noise-conditional score networks (Song & Ermon 2019, §4): one network `s_θ(x, σ)` trained by
//! denoising score matching at the `L` levels of a [`VeProcess`], with the per-level loss
//! (eq. 5) `ℓ(θ; σ) = ½ E ‖s_θ(x̃, σ) + (x̃ - x)/σ²‖²` and the weighted sum (eq. 6)
//! `L(θ) = (1/L) Σ_i λ(σ_i) ℓ(θ; σ_i)`, `λ(σ) = σ²`, which makes every level's term
//! `½ ‖σ s_θ + z‖²` of order one.
//!
//! Conditioning: the network's float "time" input is the process's level index `t = 0..L-1`
//! (σ grows with `t`), exactly as DDPM feeds its step, so an NCSN-trained network read through
//! [`crate::model::NetworkScore`] with [`crate::model::Parameterization::Score`] drives annealed
//! Langevin on the same process. NCSN conditions on the index too (conditional instance norm,
//! §4.2).

use burn::prelude::*;

use super::net::{half_sq_norm, ScoreNet};
use crate::error::{Error, Result};
use crate::process::{Process, VeProcess};

/// The network's conditioning input for level indices: `t` as a float, `[n]`.
pub fn level_condition(levels: &[usize], device: &Device) -> Tensor<1> {
    let v: Vec<f32> = levels.iter().map(|&i| i as f32).collect();
    Tensor::from_data(TensorData::new(v, [levels.len()]), device)
}

/// The batch mean of `λ(σ_t) ½ ‖s_θ(x + σ_t z, t) + z/σ_t‖² = ½ ‖σ_t s_θ(x + σ_t z, t) + z‖²`
/// over rows, each row at its own level `levels[row]` (eqs. 5–6).
pub fn ncsn_loss(
    net: &impl ScoreNet,
    process: &VeProcess,
    x: Tensor<2>,
    levels: &[usize],
    z: Tensor<2>,
) -> Result<Tensor<1>> {
    let [n, _] = x.dims();
    if levels.len() != n {
        return Err(Error::invalid(format!(
            "{} level indices for {n} points",
            levels.len()
        )));
    }
    if let Some(&bad) = levels.iter().find(|&&i| i >= process.num_steps()) {
        return Err(Error::invalid(format!(
            "level {bad} out of range for {} noise levels",
            process.num_steps()
        )));
    }
    let device = x.device();
    let col: Vec<f32> = levels.iter().map(|&i| process.sigmas()[i] as f32).collect();
    let sigma = Tensor::<2>::from_data(TensorData::new(col, [n, 1]), &device);
    let x_tilde = process.q_sample(x, levels, z.clone());
    Ok(ncsn_terms(net, x_tilde, level_condition(levels, &device), sigma, z).mean())
}

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
