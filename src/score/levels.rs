//! Each loss's formula at the levels of an [`Objective`]'s process: the network is conditioned
//! on the level `t` and trained on `x_t = a_t x_0 + s_t z`, `t ~ U{0..T-1}` (Song et al. 2021,
//! eq. 7, in discrete time).
//!
//! The score-matching family is weighted by `λ(t) = s_t²` (Song & Ermon 2019, eq. 6), so each
//! level's term is of order one (λ = 1 on the data itself, s = 0, Hyvärinen's unweighted loss);
//! with that weight ESM, ISM, SSM and NCSN's DSM have the same minimiser, `s_θ(·, t) = ∇log p_t`,
//! and differ only in their estimator:
//! - `ddpm`: `‖ε_θ(x_t, t) - z‖²` averaged over coordinates (Ho et al. 2020, eq. 14), an ε-network;
//! - `flow_matching`: `‖u_θ(x_t, t) - (z - x_0)‖²` averaged over coordinates, the conditional
//!   flow-matching loss (Lipman et al. 2023, eq. 23; Liu et al. 2023, eq. 1), a velocity network;
//! - `ncsn`: `½ ‖s_t s_θ(x_t, t) + z‖²` (Song & Ermon 2019, eqs. 5–6), a score network; on one
//!   level, Vincent's (2011) DSM at σ times σ²;
//! - `dsm`: a denoiser, `½ ‖x̂_θ(x_t, t) - x_0‖²`, the reconstruction loss Vincent (2011, §4.2)
//!   shows to be denoising score matching with `s_θ = (a_t x̂_θ - x_t)/s_t²` (λ = s_t⁴/a_t²);
//! - `ssm`: `λ [vᵀ(∇ₓs_θ)v + ½ (vᵀs_θ)²]` (Song et al. 2019, eq. 7; eq. 8, `½ ‖s_θ‖²`, for
//!   SSM-VR), `M` projections per point;
//! - `ism`: `λ [tr(∇ₓs_θ) + ½ ‖s_θ‖²]`, the trace exact (Hyvärinen 2005, eq. 4);
//! - `esm`: `λ ½ ‖s_θ - ∇log p_t‖²` against the perturbed mixture's exact score (Hyvärinen 2005,
//!   eq. 2): mixtures only.
//!
//! All randomness (levels, noise, projections) is drawn on the host from one RNG, in that order.

use std::collections::hash_map::{Entry, HashMap};

use burn::prelude::*;
use rand::Rng;
use serde::{Deserialize, Serialize};

use super::esm::esm_terms;
use super::ism::ism_terms;
use super::ncsn::ncsn_terms;
use super::net::half_sq_norm;
use super::objective::Criterion;
use super::ssm::ssm_terms;
use crate::data::GaussianMixture;
use crate::error::{Error, Result};
use crate::model::{Mlp, Parameterization};
use crate::noise;
use crate::process::{DiscreteProcess, Process};

/// Which loss trains the network at each level (its formula above).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Loss {
    Ddpm,
    FlowMatching,
    Ncsn,
    Dsm,
    Ssm,
    Ism,
    Esm,
}

impl Loss {
    pub const ALL: [Self; 7] = [
        Self::Ddpm,
        Self::FlowMatching,
        Self::Ncsn,
        Self::Dsm,
        Self::Ssm,
        Self::Ism,
        Self::Esm,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::Ddpm => "ddpm",
            Self::FlowMatching => "flow_matching",
            Self::Ncsn => "ncsn",
            Self::Dsm => "dsm",
            Self::Ssm => "ssm",
            Self::Ism => "ism",
            Self::Esm => "esm",
        }
    }

    /// What the trained network outputs.
    pub fn parameterization(self) -> Parameterization {
        match self {
            Self::Ddpm => Parameterization::Epsilon,
            Self::Dsm => Parameterization::X0,
            Self::FlowMatching => Parameterization::Velocity,
            _ => Parameterization::Score,
        }
    }

    /// Whether the loss needs the data's exact score (ESM: mixtures only).
    pub fn needs_exact_score(self) -> bool {
        self == Self::Esm
    }

    /// Whether the loss learns from noisy points only (its target or its score needs s > 0).
    pub fn needs_noise(self) -> bool {
        matches!(
            self,
            Self::Ddpm | Self::FlowMatching | Self::Ncsn | Self::Dsm
        )
    }
}

impl std::str::FromStr for Loss {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|o| o.name() == s)
            .ok_or_else(|| {
                Error::invalid(format!(
                    "unknown objective '{s}' (expected {})",
                    Self::ALL.map(Self::name).join(", ")
                ))
            })
    }
}

impl Criterion {
    /// The batch loss of the objective for `model` on clean points `x0` (row-major `[n, d]`, on
    /// the host). `mixture` is the data's law where it is a Gaussian mixture (ESM needs it).
    pub fn batch_loss<R: Rng + ?Sized>(
        &self,
        model: &Mlp,
        x0: &[f32],
        d: usize,
        mixture: Option<&GaussianMixture>,
        rng: &mut R,
        device: &Device,
    ) -> Result<Tensor<1>> {
        let (objective, process) = (self.objective, &self.process);
        if d == 0 || x0.is_empty() || x0.len() % d != 0 {
            return Err(Error::invalid(format!(
                "{} values are not a non-empty batch of {d}-dimensional points",
                x0.len()
            )));
        }
        let n = x0.len() / d;
        let t = noise::uniform_steps(rng, n, process.num_steps());
        let z = noise::normal_vec(rng, n * d);
        let m: Vec<_> = t.iter().map(|&t| process.marginal(t)).collect();
        // x_t = a_t x_0 + s_t z on the host: ESM's target needs it there.
        let xt: Vec<f32> = x0
            .iter()
            .zip(&z)
            .enumerate()
            .map(|(i, (&x, &z))| {
                let m = m[i / d];
                m.mean_coef as f32 * x + m.std as f32 * z
            })
            .collect();
        let upload = |v: Vec<f32>, shape: [usize; 2]| {
            Tensor::<2>::from_data(TensorData::new(v, shape), device)
        };
        let column = |f: &dyn Fn(usize) -> f64| {
            let v: Vec<f32> = (0..n).map(|i| f(i) as f32).collect();
            Tensor::<2>::from_data(TensorData::new(v, [n, 1]), device)
        };
        // λ(t) = s_t², one per row; 1 on the data itself.
        let lambda = |s: f64| if s > 0.0 { s * s } else { 1.0 };
        let weight = || column(&|i| lambda(m[i].std)).reshape([n]);
        let c = {
            let big_t = process.num_steps();
            let v: Vec<f32> = t
                .iter()
                .map(|&t| process.time(t).network_input(big_t))
                .collect();
            Tensor::<1>::from_data(TensorData::new(v, [n]), device)
        };
        let x = upload(xt.clone(), [n, d]);
        let z = upload(z, [n, d]);
        Ok(match objective.loss {
            Loss::Ddpm => super::ddpm::eps_loss(model.forward(x, c), z),
            Loss::FlowMatching => {
                let u = z - upload(x0.to_vec(), [n, d]);
                super::ddpm::eps_loss(model.forward(x, c), u)
            }
            Loss::Ncsn => ncsn_terms(model, x, c, column(&|i| m[i].std), z).mean(),
            Loss::Dsm => half_sq_norm(model.forward(x, c) - upload(x0.to_vec(), [n, d])).mean(),
            Loss::Ssm => {
                let s = objective.slicing;
                let rows = n * s.projections;
                let v = upload(s.projection.draw(rng, rows, d), [rows, d]);
                let w = weight().repeat_dim(0, s.projections);
                (ssm_terms(model, x, c, v, s.variance_reduced)? * w).mean()
            }
            Loss::Ism => (ism_terms(model, x, c) * weight()).mean(),
            Loss::Esm => {
                let mix = mixture.ok_or_else(|| {
                Error::invalid(
                    "explicit score matching needs the data's exact score, known only for Gaussian mixtures",
                )
            })?;
                let target = exact_scores(mix, process, &xt, &t)?;
                (esm_terms(model, x, c, upload(target, [n, d])) * weight()).mean()
            }
        })
    }
}

/// `∇log p_t(x_t)` per row, `p_t` the mixture perturbed to that row's level `t`.
fn exact_scores(
    mix: &GaussianMixture,
    process: &DiscreteProcess,
    xt: &[f32],
    t: &[usize],
) -> Result<Vec<f32>> {
    let d = mix.dim();
    if xt.len() != t.len() * d {
        return Err(Error::invalid(format!(
            "the mixture is {d}-dimensional, the points are not"
        )));
    }
    // One perturbed mixture per level met.
    let mut levels: HashMap<usize, GaussianMixture> = HashMap::new();
    let mut out = Vec::with_capacity(xt.len());
    for (row, &t) in xt.chunks_exact(d).zip(t) {
        let p = match levels.entry(t) {
            Entry::Occupied(e) => e.into_mut(),
            Entry::Vacant(e) => {
                let m = process.marginal(t);
                e.insert(mix.perturbed(m.mean_coef, m.std)?)
            }
        };
        let x: Vec<f64> = row.iter().map(|&v| v as f64).collect();
        let (_, g) = p.log_prob_and_score(&x);
        out.extend(g.iter().map(|&v| v as f32));
    }
    Ok(out)
}
