//! Implicit score matching (Hyvärinen 2005, eq. 4 / Theorem 1):
//! `J_ISM(θ) = E_p [ tr(∇ₓ s_θ(x)) + ½ ‖s_θ(x)‖² ]`, equal to `J_ESM` up to a constant in θ.
//! The trace is exact: `d` forward-mode JVPs with basis tangents in one batch
//! ([`ScoreNet::score_trace`]), so the loss backpropagates through burn's first-order tape.

use burn::prelude::*;

use super::net::{half_sq_norm, ScoreNet};

/// The per-point term `tr(∇ₓ s_θ) + ½ ‖s_θ‖²` `[n]` (eq. 4), which [`super::levels`] weights.
pub fn ism_terms(net: &impl ScoreNet, x: Tensor<2>, c: Tensor<1>) -> Tensor<1> {
    let (s, trace) = net.score_trace(x, c);
    trace + half_sq_norm(s)
}
