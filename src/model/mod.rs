//! Networks. A model maps `(x, t)` to an output whose meaning is its [`Parameterization`].

pub mod embed;
pub mod mlp;

pub use mlp::{Mlp, MlpConfig};

use serde::{Deserialize, Serialize};

/// What a network's output means (DESIGN.md, "The one abstraction").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Parameterization {
    /// ε_θ(x_t, t) predicts the noise; score `s = -ε/√(1-ᾱ_t)` (DDPM eq. 11 and §3.2).
    #[default]
    Epsilon,
}
