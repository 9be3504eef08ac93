//! One objective type: a [`Loss`] at the levels of a process, `{objective, process}`. A
//! noise-free loss (Hyvärinen's ESM and ISM, sliced SM) is a process with one level at σ = 0,
//! Vincent's DSM at one σ a process with one level at σ ([`ProcessConfig::one_level`]); DDPM is
//! `ddpm` on VP and NCSN `ncsn` on VE. [`Criterion`] is the objective with its tables built.
//!
//! The network is conditioned on the level `t` (its float input, as DDPM feeds its step; `t = 0`
//! on one level) and trained on `x_t = a_t x_0 + s_t z`, `t ~ U{0..T-1}` (Song et al. 2021,
//! eq. 7, in discrete time); [`super::levels`] holds each loss's formula.

use burn::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::levels::Loss;
use super::ssm::Projection;
use crate::error::{Error, Result};
use crate::model::{Mlp, Parameterization};
use crate::process::{DiscreteProcess, NoiseLevel, Process, ProcessConfig, VeConfig};
use crate::schedule::ScheduleConfig;

/// Which loss trains the network, and on which levels.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Objective {
    #[serde(rename = "objective")]
    pub loss: Loss,
    pub process: ProcessConfig,
    /// Sliced score matching's projections; the other losses ignore them.
    #[serde(default, skip_serializing_if = "Slicing::is_default")]
    pub slicing: Slicing,
}

/// The projections `v` of sliced score matching (Song et al. 2019): their law, `M` per point,
/// and whether the second term is taken in closed form (SSM-VR, eq. 8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Slicing {
    pub projection: Projection,
    pub projections: usize,
    pub variance_reduced: bool,
}

impl Default for Slicing {
    /// One Rademacher projection per point, eq. 7.
    fn default() -> Self {
        Self {
            projection: Projection::Rademacher,
            projections: 1,
            variance_reduced: false,
        }
    }
}

impl Slicing {
    fn is_default(&self) -> bool {
        *self == Self::default()
    }
}

impl Default for Objective {
    /// DDPM's L_simple on DDPM's process.
    fn default() -> Self {
        Self::new(Loss::Ddpm, ProcessConfig::default())
    }
}

impl Objective {
    pub fn new(loss: Loss, process: ProcessConfig) -> Self {
        Self {
            loss,
            process,
            slicing: Slicing::default(),
        }
    }

    /// `loss` on the data itself: one level at σ = 0.
    pub fn noise_free(loss: Loss) -> Self {
        Self::new(loss, ProcessConfig::one_level(0.0))
    }

    pub fn with_slicing(self, slicing: Slicing) -> Self {
        Self { slicing, ..self }
    }

    pub fn validate(&self) -> Result<()> {
        self.process.validate_levels()?;
        if self.slicing.projections == 0 {
            return Err(Error::invalid(
                "sliced score matching needs at least one projection per point",
            ));
        }
        if self
            .noise_free_level()
            .is_some_and(|l| l.marginal.std == 0.0)
            && self.loss.needs_noise()
        {
            return Err(Error::invalid(format!(
                "{} learns from noisy points; on the data itself (σ = 0) only esm, ism and ssm apply",
                self.loss.name()
            )));
        }
        Ok(())
    }

    /// A short name for logs, cards and the page.
    pub fn name(&self) -> &'static str {
        match self.loss {
            Loss::Ssm if self.slicing.variance_reduced => "ssm-vr",
            loss => loss.name(),
        }
    }

    /// What the trained network's output means.
    pub fn parameterization(&self) -> Parameterization {
        self.loss.parameterization()
    }

    /// Whether the loss needs the data's analytic score (ESM).
    pub fn needs_target_score(&self) -> bool {
        self.loss.needs_exact_score()
    }

    /// The process whose chain the trained network's samplers reverse: none on one level.
    pub fn sampling_process(&self) -> Option<ProcessConfig> {
        (!self.process.is_one_level()).then_some(self.process)
    }

    /// The one level a noise-free network was trained at (its Langevin reads the score there).
    pub fn noise_free_level(&self) -> Option<NoiseLevel> {
        let level = self
            .process
            .is_one_level()
            .then(|| self.process.build_levels());
        level.and_then(|p| p.ok()).map(|p| NoiseLevel::step(&p, 0))
    }

    /// The β schedule of a VP or sub-VP process.
    pub fn schedule(&self) -> Option<ScheduleConfig> {
        match self.process {
            ProcessConfig::Vp { schedule } | ProcessConfig::SubVp { schedule } => Some(schedule),
            ProcessConfig::Ve(_) | ProcessConfig::Flow { .. } => None,
        }
    }

    /// Build the process tables the objective draws from.
    pub fn criterion(&self) -> Result<Criterion> {
        self.validate()?;
        Ok(Criterion {
            objective: *self,
            process: self.process.build_levels()?,
        })
    }
}

/// An [`Objective`] ready to evaluate.
#[derive(Debug, Clone)]
pub struct Criterion {
    pub(super) objective: Objective,
    pub(super) process: DiscreteProcess,
}

impl Criterion {
    pub fn objective(&self) -> Objective {
        self.objective
    }

    pub fn process(&self) -> &DiscreteProcess {
        &self.process
    }

    /// The model's estimate of the data score `∇ₓ log p(x)` at the least noise it knows, level 0
    /// (for one level at σ the score of `p ∗ N(0, σ²I)`).
    pub fn data_score(&self, model: &Mlp, x: Tensor<2>) -> Tensor<2> {
        let [n, _] = x.dims();
        let level = NoiseLevel::step(&self.process, 0);
        let t0 = level.time.network_input(self.process.num_steps());
        let c0 = Tensor::<1>::full([n], t0, &x.device());
        self.objective
            .parameterization()
            .to_score(model.forward(x.clone(), c0), x, level.marginal)
            .expect("validate refuses a parameterisation without noise at level 0")
    }
}

/// Rewrite a card's `train` written before the objective carried its process: `{"kind": …}`
/// with the β schedule beside it in `train.schedule`. `{"kind": "on_process", …}` reads as is.
pub(crate) fn upgrade_card(train: &mut Map<String, Value>) -> Result<()> {
    let Some(Value::Object(old)) = train.get("objective") else {
        return Ok(());
    };
    let kind = old
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or("on_process");
    let bad = |e: serde_json::Error| Error::invalid(format!("objective: {e}"));
    let number = |key: &str| old.get(key).and_then(Value::as_f64);
    let objective = match kind {
        "on_process" => return Ok(()),
        "ddpm" => {
            let schedule: ScheduleConfig = match train.get("schedule") {
                Some(s) => serde_json::from_value(s.clone()).map_err(bad)?,
                None => ScheduleConfig::default(),
            };
            Objective::new(Loss::Ddpm, ProcessConfig::Vp { schedule })
        }
        "ncsn" => {
            let ve: VeConfig = serde_json::from_value(Value::Object(old.clone())).map_err(bad)?;
            Objective::new(Loss::Ncsn, ProcessConfig::Ve(ve))
        }
        // DSM at one σ on a score network (Vincent 2011, eq. 11) is NCSN's loss on one level.
        "dsm" => Objective::new(
            Loss::Ncsn,
            ProcessConfig::one_level(number("sigma").unwrap_or(f64::NAN)),
        ),
        "esm" => Objective::noise_free(Loss::Esm),
        "ism" => Objective::noise_free(Loss::Ism),
        "ssm" => Objective::noise_free(Loss::Ssm)
            .with_slicing(serde_json::from_value(Value::Object(old.clone())).map_err(bad)?),
        other => return Err(Error::invalid(format!("unknown objective kind '{other}'"))),
    };
    let value = serde_json::to_value(objective).map_err(|e| Error::invalid(e.to_string()))?;
    train.insert("objective".into(), value);
    Ok(())
}
