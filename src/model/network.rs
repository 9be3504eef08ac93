//! The one network interface: every network the objectives train and the samplers query maps
//! flattened points `x` `[n, d]` and a float condition `c` `[n]` (a DDPM step, a noise level's
//! index, or a constant) to `[n, d]`, whose meaning is its [`super::Parameterization`]. So each
//! loss and each parameterisation is written once, for points and for images alike.

use burn::prelude::*;

use super::unet::UNet2D;
use super::Mlp;

pub trait Network {
    /// The raw output `f_θ(x, c)` `[n, d]`.
    fn predict(&self, x: Tensor<2>, c: Tensor<1>) -> Tensor<2>;
    /// `(f_θ(x, c), (∂f_θ/∂x) v)` by forward-mode tangents, where the network has them
    /// ([`Mlp::forward_jvp`]); None otherwise.
    fn predict_jvp(
        &self,
        _x: Tensor<2>,
        _c: Tensor<1>,
        _v: Tensor<2>,
    ) -> Option<(Tensor<2>, Tensor<2>)> {
        None
    }
}

impl Network for Mlp {
    fn predict(&self, x: Tensor<2>, c: Tensor<1>) -> Tensor<2> {
        self.forward(x, c)
    }

    fn predict_jvp(
        &self,
        x: Tensor<2>,
        c: Tensor<1>,
        v: Tensor<2>,
    ) -> Option<(Tensor<2>, Tensor<2>)> {
        Some(self.forward_jvp(x, c, v))
    }
}

/// A UNet on images of one shape `[c, h, w]`, flattened to points of `d = c·h·w`.
pub struct OnImages<'a> {
    pub net: &'a UNet2D,
    pub image: [usize; 3],
}

impl Network for OnImages<'_> {
    fn predict(&self, x: Tensor<2>, c: Tensor<1>) -> Tensor<2> {
        let [n, d] = x.dims();
        let [ch, h, w] = self.image;
        self.net
            .forward(x.reshape([n, ch, h, w]), c)
            .reshape([n, d])
    }
}
