//! The UNet's levels: diffusers' `DownBlock2D`/`AttnDownBlock2D`, `UpBlock2D`/`AttnUpBlock2D` and
//! `UNetMidBlock2D`. A plain block is the attention block with no attention layers.

use burn::prelude::*;

use super::attention::Attention;
use super::params::{join, Named, Visitor};
use super::resnet::{ResnetBlock2D, ResnetSpec};
use super::sampling::{Downsample2D, Upsample2D};
use crate::error::Result;

/// Attention layout of a block: `None` for the plain block types.
#[derive(Debug, Clone, Copy)]
pub struct AttnSpec {
    pub head_dim: usize,
    pub groups: usize,
}

/// `DownBlock2D` / `AttnDownBlock2D`: `num_layers` resnets (`in → out`, then `out → out`), each
/// followed by its attention, then `downsamplers.0` unless this is the last level. Every
/// intermediate output is kept for the skip connections.
#[derive(Module, Debug)]
pub struct DownBlock {
    pub resnets: Vec<ResnetBlock2D>,
    pub attentions: Vec<Attention>,
    pub downsampler: Option<Downsample2D>,
}

impl DownBlock {
    pub fn new(
        spec: ResnetSpec,
        num_layers: usize,
        attn: Option<AttnSpec>,
        downsample_padding: Option<usize>,
        device: &Device,
    ) -> Self {
        let resnets = (0..num_layers)
            .map(|i| {
                let in_channels = if i == 0 {
                    spec.in_channels
                } else {
                    spec.out_channels
                };
                ResnetBlock2D::new(
                    ResnetSpec {
                        in_channels,
                        ..spec
                    },
                    device,
                )
            })
            .collect();
        let attentions = attn.map_or_else(Vec::new, |a| {
            (0..num_layers)
                .map(|_| {
                    Attention::new(
                        spec.out_channels,
                        a.head_dim,
                        a.groups,
                        spec.eps,
                        spec.output_scale_factor,
                        device,
                    )
                })
                .collect()
        });
        Self {
            resnets,
            attentions,
            downsampler: downsample_padding
                .map(|p| Downsample2D::new(spec.out_channels, p, device)),
        }
    }

    /// The block's output and the states it adds to the skip stack.
    pub fn forward(
        &self,
        mut x: Tensor<4>,
        temb: &Tensor<2>,
        skips: &mut Vec<Tensor<4>>,
    ) -> Tensor<4> {
        for (i, resnet) in self.resnets.iter().enumerate() {
            x = resnet.forward(x, temb.clone());
            if let Some(attn) = self.attentions.get(i) {
                x = attn.forward(x);
            }
            skips.push(x.clone());
        }
        if let Some(down) = &self.downsampler {
            x = down.forward(x);
            skips.push(x.clone());
        }
        x
    }
}

/// `UpBlock2D` / `AttnUpBlock2D`: `num_layers` resnets, each fed `cat([x, skip], dim=1)` with
/// the most recent skip state; resnet `i` takes `prev_output_channel` (i = 0) or `out` channels
/// plus `in` (last) or `out` skip channels. Then attention, then `upsamplers.0`.
#[derive(Module, Debug)]
pub struct UpBlock {
    pub resnets: Vec<ResnetBlock2D>,
    pub attentions: Vec<Attention>,
    pub upsampler: Option<Upsample2D>,
}

impl UpBlock {
    /// `spec.in_channels` is diffusers' `in_channels` (the skip width of the last resnet).
    pub fn new(
        spec: ResnetSpec,
        prev_output_channel: usize,
        num_layers: usize,
        attn: Option<AttnSpec>,
        add_upsample: bool,
        device: &Device,
    ) -> Self {
        let out = spec.out_channels;
        let resnets = (0..num_layers)
            .map(|i| {
                let skip = if i == num_layers - 1 {
                    spec.in_channels
                } else {
                    out
                };
                let input = if i == 0 { prev_output_channel } else { out };
                ResnetBlock2D::new(
                    ResnetSpec {
                        in_channels: input + skip,
                        ..spec
                    },
                    device,
                )
            })
            .collect();
        let attentions = attn.map_or_else(Vec::new, |a| {
            (0..num_layers)
                .map(|_| {
                    Attention::new(
                        out,
                        a.head_dim,
                        a.groups,
                        spec.eps,
                        spec.output_scale_factor,
                        device,
                    )
                })
                .collect()
        });
        Self {
            resnets,
            attentions,
            upsampler: add_upsample.then(|| Upsample2D::new(out, device)),
        }
    }

    /// Pops one skip state per resnet off `skips`.
    pub fn forward(
        &self,
        mut x: Tensor<4>,
        temb: &Tensor<2>,
        skips: &mut Vec<Tensor<4>>,
    ) -> Tensor<4> {
        for (i, resnet) in self.resnets.iter().enumerate() {
            let skip = skips
                .pop()
                .expect("the UNet pushes one skip state per up-block resnet");
            x = resnet.forward(Tensor::cat(vec![x, skip], 1), temb.clone());
            if let Some(attn) = self.attentions.get(i) {
                x = attn.forward(x);
            }
        }
        match &self.upsampler {
            Some(up) => up.forward(x),
            None => x,
        }
    }
}

/// `UNetMidBlock2D` with one layer: resnet, attention (when `add_attention`), resnet, all at the
/// deepest width with `output_scale_factor = mid_block_scale_factor`.
#[derive(Module, Debug)]
pub struct MidBlock {
    pub resnets: Vec<ResnetBlock2D>,
    pub attentions: Vec<Attention>,
}

impl MidBlock {
    pub fn new(spec: ResnetSpec, attn: Option<AttnSpec>, device: &Device) -> Self {
        let c = spec.in_channels;
        Self {
            resnets: (0..2).map(|_| ResnetBlock2D::new(spec, device)).collect(),
            attentions: attn
                .map(|a| {
                    Attention::new(
                        c,
                        a.head_dim,
                        a.groups,
                        spec.eps,
                        spec.output_scale_factor,
                        device,
                    )
                })
                .into_iter()
                .collect(),
        }
    }

    pub fn forward(&self, x: Tensor<4>, temb: &Tensor<2>) -> Tensor<4> {
        let mut x = self.resnets[0].forward(x, temb.clone());
        if let Some(attn) = self.attentions.first() {
            x = attn.forward(x);
        }
        self.resnets[1].forward(x, temb.clone())
    }
}

fn visit_common(
    prefix: &str,
    resnets: &mut [ResnetBlock2D],
    attentions: &mut [Attention],
    f: &mut Visitor<'_>,
) -> Result<()> {
    for (i, r) in resnets.iter_mut().enumerate() {
        r.visit_named(&join(prefix, &format!("resnets.{i}")), f)?;
    }
    for (i, a) in attentions.iter_mut().enumerate() {
        a.visit_named(&join(prefix, &format!("attentions.{i}")), f)?;
    }
    Ok(())
}

impl Named for DownBlock {
    fn visit_named(&mut self, prefix: &str, f: &mut Visitor<'_>) -> Result<()> {
        visit_common(prefix, &mut self.resnets, &mut self.attentions, f)?;
        if let Some(d) = &mut self.downsampler {
            d.visit_named(&join(prefix, "downsamplers.0"), f)?;
        }
        Ok(())
    }
}

impl Named for UpBlock {
    fn visit_named(&mut self, prefix: &str, f: &mut Visitor<'_>) -> Result<()> {
        visit_common(prefix, &mut self.resnets, &mut self.attentions, f)?;
        if let Some(u) = &mut self.upsampler {
            u.visit_named(&join(prefix, "upsamplers.0"), f)?;
        }
        Ok(())
    }
}

impl Named for MidBlock {
    fn visit_named(&mut self, prefix: &str, f: &mut Visitor<'_>) -> Result<()> {
        visit_common(prefix, &mut self.resnets, &mut self.attentions, f)
    }
}
