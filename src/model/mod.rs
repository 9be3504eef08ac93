//! Networks. A model maps `(x, t)` to an output whose meaning is its [`Parameterization`]; any
//! [`ScoreModel`] (a network through [`NetworkScore`], or an exact oracle such as
//! [`crate::data::MixtureScore`]) drives every sampler.

pub mod classifier;
pub mod divergence;
pub mod embed;
pub mod guidance;
pub mod jvp;
pub mod mlp;
pub mod network;
pub mod unet;

pub use divergence::Divergence;
pub use mlp::{Mlp, MlpConfig};
pub use network::{Network, OnImages};

use burn::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::process::{Marginal, NoiseLevel};

/// What a network's output means (DESIGN.md, "The one abstraction"). With the marginal
/// `x_t = a x_0 + s ε` at the query time, each converts into a score (Tweedie:
/// `∇log p_t(x_t) = -E[ε|x_t]/s = -(x_t - a E[x_0|x_t])/s²`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Parameterization {
    /// ε_θ(x_t, t) predicts the noise; score `s = -ε/s_t` (DDPM eq. 11 and §3.2;
    /// `-ε/√(1-ᾱ_t)` for discrete VP).
    #[default]
    Epsilon,
    /// s_θ(x_t, t) is the score itself (NCSN, score SDE).
    Score,
    /// x̂_0(x_t, t) predicts the clean sample; score `-(x_t - a x̂_0)/s²`.
    X0,
    /// v = a ε - s x_0 (Salimans & Ho 2022, §4, for a² + s² = 1); in general
    /// `ε = (s x_t + a v)/(a² + s²)`.
    V,
    /// u = ε - x_0, flow matching's target (Lipman et al. 2023, eq. 23; Liu et al. 2023,
    /// eq. 1): the velocity `dx_t/dt` of the linear path. From `x_t = a x_0 + s ε`,
    /// `x̂_0 = (x_t - s u)/(a + s)` and `ε̂ = (x_t + a u)/(a + s)`.
    Velocity,
}

impl Parameterization {
    /// What the network predicts, as a symbol: ε, s, x̂₀ or v.
    pub fn label(self) -> &'static str {
        match self {
            Self::Epsilon => "ε",
            Self::Score => "s",
            Self::X0 => "x̂₀",
            Self::V => "v",
            Self::Velocity => "u",
        }
    }

    /// Convert a network output at `x` with marginal `m` into a score.
    pub fn to_score(self, out: Tensor<2>, x: Tensor<2>, m: Marginal) -> Result<Tensor<2>> {
        let (a, s) = (m.mean_coef, m.std);
        if self != Self::Score && s <= 0.0 {
            return Err(Error::invalid(format!(
                "a {self:?} network gives no score at noise level 0"
            )));
        }
        Ok(match self {
            Self::Epsilon => out / (-s),
            Self::Score => out,
            Self::X0 => (x - out * a) / (-s * s),
            Self::V => (x * s + out * a) / (-s * (a * a + s * s)),
            Self::Velocity => (x + out * a) / (-s * (a + s)),
        })
    }

    /// Convert a network output at `x` with marginal `m` into the clean-sample estimate
    /// `x̂_0 = E[x_0 | x_t]`. Unlike the score this is defined where `a = 0` (the flow path's
    /// pure noise at `t = 1`) for the outputs that carry `x_0`: x̂₀, v and u.
    pub fn to_x0(self, out: Tensor<2>, x: Tensor<2>, m: Marginal) -> Result<Tensor<2>> {
        let (c_out, c_x) = self.x0_coefs(m)?;
        Ok(out * c_out + x * c_x)
    }

    /// `(c_out, c_x)` with `x̂_0 = c_out · out + c_x · x_t`: every parameterisation is affine in
    /// the output and the input, so `∇·x̂_0 = c_out tr(∂out/∂x) + c_x d` too.
    pub fn x0_coefs(self, m: Marginal) -> Result<(f64, f64)> {
        let (a, s) = (m.mean_coef, m.std);
        let needs_a = matches!(self, Self::Epsilon | Self::Score);
        if (needs_a && a <= 0.0) || (self == Self::V && a * a + s * s <= 0.0) {
            return Err(Error::invalid(format!(
                "a {self:?} network gives no x̂₀ where the signal is gone (a = 0)"
            )));
        }
        Ok(match self {
            // (x - s ε)/a
            Self::Epsilon => (-s / a, 1.0 / a),
            // (x + s² s_θ)/a
            Self::Score => (s * s / a, 1.0 / a),
            Self::X0 => (1.0, 0.0),
            // (a x - s v)/(a² + s²)
            Self::V => (-s / (a * a + s * s), a / (a * a + s * s)),
            // (x - s u)/(a + s)
            Self::Velocity => (-s / (a + s), 1.0 / (a + s)),
        })
    }

    /// The output this parameterisation would give for a score (the inverse of
    /// [`Parameterization::to_score`]); useful for training targets and tests.
    pub fn from_score(self, score: Tensor<2>, x: Tensor<2>, m: Marginal) -> Tensor<2> {
        let (a, s) = (m.mean_coef, m.std);
        let eps = score.clone() * (-s);
        match self {
            Self::Epsilon => eps,
            Self::Score => score,
            // x̂_0 = (x + s² ∇log p)/a.
            Self::X0 => (x + score * (s * s)) / a,
            // v = a ε - s x̂_0 with x̂_0 = (x - s ε)/a.
            Self::V => eps.clone() * a - (x - eps * s) * (s / a),
            // u = ε - x̂_0.
            Self::Velocity => eps.clone() - (x - eps * s) / a,
        }
    }
}

/// Anything a sampler can run: `∇ₓ log p_t(x)` for a batch `x` `[n, d]` at one noise level.
pub trait ScoreModel {
    fn score(&self, x: Tensor<2>, level: &NoiseLevel) -> Result<Tensor<2>>;

    /// `D(x_t) = E[x_0 | x_t]`, what DDIM, DPM-Solver++, EDM and the flow ODE step with. By
    /// default Tweedie's formula on the score ([`x0_from_score`]), which needs `a > 0`; a model
    /// that knows `x̂_0` directly answers where the signal is gone too.
    fn denoise(&self, x: Tensor<2>, level: &NoiseLevel) -> Result<Tensor<2>> {
        let m = level.marginal;
        if m.mean_coef <= 0.0 {
            return Err(Error::invalid(
                "this model gives only a score, and no x̂₀ follows from it where the signal is gone (a = 0)",
            ));
        }
        let score = self.score(x.clone(), level)?;
        Ok(x0_from_score(x, score, m))
    }

    /// `(D(x), ∇ₓ·D(x))` `[n, d]`, `[n]`: the denoiser and its divergence, what the
    /// probability-flow likelihood integrates. By default one reverse-mode pass
    /// ([`divergence::reverse_mode`]); a model with forward-mode tangents or a closed form
    /// answers more cheaply.
    fn denoise_divergence(
        &self,
        x: Tensor<2>,
        level: &NoiseLevel,
        div: &Divergence,
    ) -> Result<(Tensor<2>, Tensor<1>)> {
        divergence::reverse_mode(self, x, level, div)
    }
}

/// Tweedie's estimate of the clean sample, `x̂_0 = (x_t + s² ∇log p_t)/a` (Efron 2011).
pub fn x0_from_score(x: Tensor<2>, score: Tensor<2>, m: Marginal) -> Tensor<2> {
    (x + score * (m.std * m.std)) / m.mean_coef
}

/// A [`Network`] with a [`Parameterization`], as a score model.
///
/// The network is conditioned on [`crate::process::Time::network_input`] for a network trained on `T` steps,
/// with the conversion using the marginal of the process being sampled.
pub struct NetworkScore<'a> {
    pub net: &'a dyn Network,
    pub parameterization: Parameterization,
    /// T, the number of steps the network was trained on.
    pub train_steps: usize,
}

impl<'a> NetworkScore<'a> {
    pub fn new(
        net: &'a dyn Network,
        parameterization: Parameterization,
        train_steps: usize,
    ) -> Self {
        Self {
            net,
            parameterization,
            train_steps,
        }
    }

    /// The network's raw output at `level`.
    pub fn forward(&self, x: Tensor<2>, level: &NoiseLevel) -> Tensor<2> {
        let t = level.time.network_input(self.train_steps);
        let n = x.dims()[0];
        let tt = Tensor::<1>::from_data(TensorData::new(vec![t; n], [n]), &x.device());
        self.net.predict(x, tt)
    }
}

impl ScoreModel for NetworkScore<'_> {
    fn score(&self, x: Tensor<2>, level: &NoiseLevel) -> Result<Tensor<2>> {
        let out = self.forward(x.clone(), level);
        self.parameterization.to_score(out, x, level.marginal)
    }

    fn denoise(&self, x: Tensor<2>, level: &NoiseLevel) -> Result<Tensor<2>> {
        let out = self.forward(x.clone(), level);
        self.parameterization.to_x0(out, x, level.marginal)
    }

    /// Forward-mode where the network has it: `∇·x̂_0 = c_out tr(∂out/∂x) + c_x d`
    /// ([`Parameterization::x0_coefs`]).
    fn denoise_divergence(
        &self,
        x: Tensor<2>,
        level: &NoiseLevel,
        div: &Divergence,
    ) -> Result<(Tensor<2>, Tensor<1>)> {
        let [n, d] = x.dims();
        let (c_out, c_x) = self.parameterization.x0_coefs(level.marginal)?;
        let (tangents, count, weight) = div.tangents(n, d, &x.device())?;
        let t = level.time.network_input(self.train_steps);
        let rows = count * n;
        let tt = Tensor::<1>::from_data(TensorData::new(vec![t; rows], [rows]), &x.device());
        let xs = x.clone().repeat_dim(0, count);
        match self.net.predict_jvp(xs, tt, tangents.clone()) {
            Some((out, jv)) => {
                let tr = divergence::quadratic_forms(jv, tangents, count, weight);
                let x0 = out.narrow(0, 0, n) * c_out + x * c_x;
                Ok((x0, tr * c_out + c_x * d as f64))
            }
            None => divergence::reverse_mode(self, x, level, div),
        }
    }
}
