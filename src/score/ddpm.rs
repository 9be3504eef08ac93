//! DDPM's simplified objective (Ho et al. 2020, eq. 14):
//! `L_simple = E_{t, x_0, ε} ‖ε - ε_θ(√ᾱ_t x_0 + √(1-ᾱ_t) ε, t)‖²`, averaged over coordinates,
//! for any [`Network`] (the MLP on points, the UNet on images).

use burn::prelude::*;

use crate::model::Network;
use crate::process::VpProcess;

/// The mean squared ε error for a batch `x0` `[n, d]` at steps `t` (one per row) with noise `eps`.
pub fn l_simple(
    model: &dyn Network,
    process: &VpProcess,
    x0: Tensor<2>,
    t: &[usize],
    eps: Tensor<2>,
) -> Tensor<1> {
    let device = x0.device();
    let xt = process.q_sample(x0, t, eps.clone());
    let tf: Vec<f32> = t.iter().map(|&t| t as f32).collect();
    let tt = Tensor::<1>::from_data(TensorData::new(tf, [t.len()]), &device);
    eps_loss(model.predict(xt, tt), eps)
}

/// `‖ε̂ - ε‖²` averaged over rows and coordinates: L_simple's summand.
pub fn eps_loss(pred: Tensor<2>, eps: Tensor<2>) -> Tensor<1> {
    (pred - eps).square().mean()
}
