//! Explicit score matching (Hyvärinen 2005, eq. 2):
//! `J_ESM(θ) = E_p ½ ‖s_θ(x) - ∇ₓ log p(x)‖²`. Only usable where `∇ₓ log p` is known: the
//! analytic toy densities ([`GaussianMixture`]).

use burn::prelude::*;

use super::net::{half_sq_norm, ScoreNet};
use crate::data::GaussianMixture;
use crate::error::{Error, Result};

/// The per-point term `½ ‖s_θ(x) − ∇log p(x)‖²` `[n]` (eq. 2), which [`super::levels`] weights.
pub fn esm_terms(net: &impl ScoreNet, x: Tensor<2>, c: Tensor<1>, target: Tensor<2>) -> Tensor<1> {
    half_sq_norm(net.score(x, c) - target)
}

/// `∇ₓ log p(x)` of a mixture at row-major points `x` `[n, dim]`, as a device tensor.
pub fn mixture_score(mix: &GaussianMixture, x: &[f32], device: &Device) -> Result<Tensor<2>> {
    let d = mix.dim();
    if x.len() % d != 0 {
        return Err(Error::invalid(format!(
            "{} values are not a whole number of {d}-dimensional points",
            x.len()
        )));
    }
    let n = x.len() / d;
    let mut out = Vec::with_capacity(x.len());
    let mut p = vec![0.0f64; d];
    for row in x.chunks_exact(d) {
        p.iter_mut().zip(row).for_each(|(a, &b)| *a = b as f64);
        let (_, g) = mix.log_prob_and_score(&p);
        out.extend(g.iter().map(|&v| v as f32));
    }
    Ok(Tensor::from_data(TensorData::new(out, [n, d]), device))
}
