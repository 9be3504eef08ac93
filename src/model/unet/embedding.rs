//! Time conditioning: diffusers' `Timesteps` (`get_timestep_embedding`) and `TimestepEmbedding`.

use burn::nn::{Linear, LinearConfig};
use burn::prelude::*;
use burn::tensor::activation::silu;

use super::params::{join, Layer, Named, Visitor};
use crate::error::Result;

/// `get_timestep_embedding(t, dim, flip_sin_to_cos, downscale_freq_shift, max_period=10000)`:
/// `ω_i = exp(-ln(10000)·i/(h - shift))`, `i < h = dim/2`, and `[sin(tω), cos(tω)]`, or
/// `[cos(tω), sin(tω)]` when flipped; an odd `dim` gets one zero column. The frequencies are
/// rounded through float32 in the same order as PyTorch, so `t·ω` agrees to the last bit.
pub fn timestep_embedding(
    t: Tensor<1>,
    dim: usize,
    flip_sin_to_cos: bool,
    shift: f64,
) -> Tensor<2> {
    let half = dim / 2;
    let device = t.device();
    let n = t.dims()[0];
    let log_p = -(10000f64.ln()) as f32;
    let denom = (half as f64 - shift) as f32;
    let freqs: Vec<f32> = (0..half)
        .map(|i| ((log_p * i as f32) / denom).exp())
        .collect();
    let freqs =
        Tensor::<1>::from_data(TensorData::new(freqs, [half]), &device).unsqueeze_dim::<2>(0);
    let args = t.unsqueeze_dim::<2>(1) * freqs;
    let (sin, cos) = (args.clone().sin(), args.cos());
    let mut parts = if flip_sin_to_cos {
        vec![cos, sin]
    } else {
        vec![sin, cos]
    };
    if dim % 2 == 1 {
        parts.push(Tensor::zeros([n, 1], &device));
    }
    Tensor::cat(parts, 1)
}

/// [`timestep_embedding`] on the host for timesteps known there (sampling), `[n, dim]` row-major:
/// `t·ω` in float32 as PyTorch forms it, then sin and cos evaluated in float64 and rounded, so the
/// embedding is PyTorch's to the last bit or so on every device. (WGSL's `sin` is only specified to
/// 2⁻¹¹ absolute on [-π, π]; at `t·ω` near 1000 a GPU's range reduction alone can be off by 1e-5.)
pub fn timestep_embedding_host(
    t: &[f32],
    dim: usize,
    flip_sin_to_cos: bool,
    shift: f64,
) -> Vec<f32> {
    let half = dim / 2;
    let log_p = -(10000f64.ln()) as f32;
    let denom = (half as f64 - shift) as f32;
    let freqs: Vec<f32> = (0..half)
        .map(|i| ((log_p * i as f32) / denom).exp())
        .collect();
    let mut out = Vec::with_capacity(t.len() * dim);
    for &t in t {
        let args = freqs.iter().map(|&f| (t * f) as f64);
        let (sin, cos): (Vec<f32>, Vec<f32>) =
            args.map(|a| (a.sin() as f32, a.cos() as f32)).unzip();
        let (first, second) = if flip_sin_to_cos {
            (cos, sin)
        } else {
            (sin, cos)
        };
        out.extend(first);
        out.extend(second);
        if dim % 2 == 1 {
            out.push(0.0);
        }
    }
    out
}

/// `TimestepEmbedding`: `linear_2(SiLU(linear_1(e)))`.
#[derive(Module, Debug)]
pub struct TimestepEmbedding {
    pub linear_1: Linear,
    pub linear_2: Linear,
}

impl TimestepEmbedding {
    pub fn new(in_dim: usize, dim: usize, device: &Device) -> Self {
        Self {
            linear_1: LinearConfig::new(in_dim, dim).init(device),
            linear_2: LinearConfig::new(dim, dim).init(device),
        }
    }

    pub fn forward(&self, e: Tensor<2>) -> Tensor<2> {
        self.linear_2.forward(silu(self.linear_1.forward(e)))
    }
}

impl Named for TimestepEmbedding {
    fn visit_named(&mut self, prefix: &str, f: &mut Visitor<'_>) -> Result<()> {
        f(&join(prefix, "linear_1"), Layer::Linear(&mut self.linear_1))?;
        f(&join(prefix, "linear_2"), Layer::Linear(&mut self.linear_2))
    }
}
