//! A sampler named by data: which sampler, its options and the score source, as one
//! serialisable value (the page's controls and URL hash map onto it one to one).

use serde::{Deserialize, Serialize};

use super::{
    AncestralSampler, AnnealedLangevin, DdimSampler, EulerMaruyama, LangevinSampler, OdeMethod,
    PosteriorVariance, PredictorCorrector, ProbabilityFlowOde, Sampler, TimestepSpacing,
};
use crate::data::GaussianMixture;
use crate::error::{Error, Result};
use crate::noise;
use crate::process::{
    sigma_max_from_data, NoiseLevel, Sde, SubVpSde, VeConfig, VeSde, VpProcess, VpSde,
};

/// Where the score comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ScoreSource {
    /// The trained ε-network (a VP model), through its parameterisation.
    #[default]
    Learned,
    /// The exact score of the data mixture's perturbed marginal.
    Oracle,
}

/// The forward SDE of the continuous samplers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum SdeKind {
    /// The continuous limit of the model's linear DDPM schedule (Song et al. 2021, eq. 11).
    #[default]
    Vp,
    /// Same β(t), variance below VP's (eq. 16).
    SubVp,
    /// σ(t) from 0.01 to σ_max by NCSNv2's rule on the data (eq. 30).
    Ve,
}

/// Every sampler with its own options.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum SamplerSpec {
    /// DDPM Algorithm 2 over all T steps.
    Ancestral { variance: PosteriorVariance },
    /// DDIM on `steps` of the T steps, η ∈ [0, 1].
    Ddim {
        steps: usize,
        eta: f64,
        spacing: TimestepSpacing,
    },
    /// Fixed-step Langevin dynamics on the least noisy score: the data score for the oracle, the
    /// network's t = 0 for the learned model.
    Langevin { steps: usize, step_size: f64 },
    /// NCSN's annealed Langevin over `levels` VE levels from σ_max (None: NCSNv2's rule on 2000
    /// data points) down to σ_min; oracle only (the ε-network knows VP levels, not VE ones).
    AnnealedLangevin {
        levels: usize,
        n_per_level: usize,
        step_size: f64,
        sigma_min: f64,
        sigma_max: Option<f64>,
    },
    /// Euler–Maruyama on the reverse SDE.
    EulerMaruyama { steps: usize, process: SdeKind },
    /// Reverse-diffusion predictor + Langevin corrector at signal-to-noise `snr`.
    Pc {
        steps: usize,
        snr: f64,
        corrector_steps: usize,
        process: SdeKind,
    },
    /// The probability-flow ODE.
    Ode {
        steps: usize,
        method: OdeMethod,
        process: SdeKind,
    },
}

impl SamplerSpec {
    /// Parse the JSON form, e.g. `{"kind": "ddim", "steps": 50, "eta": 0, "spacing": "leading"}`.
    pub fn from_json(text: &str) -> Result<Self> {
        serde_json::from_str(text)
            .map_err(|e| Error::invalid(format!("not a sampler description: {e}")))
    }

    /// Build the sampler. `vp` is the model's discrete process (the oracle runs on the same
    /// schedule so both sources walk the same marginals); `data` is the mixture, for the VE range.
    pub fn build(
        &self,
        vp: &VpProcess,
        source: ScoreSource,
        data: &GaussianMixture,
        seed: u64,
    ) -> Result<Box<dyn Sampler>> {
        self.build_with(
            vp,
            source,
            || Ok((data.sample(2000, &mut noise::rng(seed)), data.dim())),
            seed,
        )
    }

    /// [`SamplerSpec::build`] for data of any law: `data_points` returns `(points [m, d], d)`
    /// drawn from the data, called only by the samplers whose VE range is sized from the data
    /// (NCSNv2's technique 1).
    pub fn build_with(
        &self,
        vp: &VpProcess,
        source: ScoreSource,
        data_points: impl FnOnce() -> Result<(Vec<f32>, usize)>,
        seed: u64,
    ) -> Result<Box<dyn Sampler>> {
        let oracle = source == ScoreSource::Oracle;
        Ok(match *self {
            Self::Ancestral { variance } => {
                Box::new(AncestralSampler::new(vp.clone(), variance, None, seed))
            }
            Self::Ddim {
                steps,
                eta,
                spacing,
            } => Box::new(DdimSampler::new(
                vp.clone(),
                steps,
                spacing,
                eta,
                None,
                seed,
            )?),
            Self::Langevin { steps, step_size } => {
                let level = if oracle {
                    NoiseLevel::data()
                } else {
                    NoiseLevel::step(vp, 0)
                };
                Box::new(LangevinSampler::new(level, step_size, steps, seed)?)
            }
            Self::AnnealedLangevin {
                levels,
                n_per_level,
                step_size,
                sigma_min,
                sigma_max,
            } => {
                if !oracle {
                    return Err(Error::invalid(
                        "annealed Langevin needs the score at NCSN's VE levels; the trained ε-network is a VP model (use the oracle score)",
                    ));
                }
                let sigma_max = match sigma_max {
                    Some(s) => s,
                    None => ve_sigma_max(data_points)?,
                };
                let process = VeConfig {
                    sigma_min,
                    sigma_max,
                    levels,
                }
                .build()?;
                Box::new(AnnealedLangevin::new(
                    process,
                    n_per_level,
                    step_size,
                    seed,
                )?)
            }
            Self::EulerMaruyama { steps, process } => {
                let (sde, eps) = sde(process, vp, oracle, data_points)?;
                Box::new(EulerMaruyama::new(sde, steps, eps, seed)?)
            }
            Self::Pc {
                steps,
                snr,
                corrector_steps,
                process,
            } => {
                let (sde, eps) = sde(process, vp, oracle, data_points)?;
                Box::new(PredictorCorrector::new(
                    sde,
                    steps,
                    eps,
                    snr,
                    corrector_steps,
                    seed,
                )?)
            }
            Self::Ode {
                steps,
                method,
                process,
            } => {
                let (sde, eps) = sde(process, vp, oracle, data_points)?;
                Box::new(ProbabilityFlowOde::new(sde, steps, eps, method, seed)?)
            }
        })
    }
}

/// NCSNv2's σ_max (Technique 1) on the data points `data_points` returns.
fn ve_sigma_max(data_points: impl FnOnce() -> Result<(Vec<f32>, usize)>) -> Result<f64> {
    let (pts, d) = data_points()?;
    sigma_max_from_data(&pts, d)
}

/// The SDE and its end time ε (score_sde's defaults: 1e-3 for VP and sub-VP, 1e-5 for VE).
fn sde(
    kind: SdeKind,
    vp: &VpProcess,
    oracle: bool,
    data_points: impl FnOnce() -> Result<(Vec<f32>, usize)>,
) -> Result<(Box<dyn Sde>, f64)> {
    if !oracle && kind != SdeKind::Vp {
        return Err(Error::invalid(
            "the trained ε-network is a VP model; use the VP SDE with it, or the oracle score",
        ));
    }
    let limit = VpSde::from_schedule(&vp.schedule().config)?;
    Ok(match kind {
        SdeKind::Vp => (Box::new(limit), 1e-3),
        SdeKind::SubVp => (
            Box::new(SubVpSde::new(limit.beta_min, limit.beta_max)?),
            1e-3,
        ),
        SdeKind::Ve => (
            Box::new(VeSde::new(0.01, ve_sigma_max(data_points)?)?),
            1e-5,
        ),
    })
}

impl Default for SamplerSpec {
    fn default() -> Self {
        Self::Ancestral {
            variance: PosteriorVariance::BetaTilde,
        }
    }
}
