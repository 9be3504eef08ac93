//! The one score-network interface every score-matching objective trains: `s_θ(x, c)`, where
//! `c` `[n]` is a float conditioning input (a timestep, a noise-level index, or a constant for
//! an unconditional score), plus the forward-mode derivatives the implicit and sliced objectives
//! need (see [`crate::model::jvp`]).

use burn::prelude::*;

use crate::model::Mlp;

pub trait ScoreNet {
    /// `s_θ(x, c)` `[n, d]` for points `x` `[n, d]`.
    fn score(&self, x: Tensor<2>, c: Tensor<1>) -> Tensor<2>;
    /// `(s_θ(x, c), (∇ₓ s_θ) v)` for tangents `v` `[n, d]`.
    fn score_jvp(&self, x: Tensor<2>, c: Tensor<1>, v: Tensor<2>) -> (Tensor<2>, Tensor<2>);
    /// `(s_θ(x, c), tr ∇ₓ s_θ)`, the trace exact, `[n]`.
    fn score_trace(&self, x: Tensor<2>, c: Tensor<1>) -> (Tensor<2>, Tensor<1>);
}

/// The MLP's output read directly as a score.
impl ScoreNet for Mlp {
    fn score(&self, x: Tensor<2>, c: Tensor<1>) -> Tensor<2> {
        self.forward(x, c)
    }

    fn score_jvp(&self, x: Tensor<2>, c: Tensor<1>, v: Tensor<2>) -> (Tensor<2>, Tensor<2>) {
        self.forward_jvp(x, c, v)
    }

    fn score_trace(&self, x: Tensor<2>, c: Tensor<1>) -> (Tensor<2>, Tensor<1>) {
        self.forward_trace(x, c)
    }
}

/// `½ ‖a‖²` per row, `[n]`.
pub(crate) fn half_sq_norm(a: Tensor<2>) -> Tensor<1> {
    let [n, _] = a.dims();
    (a.square().sum_dim(1) * 0.5).reshape([n])
}
