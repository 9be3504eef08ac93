//! One objective type for the score-matching family and DDPM: [`Objective`] is the serialisable
//! choice, [`Criterion`] the objective with its process tables built, whose
//! [`Criterion::loss`] computes a batch loss from a network, a clean batch and a host RNG.
//!
//! Conditioning of the network `s_θ(x, c)` ([`crate::score::ScoreNet`]):
//! - ESM, ISM, SSM, SSM-VR, DSM learn one unconditional score: `c = 0` for every point;
//! - NCSN: `c = t`, the VE level index, σ growing with `t` (see [`crate::score::ncsn`]);
//! - DDPM: `c = t`, the timestep, and the output is ε (score `-ε/√(1-ᾱ_t)`, DDPM eq. 11);
//! - on a process ([`Objective::OnProcess`], [`super::levels`]): `c = t`, the process's step.

use burn::prelude::*;
use rand::Rng;
use serde::{Deserialize, Serialize};

use super::dsm::{check_sigma, dsm_loss};
use super::esm::{esm_loss, mixture_score};
use super::ism::ism_loss;
use super::levels::{LevelCriterion, LevelObjective};
use super::ncsn::{level_condition, ncsn_loss};
use super::net::{constant_condition, ScoreNet};
use super::ssm::{ssm_loss, Projection};
use crate::data::GaussianMixture;
use crate::error::{Error, Result};
use crate::model::{Mlp, Parameterization};
use crate::noise;
use crate::process::{NoiseLevel, Process, ProcessConfig, VeConfig, VeProcess, VpProcess};
use crate::schedule::ScheduleConfig;

/// Which objective trains the network.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Objective {
    /// Explicit score matching against the data's analytic score (Hyvärinen 2005, eq. 2).
    Esm,
    /// Implicit score matching with the exact Jacobian trace (Hyvärinen 2005, eq. 4).
    Ism,
    /// Sliced score matching (Song et al. 2019, eq. 7; eq. 8 when `variance_reduced`), with
    /// `projections` draws of `v` per point.
    Ssm {
        projection: Projection,
        projections: usize,
        variance_reduced: bool,
    },
    /// Denoising score matching at one σ (Vincent 2011, eq. 11).
    Dsm { sigma: f64 },
    /// Multi-level DSM with λ(σ) = σ² on the levels of a VE process (Song & Ermon 2019,
    /// eqs. 5–6).
    Ncsn(VeConfig),
    /// DDPM's L_simple on an ε-network (Ho et al. 2020, eq. 14), on the training schedule.
    #[default]
    Ddpm,
    /// `objective` at every level of `process`, the network conditioned on the level
    /// ([`super::levels`]): what the page trains.
    OnProcess {
        objective: LevelObjective,
        process: ProcessConfig,
    },
}

impl Objective {
    pub fn validate(&self) -> Result<()> {
        match self {
            Self::Ssm { projections, .. } if *projections == 0 => Err(Error::invalid(
                "sliced score matching needs at least one projection per point",
            )),
            Self::Dsm { sigma } => check_sigma(*sigma),
            Self::Ncsn(c) => c.validate(),
            Self::OnProcess { process, .. } => process.validate(),
            _ => Ok(()),
        }
    }

    /// A short name for logs and the page.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Esm => "esm",
            Self::Ism => "ism",
            Self::Ssm {
                variance_reduced: false,
                ..
            } => "ssm",
            Self::Ssm { .. } => "ssm-vr",
            Self::Dsm { .. } => "dsm",
            Self::Ncsn(_) => "ncsn",
            Self::Ddpm => "ddpm",
            Self::OnProcess { objective, .. } => objective.name(),
        }
    }

    /// What the trained network's output means.
    pub fn parameterization(&self) -> Parameterization {
        match self {
            Self::Ddpm => Parameterization::Epsilon,
            Self::OnProcess { objective, .. } => objective.parameterization(),
            _ => Parameterization::Score,
        }
    }

    /// Whether the loss needs the data's analytic score (ESM).
    pub fn needs_target_score(&self) -> bool {
        match self {
            Self::OnProcess { objective, .. } => objective.needs_exact_score(),
            other => matches!(other, Self::Esm),
        }
    }

    /// The process whose levels the trained network is conditioned on (`schedule` is DDPM's):
    /// none for the objectives that learn one noise-free score.
    pub fn process(&self, schedule: ScheduleConfig) -> Option<ProcessConfig> {
        match self {
            Self::Ddpm => Some(ProcessConfig::Vp { schedule }),
            Self::Ncsn(ve) => Some(ProcessConfig::Ve(*ve)),
            Self::OnProcess { process, .. } => Some(*process),
            _ => None,
        }
    }

    /// Build the process tables the objective draws from (`schedule` is DDPM's).
    pub fn criterion(&self, schedule: ScheduleConfig) -> Result<Criterion> {
        self.validate()?;
        let process = match self {
            Self::Ddpm => Tables::Vp(VpProcess::new(schedule)?),
            Self::Ncsn(c) => Tables::Ve(c.build()?),
            Self::OnProcess { objective, process } => Tables::Levels(LevelCriterion {
                objective: *objective,
                process: process.build()?,
            }),
            _ => Tables::None,
        };
        Ok(Criterion {
            objective: *self,
            process,
        })
    }
}

#[derive(Debug, Clone)]
enum Tables {
    None,
    Vp(VpProcess),
    Ve(VeProcess),
    Levels(LevelCriterion),
}

/// An [`Objective`] ready to evaluate.
#[derive(Debug, Clone)]
pub struct Criterion {
    objective: Objective,
    process: Tables,
}

impl Criterion {
    pub fn objective(&self) -> Objective {
        self.objective
    }

    /// The loss of `model` on clean points `x0` (row-major `[n, d]`, on the host) for any
    /// objective; `mixture` is the data's law where it is a Gaussian mixture (ESM needs it).
    pub fn batch_loss<R: Rng + ?Sized>(
        &self,
        model: &Mlp,
        x0: &[f32],
        d: usize,
        mixture: Option<&GaussianMixture>,
        rng: &mut R,
        device: &Device,
    ) -> Result<Tensor<1>> {
        if let Tables::Levels(levels) = &self.process {
            return levels.loss(model, x0, d, mixture, rng, device);
        }
        let target = match (self.objective.needs_target_score(), mixture) {
            (false, _) => None,
            (true, Some(mix)) => Some(mixture_score(mix, x0, device)?),
            (true, None) => {
                return Err(Error::invalid(
                    "explicit score matching needs the data's exact score, known only for Gaussian mixtures",
                ))
            }
        };
        if d == 0 || x0.len() % d != 0 {
            return Err(Error::invalid(format!(
                "{} values are not a batch of {d}-dimensional points",
                x0.len()
            )));
        }
        let x = Tensor::<2>::from_data(TensorData::new(x0.to_vec(), [x0.len() / d, d]), device);
        self.loss(model, x, target, rng)
    }

    /// The scalar loss of `model` on the clean batch `x` `[n, d]`. Randomness (projections, noise
    /// levels, timesteps, noise) is drawn from `rng` on the host and uploaded. `target_score`
    /// `[n, d]` is `∇ₓ log p(x)`, required by ESM and ignored otherwise.
    pub fn loss<R: Rng + ?Sized>(
        &self,
        model: &Mlp,
        x: Tensor<2>,
        target_score: Option<Tensor<2>>,
        rng: &mut R,
    ) -> Result<Tensor<1>> {
        let [n, d] = x.dims();
        if n == 0 {
            return Err(Error::invalid("the batch is empty"));
        }
        let device = x.device();
        let c0 = || constant_condition(n, 0.0, &device);
        match (self.objective, &self.process) {
            (Objective::Esm, _) => {
                let target = target_score.ok_or_else(|| {
                    Error::invalid("explicit score matching needs the data's score ∇ log p")
                })?;
                if target.dims() != [n, d] {
                    return Err(Error::invalid(format!(
                        "target score is {:?}, the batch is [{n}, {d}]",
                        target.dims()
                    )));
                }
                Ok(esm_loss(model, x, c0(), target))
            }
            (Objective::Ism, _) => Ok(ism_loss(model, x, c0())),
            (
                Objective::Ssm {
                    projection,
                    projections,
                    variance_reduced,
                },
                _,
            ) => {
                let rows = n * projections;
                let v = projection.draw(rng, rows, d);
                let v = Tensor::from_data(TensorData::new(v, [rows, d]), &device);
                ssm_loss(model, x, c0(), v, variance_reduced)
            }
            (Objective::Dsm { sigma }, _) => {
                let z = noise::normal(rng, [n, d], &device);
                dsm_loss(model, x, c0(), z, sigma)
            }
            (Objective::Ncsn(_), Tables::Ve(process)) => {
                let levels = noise::uniform_steps(rng, n, process.num_steps());
                let z = noise::normal(rng, [n, d], &device);
                ncsn_loss(model, process, x, &levels, z)
            }
            (Objective::Ddpm, Tables::Vp(process)) => {
                let t = noise::uniform_steps(rng, n, process.num_steps());
                let eps = noise::normal(rng, [n, d], &device);
                Ok(super::l_simple(model, process, x, &t, eps))
            }
            (Objective::OnProcess { .. }, _) => Err(Error::invalid(
                "an objective on a process draws its levels from host points: use Criterion::batch_loss",
            )),
            (o, _) => unreachable!("criterion for {o:?} built without its process"),
        }
    }

    /// The model's estimate of the data score `∇ₓ log p(x)` at the least noise it knows:
    /// `c = 0` for the unconditional objectives (for DSM the score of `p ∗ N(0, σ²I)`), level 0
    /// (`σ_min`) for NCSN, `-ε_θ(x, 0)/√(1-ᾱ_0)` for DDPM.
    pub fn data_score(&self, model: &Mlp, x: Tensor<2>) -> Tensor<2> {
        let [n, _] = x.dims();
        let device = x.device();
        let c0 = constant_condition(n, 0.0, &device);
        match &self.process {
            Tables::Ve(_) => model.score(x, level_condition(&vec![0; n], &device)),
            Tables::Vp(process) => model.forward(x, c0) / (-process.marginal(0).std),
            Tables::Levels(l) => {
                let level = NoiseLevel::step(&l.process, 0);
                l.objective
                    .parameterization()
                    .to_score(model.forward(x.clone(), c0), x, level.marginal)
                    .expect("every process has noise at step 0")
            }
            Tables::None => model.score(x, c0),
        }
    }
}
