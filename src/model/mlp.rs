//! A small residual MLP for low-dimensional data, conditioned on the timestep.
//!
//! `h₀ = SiLU(W_x x + W_τ SiLU(W_e emb(t)))`, `h_{k+1} = h_k + SiLU(W_k h_k)`, `out = W_o h_L`.

use burn::module::Param;
use burn::nn::{Linear, LinearConfig};
use burn::prelude::*;
use burn::tensor::activation::silu;

use super::embed::sinusoidal_embedding;
use crate::error::{Error, Result};
use crate::io::weights::{transpose_host, NamedTensor};

#[derive(Config, Debug, PartialEq)]
pub struct MlpConfig {
    /// Data dimension (2 for the toy sets).
    #[config(default = 2)]
    pub dim: usize,
    /// Width of the hidden layers.
    #[config(default = 128)]
    pub hidden: usize,
    /// Number of residual hidden blocks.
    #[config(default = 3)]
    pub depth: usize,
    /// Width of the sinusoidal time embedding.
    #[config(default = 64)]
    pub time_dim: usize,
    /// Longest period of the time embedding, in timesteps.
    #[config(default = 10000.0)]
    pub max_period: f64,
}

impl MlpConfig {
    pub fn validate(&self) -> Result<()> {
        if self.dim == 0 || self.hidden == 0 || self.time_dim < 2 || self.time_dim % 2 != 0 {
            return Err(Error::invalid(format!(
                "invalid MLP shape: dim {} hidden {} time_dim {} (time_dim must be even and ≥ 2)",
                self.dim, self.hidden, self.time_dim
            )));
        }
        Ok(())
    }

    pub fn init(&self, device: &Device) -> Mlp {
        let lin = |i, o| LinearConfig::new(i, o).init(device);
        Mlp {
            input: lin(self.dim, self.hidden),
            time_embed: lin(self.time_dim, self.hidden),
            time_proj: lin(self.hidden, self.hidden),
            blocks: (0..self.depth)
                .map(|_| lin(self.hidden, self.hidden))
                .collect(),
            output: lin(self.hidden, self.dim),
            time_dim: self.time_dim,
            max_period: self.max_period,
        }
    }
}

#[derive(Module, Debug)]
pub struct Mlp {
    pub input: Linear,
    pub time_embed: Linear,
    pub time_proj: Linear,
    pub blocks: Vec<Linear>,
    pub output: Linear,
    pub time_dim: usize,
    pub max_period: f64,
}

impl Mlp {
    /// The network output for points `x` `[n, dim]` at float timesteps `t` `[n]`.
    pub fn forward(&self, x: Tensor<2>, t: Tensor<1>) -> Tensor<2> {
        let emb = sinusoidal_embedding(t, self.time_dim, self.max_period);
        let temb = self.time_proj.forward(silu(self.time_embed.forward(emb)));
        let mut h = silu(self.input.forward(x) + temb);
        for block in &self.blocks {
            h = h.clone() + silu(block.forward(h));
        }
        self.output.forward(h)
    }

    /// Parameters under PyTorch names and layout (`nn.Linear.weight` is `[out, in]`).
    pub fn named_tensors(&self) -> Vec<NamedTensor> {
        let mut out = Vec::new();
        let mut push = |name: String, l: &Linear| {
            let w = l.weight.val().transpose();
            let shape = w.dims().to_vec();
            out.push(NamedTensor {
                name: format!("{name}.weight"),
                shape,
                values: w.flatten(0, 1),
            });
            if let Some(b) = &l.bias {
                let b = b.val();
                out.push(NamedTensor {
                    name: format!("{name}.bias"),
                    shape: b.dims().to_vec(),
                    values: b,
                });
            }
        };
        push("input".into(), &self.input);
        push("time_embed".into(), &self.time_embed);
        push("time_proj".into(), &self.time_proj);
        for (i, b) in self.blocks.iter().enumerate() {
            push(format!("blocks.{i}"), b);
        }
        push("output".into(), &self.output);
        out
    }

    /// Build from named tensors (PyTorch layout), checking every name and shape against `config`.
    pub fn from_named(
        config: &MlpConfig,
        mut lookup: impl FnMut(&str, &[usize]) -> Result<TensorData>,
        device: &Device,
    ) -> Result<Self> {
        config.validate()?;
        let mut lin = |name: &str, i: usize, o: usize| -> Result<Linear> {
            let w = transpose_host(lookup(&format!("{name}.weight"), &[o, i])?, o, i)?;
            let b = lookup(&format!("{name}.bias"), &[o])?;
            Ok(Linear {
                weight: Param::from_tensor(Tensor::<2>::from_data(w, device)),
                bias: Some(Param::from_tensor(Tensor::<1>::from_data(b, device))),
            })
        };
        let (d, h) = (config.dim, config.hidden);
        Ok(Mlp {
            input: lin("input", d, h)?,
            time_embed: lin("time_embed", config.time_dim, h)?,
            time_proj: lin("time_proj", h, h)?,
            blocks: (0..config.depth)
                .map(|i| lin(&format!("blocks.{i}"), h, h))
                .collect::<Result<_>>()?,
            output: lin("output", h, d)?,
            time_dim: config.time_dim,
            max_period: config.max_period,
        })
    }
}
