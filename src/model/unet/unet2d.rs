//! diffusers' `UNet2DModel.forward` (positional time embedding):
//! `emb = time_embedding(Timesteps(t))`, plus `class_embedding(class_labels)` for a
//! class-conditional network (`num_class_embeds`), `conv_in`, down blocks (pushing skip states),
//! mid block, up blocks (popping them), `conv_out(SiLU(conv_norm_out(h)))`.

use burn::nn::conv::Conv2d;
use burn::nn::{Embedding, EmbeddingConfig, GroupNorm};
use burn::prelude::*;
use burn::tensor::activation::silu;

use super::blocks::{AttnSpec, DownBlock, MidBlock, UpBlock};
use super::config::{DownBlockType, UNet2DConfig, UpBlockType};
use super::embedding::{timestep_embedding, timestep_embedding_host, TimestepEmbedding};
use super::params::{join, Layer, Named, Visitor};
use super::resnet::{conv3x3, group_norm, ResnetSpec};
use crate::error::{Error, Result};

#[derive(Module, Debug)]
pub struct UNet2D {
    pub conv_in: Conv2d,
    pub time_embedding: TimestepEmbedding,
    /// `nn.Embedding(num_class_embeds, time_embed_dim)`, added to the time embedding.
    pub class_embedding: Option<Embedding>,
    pub down_blocks: Vec<DownBlock>,
    pub mid_block: Option<MidBlock>,
    pub up_blocks: Vec<UpBlock>,
    pub conv_norm_out: GroupNorm,
    pub conv_out: Conv2d,
    /// The `config.json` this network was built from (saved beside its weights).
    #[module(skip)]
    pub config: UNet2DConfig,
}

impl UNet2D {
    /// A randomly initialised network of `config`'s shape (burn's default initialisers).
    pub fn new(config: &UNet2DConfig, device: &Device) -> Result<Self> {
        config.validate()?;
        let ch = &config.block_out_channels;
        let n = ch.len();
        let temb = config.time_embed_dim();
        let groups = config.norm_num_groups;
        let spec = |cin: usize, cout: usize, scale: f64| ResnetSpec {
            in_channels: cin,
            out_channels: cout,
            temb_channels: temb,
            groups,
            eps: config.norm_eps,
            output_scale_factor: scale,
        };
        let attn = |c: usize| AttnSpec {
            head_dim: config.head_dim(c),
            groups,
        };
        let mut down_blocks = Vec::with_capacity(n);
        let mut output = ch[0];
        for (i, t) in config.down_types()?.into_iter().enumerate() {
            let input = output;
            output = ch[i];
            let last = i == n - 1;
            down_blocks.push(DownBlock::new(
                spec(input, output, 1.0),
                config.layers_per_block,
                (t == DownBlockType::Attn).then(|| attn(output)),
                (!last).then_some(config.downsample_padding),
                device,
            ));
        }
        let deepest = ch[n - 1];
        let mid_block = config.mid_block_type.as_ref().map(|_| {
            let attn = config.add_attention.then(|| AttnSpec {
                head_dim: config.head_dim(deepest),
                groups: config.attn_norm_num_groups.unwrap_or(groups),
            });
            MidBlock::new(
                spec(deepest, deepest, config.mid_block_scale_factor),
                attn,
                device,
            )
        });
        let rev: Vec<usize> = ch.iter().rev().copied().collect();
        let mut up_blocks = Vec::with_capacity(n);
        let mut output = rev[0];
        for (i, t) in config.up_types()?.into_iter().enumerate() {
            let prev = output;
            output = rev[i];
            let input = rev[(i + 1).min(n - 1)];
            up_blocks.push(UpBlock::new(
                spec(input, output, 1.0),
                prev,
                config.layers_per_block + 1,
                (t == UpBlockType::Attn).then(|| attn(output)),
                i != n - 1,
                device,
            ));
        }
        Ok(Self {
            conv_in: conv3x3(config.in_channels, ch[0], 1, device),
            time_embedding: TimestepEmbedding::new(ch[0], temb, device),
            class_embedding: config
                .num_class_embeds
                .map(|n| EmbeddingConfig::new(n, temb).init(device)),
            down_blocks,
            mid_block,
            up_blocks,
            conv_norm_out: group_norm(groups, ch[0], config.norm_eps, device),
            conv_out: conv3x3(ch[0], config.out_channels, 1, device),
            config: config.clone(),
        })
    }

    fn check(&self, x: &Tensor<4>, t: &Tensor<1>) -> Result<()> {
        let [b, c, h, w] = x.dims();
        let [bt] = t.dims();
        let factor = 1usize
            << self
                .down_blocks
                .iter()
                .filter(|d| d.downsampler.is_some())
                .count();
        if b == 0
            || c != self.config.in_channels
            || h == 0
            || w == 0
            || h % factor != 0
            || w % factor != 0
        {
            return Err(Error::invalid(format!(
                "the UNet takes [N, {}, H, W] with N ≥ 1 and H, W multiples of {factor}; got {:?}",
                self.config.in_channels,
                [b, c, h, w]
            )));
        }
        if bt != b {
            return Err(Error::invalid(format!(
                "{bt} timesteps for a batch of {b} images; give one per image"
            )));
        }
        Ok(())
    }

    /// [`UNet2D::try_forward`] at timesteps known on the host (sampling): their sinusoidal
    /// embedding is computed there ([`timestep_embedding_host`]), the same on every device.
    pub fn try_forward_at(&self, x: Tensor<4>, t: &[f32]) -> Result<Tensor<4>> {
        self.try_forward_labelled(x, t, None)
    }

    /// The number of class labels a class-conditional network takes (`num_class_embeds`).
    pub fn num_classes(&self) -> Option<usize> {
        self.config.num_class_embeds
    }

    /// [`UNet2D::try_forward_at`] with one class label per image, which a class-conditional
    /// network needs and any other refuses.
    pub fn try_forward_labelled(
        &self,
        x: Tensor<4>,
        t: &[f32],
        labels: Option<&[usize]>,
    ) -> Result<Tensor<4>> {
        let device = x.device();
        let c = &self.config;
        let dim = c.block_out_channels[0];
        let e = timestep_embedding_host(t, dim, c.flip_sin_to_cos, c.freq_shift);
        let e = Tensor::<2>::from_data(TensorData::new(e, [t.len(), dim]), &device);
        let tt = Tensor::<1>::from_data(TensorData::new(t.to_vec(), [t.len()]), &device);
        // The shape checks of try_forward, on the same tensors.
        self.check(&x, &tt)?;
        let class = match (&self.class_embedding, labels, self.num_classes()) {
            (None, None, _) => None,
            (None, Some(_), _) => {
                return Err(Error::invalid(
                    "this UNet is not class-conditional (no num_class_embeds); drop the labels",
                ))
            }
            (Some(_), None, n) => {
                return Err(Error::invalid(format!(
                    "this UNet is class-conditional ({} labels, num_class_embeds); give a label per image",
                    n.unwrap_or(0)
                )))
            }
            (Some(emb), Some(l), n) => {
                let n = n.unwrap_or(0);
                if l.len() != t.len() {
                    return Err(Error::invalid(format!(
                        "{} class labels for a batch of {}; give one per image",
                        l.len(),
                        t.len()
                    )));
                }
                if let Some(bad) = l.iter().find(|&&k| k >= n) {
                    return Err(Error::invalid(format!(
                        "class label {bad} is out of range: the network knows 0..{}",
                        n.saturating_sub(1)
                    )));
                }
                let idx: Vec<i64> = l.iter().map(|&k| k as i64).collect();
                let idx = Tensor::<1, Int>::from_data(TensorData::new(idx, [l.len()]), &device);
                Some(emb.weight.val().select(0, idx))
            }
        };
        Ok(self.forward_conditioned(x, e, class))
    }

    /// Checks `x` `[b, c, h, w]` and `t` `[b]` against the network, then runs it.
    pub fn try_forward(&self, x: Tensor<4>, t: Tensor<1>) -> Result<Tensor<4>> {
        self.check(&x, &t)?;
        Ok(self.forward(x, t))
    }

    /// The network output (`UNet2DOutput.sample`) for images `x` `[b, c, h, w]` at float
    /// timesteps `t` `[b]`. Shapes must be valid (see [`UNet2D::try_forward`]).
    pub fn forward(&self, x: Tensor<4>, t: Tensor<1>) -> Tensor<4> {
        let c = &self.config;
        let e = timestep_embedding(t, c.block_out_channels[0], c.flip_sin_to_cos, c.freq_shift);
        self.forward_embedded(x, e)
    }

    /// The network given the sinusoidal embedding `e` `[b, block_out_channels[0]]` of its
    /// timesteps.
    pub fn forward_embedded(&self, x: Tensor<4>, e: Tensor<2>) -> Tensor<4> {
        self.forward_conditioned(x, e, None)
    }

    /// [`UNet2D::forward_embedded`] with the class embeddings `class` `[b, time_embed_dim]`
    /// added to the time embedding.
    fn forward_conditioned(
        &self,
        x: Tensor<4>,
        e: Tensor<2>,
        class: Option<Tensor<2>>,
    ) -> Tensor<4> {
        let c = &self.config;
        let x = if c.center_input_sample {
            x * 2.0 - 1.0
        } else {
            x
        };
        let temb = self.time_embedding.forward(e);
        let temb = match class {
            Some(class) => temb + class,
            None => temb,
        };
        let mut h = self.conv_in.forward(x);
        let mut skips = vec![h.clone()];
        for block in &self.down_blocks {
            h = block.forward(h, &temb, &mut skips);
        }
        if let Some(mid) = &self.mid_block {
            h = mid.forward(h, &temb);
        }
        for block in &self.up_blocks {
            h = block.forward(h, &temb, &mut skips);
        }
        self.conv_out.forward(silu(self.conv_norm_out.forward(h)))
    }

    /// The number of scalar parameters.
    pub fn num_params(&self) -> usize {
        burn::module::Module::num_params(self)
    }
}

impl Named for UNet2D {
    fn visit_named(&mut self, prefix: &str, f: &mut Visitor<'_>) -> Result<()> {
        f(&join(prefix, "conv_in"), Layer::Conv(&mut self.conv_in))?;
        self.time_embedding
            .visit_named(&join(prefix, "time_embedding"), f)?;
        if let Some(e) = &mut self.class_embedding {
            f(&join(prefix, "class_embedding"), Layer::Embedding(e))?;
        }
        for (i, b) in self.down_blocks.iter_mut().enumerate() {
            b.visit_named(&join(prefix, &format!("down_blocks.{i}")), f)?;
        }
        if let Some(m) = &mut self.mid_block {
            m.visit_named(&join(prefix, "mid_block"), f)?;
        }
        for (i, b) in self.up_blocks.iter_mut().enumerate() {
            b.visit_named(&join(prefix, &format!("up_blocks.{i}")), f)?;
        }
        f(
            &join(prefix, "conv_norm_out"),
            Layer::Norm(&mut self.conv_norm_out),
        )?;
        f(&join(prefix, "conv_out"), Layer::Conv(&mut self.conv_out))
    }
}
