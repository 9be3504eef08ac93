//! diffusers' `ResnetBlock2D` with `time_embedding_norm="default"`, `pre_norm=True`:
//! `h = conv1(SiLU(norm1(x))) + time_emb_proj(SiLU(temb))[:, :, None, None]`,
//! `h = conv2(SiLU(norm2(h)))`, `out = (shortcut(x) + h) / output_scale_factor`,
//! with a 1×1 `conv_shortcut` when the channel count changes. Dropout is the identity at inference.

use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{GroupNorm, GroupNormConfig, Linear, LinearConfig, PaddingConfig2d};
use burn::prelude::*;
use burn::tensor::activation::silu;

use super::params::{join, Layer, Named, Visitor};
use crate::error::Result;

/// A 3×3 convolution with padding 1 and `stride`.
pub fn conv3x3(cin: usize, cout: usize, stride: usize, device: &Device) -> Conv2d {
    Conv2dConfig::new([cin, cout], [3, 3])
        .with_stride([stride, stride])
        .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
        .init(device)
}

pub fn group_norm(groups: usize, channels: usize, eps: f64, device: &Device) -> GroupNorm {
    GroupNormConfig::new(groups, channels)
        .with_epsilon(eps)
        .init(device)
}

/// The shape of one resnet: channels in and out, and what it shares with its block.
#[derive(Debug, Clone, Copy)]
pub struct ResnetSpec {
    pub in_channels: usize,
    pub out_channels: usize,
    pub temb_channels: usize,
    pub groups: usize,
    pub eps: f64,
    pub output_scale_factor: f64,
}

#[derive(Module, Debug)]
pub struct ResnetBlock2D {
    pub norm1: GroupNorm,
    pub conv1: Conv2d,
    pub time_emb_proj: Linear,
    pub norm2: GroupNorm,
    pub conv2: Conv2d,
    pub conv_shortcut: Option<Conv2d>,
    pub output_scale_factor: f64,
}

impl ResnetBlock2D {
    pub fn new(s: ResnetSpec, device: &Device) -> Self {
        let (cin, cout) = (s.in_channels, s.out_channels);
        Self {
            norm1: group_norm(s.groups, cin, s.eps, device),
            conv1: conv3x3(cin, cout, 1, device),
            time_emb_proj: LinearConfig::new(s.temb_channels, cout).init(device),
            norm2: group_norm(s.groups, cout, s.eps, device),
            conv2: conv3x3(cout, cout, 1, device),
            conv_shortcut: (cin != cout)
                .then(|| Conv2dConfig::new([cin, cout], [1, 1]).init(device)),
            output_scale_factor: s.output_scale_factor,
        }
    }

    /// `x` `[b, c_in, h, w]`, `temb` `[b, temb_channels]` → `[b, c_out, h, w]`.
    pub fn forward(&self, x: Tensor<4>, temb: Tensor<2>) -> Tensor<4> {
        let h = self.conv1.forward(silu(self.norm1.forward(x.clone())));
        let t = self.time_emb_proj.forward(silu(temb));
        let [b, c] = t.dims();
        let h = h + t.reshape([b, c, 1, 1]);
        let h = self.conv2.forward(silu(self.norm2.forward(h)));
        let skip = match &self.conv_shortcut {
            Some(conv) => conv.forward(x),
            None => x,
        };
        let out = skip + h;
        if self.output_scale_factor == 1.0 {
            out
        } else {
            out / self.output_scale_factor
        }
    }
}

impl Named for ResnetBlock2D {
    fn visit_named(&mut self, prefix: &str, f: &mut Visitor<'_>) -> Result<()> {
        f(&join(prefix, "norm1"), Layer::Norm(&mut self.norm1))?;
        f(&join(prefix, "conv1"), Layer::Conv(&mut self.conv1))?;
        f(
            &join(prefix, "time_emb_proj"),
            Layer::Linear(&mut self.time_emb_proj),
        )?;
        f(&join(prefix, "norm2"), Layer::Norm(&mut self.norm2))?;
        f(&join(prefix, "conv2"), Layer::Conv(&mut self.conv2))?;
        if let Some(c) = &mut self.conv_shortcut {
            f(&join(prefix, "conv_shortcut"), Layer::Conv(c))?;
        }
        Ok(())
    }
}
