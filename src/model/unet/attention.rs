//! diffusers' `Attention` as built by the UNet blocks (`_from_deprecated_attn_block=True`,
//! `residual_connection=True`, processor `AttnProcessor2_0`): on `x` `[b, c, h, w]` seen as
//! `hw` tokens of width `c`, `y = to_out.0(softmax(QKᵀ/√d) V)` per head with
//! `Q, K, V = to_q, to_k, to_v(group_norm(x))`, then `out = (y + x) / rescale_output_factor`.

use burn::nn::{GroupNorm, Linear, LinearConfig};
use burn::prelude::*;
use burn::tensor::activation::softmax;

use super::params::{join, Layer, Named, Visitor};
use super::resnet::group_norm;
use crate::error::Result;

#[derive(Module, Debug)]
pub struct Attention {
    pub group_norm: GroupNorm,
    pub to_q: Linear,
    pub to_k: Linear,
    pub to_v: Linear,
    pub to_out: Linear,
    pub heads: usize,
    pub rescale_output_factor: f64,
}

impl Attention {
    /// `heads = channels / head_dim` (as the blocks build it).
    pub fn new(
        channels: usize,
        head_dim: usize,
        groups: usize,
        eps: f64,
        rescale_output_factor: f64,
        device: &Device,
    ) -> Self {
        let lin = || LinearConfig::new(channels, channels).init(device);
        Self {
            group_norm: group_norm(groups, channels, eps, device),
            to_q: lin(),
            to_k: lin(),
            to_v: lin(),
            to_out: lin(),
            heads: (channels / head_dim).max(1),
            rescale_output_factor,
        }
    }

    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let [b, c, h, w] = x.dims();
        let (n, heads) = (h * w, self.heads);
        let d = c / heads;
        // [b, c, h, w] → [b, hw, c] tokens.
        let tokens = self
            .group_norm
            .forward(x.clone())
            .reshape([b, c, n])
            .swap_dims(1, 2);
        // [b, hw, c] → [b, heads, hw, d].
        let split = |t: Tensor<3>| t.reshape([b, n, heads, d]).swap_dims(1, 2);
        let q = split(self.to_q.forward(tokens.clone()));
        let k = split(self.to_k.forward(tokens.clone()));
        let v = split(self.to_v.forward(tokens));
        let scores = q.matmul(k.swap_dims(2, 3)) * (1.0 / (d as f64).sqrt());
        let y = softmax(scores, 3).matmul(v);
        let y = y.swap_dims(1, 2).reshape([b, n, c]);
        let y = self.to_out.forward(y).swap_dims(1, 2).reshape([b, c, h, w]);
        let out = y + x;
        if self.rescale_output_factor == 1.0 {
            out
        } else {
            out / self.rescale_output_factor
        }
    }
}

impl Named for Attention {
    fn visit_named(&mut self, prefix: &str, f: &mut Visitor<'_>) -> Result<()> {
        f(
            &join(prefix, "group_norm"),
            Layer::Norm(&mut self.group_norm),
        )?;
        f(&join(prefix, "to_q"), Layer::Linear(&mut self.to_q))?;
        f(&join(prefix, "to_k"), Layer::Linear(&mut self.to_k))?;
        f(&join(prefix, "to_v"), Layer::Linear(&mut self.to_v))?;
        f(&join(prefix, "to_out.0"), Layer::Linear(&mut self.to_out))
    }
}
