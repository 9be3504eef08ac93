//! Timestep embeddings.

use burn::prelude::*;

/// Sinusoidal embedding of the timestep (Vaswani et al. 2017, §3.5; DDPM appendix B):
/// `[sin(t ω_0), …, sin(t ω_{h-1}), cos(t ω_0), …, cos(t ω_{h-1})]`, `ω_i = P^{-i/h}`, `h = dim/2`.
///
/// `t` is a float tensor of timesteps `[n]`; the result is `[n, dim]`.
pub fn sinusoidal_embedding(t: Tensor<1>, dim: usize, max_period: f64) -> Tensor<2> {
    let half = dim / 2;
    let device = t.device();
    let freqs: Vec<f32> = (0..half)
        .map(|i| (-(max_period.ln()) * i as f64 / half as f64).exp() as f32)
        .collect();
    let freqs =
        Tensor::<1>::from_data(TensorData::new(freqs, [half]), &device).unsqueeze_dim::<2>(0);
    let args = t.unsqueeze_dim::<2>(1) * freqs;
    Tensor::cat(vec![args.clone().sin(), args.cos()], 1)
}
