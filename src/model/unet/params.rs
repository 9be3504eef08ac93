//! Parameters by diffusers' names: every layer of the UNet hands itself to a visitor under its
//! PyTorch path (`down_blocks.1.resnets.0.conv1`), which loading and saving both walk, so the two
//! cannot disagree on a name.

use burn::module::Param;
use burn::nn::conv::Conv2d;
use burn::nn::{Embedding, GroupNorm, Linear};
use burn::prelude::*;

use crate::error::{Error, Result};
use crate::io::weights::{transpose_host, NamedTensor};

/// One PyTorch layer with `weight` and `bias`.
pub enum Layer<'a> {
    /// `nn.Linear`: PyTorch `[out, in]`, burn `[in, out]`.
    Linear(&'a mut Linear),
    /// `nn.Conv2d`: `[out, in, kh, kw]` in both.
    Conv(&'a mut Conv2d),
    /// `nn.GroupNorm`: `weight` is γ, `bias` is β.
    Norm(&'a mut GroupNorm),
    /// `nn.Embedding`: `weight` `[num_embeddings, dim]` in both.
    Embedding(&'a mut Embedding),
}

/// What the visitor is given for each layer: its dotted path and the layer.
pub type Visitor<'v> = dyn FnMut(&str, Layer<'_>) -> Result<()> + 'v;

/// A module whose layers can be walked under diffusers' names.
pub trait Named {
    fn visit_named(&mut self, prefix: &str, f: &mut Visitor<'_>) -> Result<()>;
}

/// `prefix.name`, or `name` at the root.
pub fn join(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_string()
    } else {
        format!("{prefix}.{name}")
    }
}

fn missing(name: &str) -> Error {
    Error::invalid(format!("layer '{name}' has no bias or affine parameters"))
}

/// The layer's parameters in PyTorch layout.
pub fn export(name: &str, layer: Layer<'_>) -> Result<Vec<NamedTensor>> {
    let one = |suffix: &str, t: Tensor<1>| NamedTensor {
        name: format!("{name}.{suffix}"),
        shape: t.dims().to_vec(),
        values: t,
    };
    Ok(match layer {
        Layer::Linear(l) => {
            let w = l.weight.val().transpose();
            let [o, i] = w.dims();
            let b = l.bias.as_ref().ok_or_else(|| missing(name))?.val();
            vec![
                NamedTensor {
                    name: format!("{name}.weight"),
                    shape: vec![o, i],
                    values: w.flatten(0, 1),
                },
                one("bias", b),
            ]
        }
        Layer::Conv(c) => {
            let w = c.weight.val();
            let b = c.bias.as_ref().ok_or_else(|| missing(name))?.val();
            vec![
                NamedTensor {
                    name: format!("{name}.weight"),
                    shape: w.dims().to_vec(),
                    values: w.flatten(0, 3),
                },
                one("bias", b),
            ]
        }
        Layer::Norm(n) => {
            let g = n.gamma.as_ref().ok_or_else(|| missing(name))?.val();
            let b = n.beta.as_ref().ok_or_else(|| missing(name))?.val();
            vec![one("weight", g), one("bias", b)]
        }
        Layer::Embedding(e) => {
            let w = e.weight.val();
            vec![NamedTensor {
                name: format!("{name}.weight"),
                shape: w.dims().to_vec(),
                values: w.flatten(0, 1),
            }]
        }
    })
}

/// Replace the layer's parameters by the tensors `lookup(name, shape)` returns (PyTorch layout);
/// the expected shapes are the layer's own, i.e. the config's.
pub fn import(
    name: &str,
    layer: Layer<'_>,
    lookup: &mut dyn FnMut(&str, &[usize]) -> Result<TensorData>,
    device: &Device,
) -> Result<()> {
    let w = format!("{name}.weight");
    let b = format!("{name}.bias");
    let vec1 = |data: TensorData| Param::from_tensor(Tensor::<1>::from_data(data, device));
    match layer {
        Layer::Linear(l) => {
            let [i, o] = l.weight.val().dims();
            let data = transpose_host(lookup(&w, &[o, i])?, o, i)?;
            l.weight = Param::from_tensor(Tensor::<2>::from_data(data, device));
            l.bias = Some(vec1(lookup(&b, &[o])?));
        }
        Layer::Conv(c) => {
            let dims = c.weight.val().dims();
            let data = lookup(&w, &dims)?;
            c.weight = Param::from_tensor(Tensor::<4>::from_data(data, device));
            c.bias = Some(vec1(lookup(&b, &[dims[0]])?));
        }
        Layer::Norm(n) => {
            let c = n.num_channels;
            n.gamma = Some(vec1(lookup(&w, &[c])?));
            n.beta = Some(vec1(lookup(&b, &[c])?));
        }
        Layer::Embedding(e) => {
            let dims = e.weight.val().dims();
            e.weight = Param::from_tensor(Tensor::<2>::from_data(lookup(&w, &dims)?, device));
        }
    }
    Ok(())
}
