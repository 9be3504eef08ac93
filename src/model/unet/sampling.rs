//! diffusers' `Downsample2D` (`use_conv=True`: a 3×3 convolution with stride 2; with
//! `padding=0` the input is first padded by one zero row and column at the bottom and right) and
//! `Upsample2D` (`use_conv=True`: nearest-neighbour ×2, then a 3×3 convolution).

use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::PaddingConfig2d;
use burn::prelude::*;

use super::params::{join, Layer, Named, Visitor};
use super::resnet::conv3x3;
use crate::error::Result;

#[derive(Module, Debug)]
pub struct Downsample2D {
    pub conv: Conv2d,
}

impl Downsample2D {
    pub fn new(channels: usize, padding: usize, device: &Device) -> Self {
        let pad = if padding == 0 {
            // F.pad(x, (0, 1, 0, 1)) then a convolution without padding.
            PaddingConfig2d::Explicit(0, 0, 1, 1)
        } else {
            PaddingConfig2d::Explicit(padding, padding, padding, padding)
        };
        Self {
            conv: Conv2dConfig::new([channels, channels], [3, 3])
                .with_stride([2, 2])
                .with_padding(pad)
                .init(device),
        }
    }

    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        self.conv.forward(x)
    }
}

#[derive(Module, Debug)]
pub struct Upsample2D {
    pub conv: Conv2d,
}

/// `F.interpolate(x, scale_factor=2.0, mode="nearest")`: each pixel becomes a 2×2 block.
pub fn upsample_nearest2(x: Tensor<4>) -> Tensor<4> {
    let [b, c, h, w] = x.dims();
    x.reshape([b, c, h, 1, w, 1])
        .repeat_dim(3, 2)
        .repeat_dim(5, 2)
        .reshape([b, c, 2 * h, 2 * w])
}

impl Upsample2D {
    pub fn new(channels: usize, device: &Device) -> Self {
        Self {
            conv: conv3x3(channels, channels, 1, device),
        }
    }

    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        self.conv.forward(upsample_nearest2(x))
    }
}

impl Named for Downsample2D {
    fn visit_named(&mut self, prefix: &str, f: &mut Visitor<'_>) -> Result<()> {
        f(&join(prefix, "conv"), Layer::Conv(&mut self.conv))
    }
}

impl Named for Upsample2D {
    fn visit_named(&mut self, prefix: &str, f: &mut Visitor<'_>) -> Result<()> {
        f(&join(prefix, "conv"), Layer::Conv(&mut self.conv))
    }
}
