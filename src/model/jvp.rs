//! Forward-mode derivatives of [`Mlp`] in x, pushed through the network as ordinary tensor ops.
//!
//! burn's autodiff is first order only, so a loss that contains `(∂s/∂x) v` or `tr(∂s/∂x)`
//! (implicit and sliced score matching) cannot get them from a backward pass and then
//! differentiate again. Instead the tangent `ẋ = v` rides alongside the primal: with
//! `z = W h + b`, `ż = W ḣ` (a linear layer's JVP drops the bias); with `h = SiLU(z)`,
//! `ḣ = SiLU'(z) ⊙ ż`, `SiLU'(z) = σ(z)(1 + z(1 - σ(z)))`; residual sums add tangents; the time
//! path does not depend on x, so its tangent is zero. The result is exact (no step size) and is
//! an ordinary expression in the parameters, so the first-order tape differentiates it.

use burn::nn::Linear;
use burn::prelude::*;
use burn::tensor::activation::{sigmoid, silu};

use super::embed::sinusoidal_embedding;
use super::Mlp;

/// `SiLU'(z) = σ(z) + z σ(z)(1 - σ(z)) = σ(z)(1 + z(1 - σ(z)))`.
pub fn silu_derivative<const D: usize>(z: Tensor<D>) -> Tensor<D> {
    let s = sigmoid(z.clone());
    s.clone() * (z * (s.neg() + 1.0) + 1.0)
}

/// The tangent map of a linear layer: `v ↦ v W` (burn stores `W` as `[in, out]`; no bias).
fn linear_tangent(layer: &Linear, v: Tensor<2>) -> Tensor<2> {
    v.matmul(layer.weight.val())
}

impl Mlp {
    /// `(out, J v)` for points `x` `[n, dim]`, timesteps `t` `[n]` and tangents `v` `[n, dim]`,
    /// where `J = ∂out/∂x` at each row. `out` is computed by the same ops as [`Mlp::forward`].
    pub fn forward_jvp(&self, x: Tensor<2>, t: Tensor<1>, v: Tensor<2>) -> (Tensor<2>, Tensor<2>) {
        let emb = sinusoidal_embedding(t, self.time_dim, self.max_period);
        let temb = self.time_proj.forward(silu(self.time_embed.forward(emb)));
        // h₀ = SiLU(W_x x + b_x + temb): ż₀ = W_x v (temb has zero tangent).
        let z = self.input.forward(x) + temb;
        let dz = linear_tangent(&self.input, v);
        let mut dh = silu_derivative(z.clone()) * dz;
        let mut h = silu(z);
        // h_{k+1} = h_k + SiLU(W_k h_k + b_k): ḣ_{k+1} = ḣ_k + SiLU'(z_k) ⊙ W_k ḣ_k.
        for block in &self.blocks {
            let z = block.forward(h.clone());
            let dz = linear_tangent(block, dh.clone());
            dh = dh + silu_derivative(z.clone()) * dz;
            h = h + silu(z);
        }
        (self.output.forward(h), linear_tangent(&self.output, dh))
    }

    /// `(out, tr(∂out/∂x))` per row, exact: `tr J = Σ_k e_kᵀ J e_k`, the `dim` basis tangents
    /// stacked into one batch of `dim · n` rows (block `k` carries `e_k` for every point), so
    /// the cost is one forward pass on a `dim`-times larger batch. Needs `out` and `x` to have
    /// the same width (a score network).
    pub fn forward_trace(&self, x: Tensor<2>, t: Tensor<1>) -> (Tensor<2>, Tensor<1>) {
        let [n, d] = x.dims();
        let device = x.device();
        let xs = x.repeat_dim(0, d);
        let ts = t.repeat_dim(0, d);
        let basis = basis_tangents(n, d, &device);
        let (out, jv) = self.forward_jvp(xs, ts, basis.clone());
        // Row k·n + i of (J e_k) ⊙ e_k summed over columns is J_kk at point i.
        let diag = (jv * basis).sum_dim(1).reshape([d, n]);
        let trace = diag.sum_dim(0).reshape([n]);
        (out.narrow(0, 0, n), trace)
    }
}

/// `[d·n, d]`: rows `k·n .. (k+1)·n` are the basis vector `e_k`.
pub fn basis_tangents(n: usize, d: usize, device: &Device) -> Tensor<2> {
    let mut v = vec![0.0f32; d * n * d];
    for k in 0..d {
        for i in 0..n {
            v[(k * n + i) * d + k] = 1.0;
        }
    }
    Tensor::from_data(TensorData::new(v, [d * n, d]), device)
}
