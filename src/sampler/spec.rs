//! A sampler named by data: which sampler, its options and the score source, as one
//! serialisable value (the page's controls and URL hash map onto it one to one).

use serde::{Deserialize, Serialize};

use super::{
    AncestralSampler, AnnealedLangevin, Churn, DdimEnd, DdimSampler, DpmSolverSampler, EdmMethod,
    EdmSampler, EulerMaruyama, LangevinSampler, OdeMethod, PosteriorVariance, PredictorCorrector,
    ProbabilityFlowOde, Sampler, StartAt, TimestepSpacing,
};
use crate::data::GaussianMixture;
use crate::error::{Error, Result};
use crate::noise;
use crate::process::{
    sigma_max_from_data, DiscreteProcess, FlowSde, NoiseLevel, ProcessConfig, Sde, SubVpSde,
    VeConfig, VeSde, VpProcess, VpSde,
};

/// Where the score comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ScoreSource {
    /// The network trained in this session, through its parameterisation.
    #[default]
    Learned,
    /// The exact score of the data mixture's perturbed marginal.
    Oracle,
    /// A model trained ahead of time (the page's shipped weights).
    Pretrained,
}

impl ScoreSource {
    /// A network conditioned on one process's levels (not the oracle, which knows every marginal).
    pub fn is_network(self) -> bool {
        self != Self::Oracle
    }
}

/// The forward SDE of the continuous samplers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum SdeKind {
    /// VP (Song et al. 2021, eq. 11): the continuous limit of a linear DDPM schedule.
    #[default]
    Vp,
    /// Same β(t), variance below VP's (eq. 16).
    SubVp,
    /// σ(t) geometric (eq. 30): the VE process's range, or from 0.01 to NCSNv2's σ_max.
    Ve,
    /// Flow matching's linear path (`a = 1-t`, `s = t`): its reverse SDE is singular at
    /// `t = 1`, so only the probability-flow ODE walks it.
    Flow,
}

/// Every sampler with its own options.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum SamplerSpec {
    /// DDPM Algorithm 2 over all T steps; `clip` bounds x̂₀ to `[-c, c]` (diffusers'
    /// `clip_sample`).
    Ancestral {
        variance: PosteriorVariance,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        clip: Option<f64>,
    },
    /// DDIM on `steps` of the T steps, η ∈ [0, 1], its last step landing on `end`.
    Ddim {
        steps: usize,
        eta: f64,
        spacing: TimestepSpacing,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        clip: Option<f64>,
        #[serde(default)]
        end: DdimEnd,
    },
    /// Fixed-step Langevin dynamics on the least noisy score: the data score for the oracle, the
    /// network's t = 0 for the learned model.
    Langevin { steps: usize, step_size: f64 },
    /// NCSN's annealed Langevin over the VE process's levels, or for the oracle on another
    /// process over `levels` VE levels from σ_max (None: NCSNv2's rule on 2000 data points) down
    /// to σ_min.
    AnnealedLangevin {
        levels: usize,
        n_per_level: usize,
        step_size: f64,
        sigma_min: f64,
        sigma_max: Option<f64>,
    },
    /// Euler–Maruyama on the reverse SDE. The continuous samplers end at `t_end` (None:
    /// score_sde's ε, [`SdeKind::t_end`]).
    EulerMaruyama {
        steps: usize,
        process: SdeKind,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        t_end: Option<f64>,
    },
    /// Reverse-diffusion predictor + Langevin corrector at signal-to-noise `snr`.
    Pc {
        steps: usize,
        snr: f64,
        corrector_steps: usize,
        process: SdeKind,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        t_end: Option<f64>,
    },
    /// The probability-flow ODE.
    Ode {
        steps: usize,
        method: OdeMethod,
        process: SdeKind,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        t_end: Option<f64>,
    },
    /// DPM-Solver++ multistep of order 1, 2 (2M) or 3 (3M) in `steps` steps on the process's
    /// marginals.
    DpmSolverPp { steps: usize, order: usize },
    /// EDM's sampler on Karras σ (exponent `rho`) between the process's ends, Heun or Euler,
    /// with stochastic churn (`s_tmax` None: no upper bound).
    Edm {
        steps: usize,
        rho: f64,
        method: EdmMethod,
        s_churn: f64,
        s_tmin: f64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        s_tmax: Option<f64>,
        s_noise: f64,
    },
}

impl SamplerSpec {
    /// The length of the sampler's grid of times or levels, the tables it may build: its steps
    /// (ancestral: the process's T, checked with the process).
    pub fn grid_len(&self) -> usize {
        match *self {
            Self::Ancestral { .. } => 0,
            Self::AnnealedLangevin {
                levels,
                n_per_level,
                ..
            } => levels.saturating_mul(n_per_level),
            Self::Ddim { steps, .. }
            | Self::Langevin { steps, .. }
            | Self::EulerMaruyama { steps, .. }
            | Self::Ode { steps, .. }
            | Self::DpmSolverPp { steps, .. }
            | Self::Edm { steps, .. } => steps,
            Self::Pc {
                steps,
                corrector_steps,
                ..
            } => steps.saturating_mul(corrector_steps.saturating_add(1)),
        }
    }

    /// Parse the JSON form, e.g. `{"kind": "ddim", "steps": 50, "eta": 0, "spacing": "leading"}`.
    pub fn from_json(text: &str) -> Result<Self> {
        serde_json::from_str(text)
            .map_err(|e| Error::invalid(format!("not a sampler description: {e}")))
    }

    /// Build the sampler on DDPM's VP chain `vp` (see [`SamplerSpec::build_on`]); `data` is the
    /// mixture, for the oracle's VE range.
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
        self.build_on(&vp.clone().into(), source, data_points, seed)
    }

    /// The same sampler with DDIM's steps cut to `t`, the process's number of steps, and
    /// DPM-Solver++'s to `t - 1` (the page keeps one setting across processes of different
    /// lengths).
    pub fn at_most(self, t: usize) -> Self {
        match self {
            Self::Ddim {
                steps,
                eta,
                spacing,
                clip,
                end,
            } => Self::Ddim {
                steps: steps.min(t),
                eta,
                spacing,
                clip,
                end,
            },
            Self::DpmSolverPp { steps, order } => Self::DpmSolverPp {
                steps: steps.min(t.saturating_sub(1).max(1)),
                order,
            },
            other => other,
        }
    }

    /// The same sampler as an image model's scheduler config asks: x̂₀ clipped to `[-c, c]`
    /// with `clip` where the spec names no bound of its own (only the discrete walks clip), and
    /// DDIM's [`DdimEnd::Auto`] ending where the scheduler says (`set_alpha_to_one`).
    pub fn under_scheduler(self, clip: Option<f64>, end: DdimEnd) -> Self {
        match self {
            Self::Ancestral {
                variance,
                clip: None,
            } => Self::Ancestral { variance, clip },
            Self::Ddim {
                steps,
                eta,
                spacing,
                clip: own,
                end: own_end,
            } => Self::Ddim {
                steps,
                eta,
                spacing,
                clip: own.or(clip),
                end: if own_end == DdimEnd::Auto {
                    end
                } else {
                    own_end
                },
            },
            other => other,
        }
    }

    /// Why this sampler cannot run on `process` with `source`, if it cannot. A network knows the
    /// score only at its process's levels: DDPM ancestral sampling needs the discrete VP chain,
    /// annealed Langevin VE levels, an SDE sampler the SDE whose discretisation the process is.
    /// The oracle knows every marginal, so only ancestral sampling's need of a VP chain binds it.
    pub fn support(&self, process: &ProcessConfig, source: ScoreSource) -> Result<()> {
        let name = process.name();
        let model = || format!("this is a {name} model");
        match *self {
            Self::Ancestral { .. } if !matches!(process, ProcessConfig::Vp { .. }) => {
                Err(Error::invalid(format!(
                    "DDPM ancestral sampling walks the discrete VP chain (its β_t), and the {name} process has none: choose the VP process, or DDIM, which runs on any process"
                )))
            }
            Self::AnnealedLangevin { .. }
                if source.is_network() && !matches!(process, ProcessConfig::Ve(_)) =>
            {
                Err(Error::invalid(format!(
                    "annealed Langevin needs the score at NCSN's VE levels, and {}: choose the VE process, or the oracle score",
                    model()
                )))
            }
            Self::EulerMaruyama {
                process: SdeKind::Flow,
                ..
            }
            | Self::Pc {
                process: SdeKind::Flow,
                ..
            } => Err(Error::invalid(
                "the flow path's reverse SDE is singular at t = 1 (g² = 2t/(1-t)): walk its probability-flow ODE (the ODE sampler), DDIM, DPM-Solver++ or EDM",
            )),
            Self::EulerMaruyama { process: kind, .. }
            | Self::Pc { process: kind, .. }
            | Self::Ode { process: kind, .. }
                if source.is_network() =>
            {
                if SdeKind::of(process) != Some(kind) {
                    return Err(Error::invalid(format!(
                        "the {} SDE needs a model of its own process, and {}: choose the {name} SDE, or the oracle score",
                        kind.name(),
                        model()
                    )));
                }
                process.sde().map(|_| ())
            }
            Self::DpmSolverPp { .. } | Self::Edm { .. } => {
                let built = process.build()?;
                if matches!(self, Self::Edm { .. }) {
                    built.sigma_range()?;
                } else if crate::process::Process::num_steps(&built) < 2 {
                    return Err(Error::invalid(format!(
                        "DPM-Solver++ steps between noise levels, and the {name} process has one level"
                    )));
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// Build the sampler on `process` for `source` (checked by [`SamplerSpec::support`]; DDIM
    /// takes at most the process's T steps, [`SamplerSpec::at_most`]): a
    /// network trained on `process`, or the oracle, which walks the same marginals where the
    /// sampler has them and its own otherwise (VE levels sized from `data_points` by NCSNv2's
    /// technique 1, the default VP and sub-VP SDEs).
    pub fn build_on(
        &self,
        process: &DiscreteProcess,
        source: ScoreSource,
        data_points: impl FnOnce() -> Result<(Vec<f32>, usize)>,
        seed: u64,
    ) -> Result<Box<dyn Sampler>> {
        crate::budget::check_tables(&format!("the {} sampler", self.kind()), self.grid_len())?;
        let t = crate::process::Process::num_steps(process);
        if self.clone().at_most(t) != *self {
            return self
                .clone()
                .at_most(t)
                .build_on(process, source, data_points, seed);
        }
        let config = process.config();
        self.support(&config, source)?;
        let network = source.is_network();
        Ok(match *self {
            Self::Ancestral { .. } | Self::Ddim { .. } => match self.discrete(process, seed)? {
                Discrete::Ancestral(s) => Box::new(s),
                Discrete::Ddim(s) => Box::new(s),
            },
            Self::Langevin { steps, step_size } => {
                let level = if network {
                    NoiseLevel::step(process, 0)
                } else {
                    NoiseLevel::data()
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
                let ladder = match process.as_ve() {
                    Some(ve) => ve.clone(),
                    None => {
                        let sigma_max = match sigma_max {
                            Some(s) => s,
                            None => ve_sigma_max(data_points)?,
                        };
                        VeConfig {
                            sigma_min,
                            sigma_max,
                            levels,
                        }
                        .build()?
                    }
                };
                Box::new(AnnealedLangevin::new(ladder, n_per_level, step_size, seed)?)
            }
            Self::EulerMaruyama {
                steps,
                process: kind,
                t_end,
            } => {
                let (sde, eps) = sde(kind, &config, data_points)?;
                Box::new(EulerMaruyama::new(sde, steps, t_end.unwrap_or(eps), seed)?)
            }
            Self::Pc {
                steps,
                snr,
                corrector_steps,
                process: kind,
                t_end,
            } => {
                let (sde, eps) = sde(kind, &config, data_points)?;
                Box::new(PredictorCorrector::new(
                    sde,
                    steps,
                    t_end.unwrap_or(eps),
                    snr,
                    corrector_steps,
                    seed,
                )?)
            }
            Self::Ode {
                steps,
                method,
                process: kind,
                t_end,
            } => {
                let (sde, eps) = sde(kind, &config, data_points)?;
                Box::new(ProbabilityFlowOde::new(
                    sde,
                    steps,
                    t_end.unwrap_or(eps),
                    method,
                    seed,
                )?)
            }
            Self::DpmSolverPp { steps, order } => {
                Box::new(DpmSolverSampler::new(process.clone(), steps, order, seed)?)
            }
            Self::Edm {
                steps,
                rho,
                method,
                s_churn,
                s_tmin,
                s_tmax,
                s_noise,
            } => Box::new(EdmSampler::new(
                process.clone(),
                steps,
                rho,
                method,
                Churn {
                    s_churn,
                    s_tmin,
                    s_tmax: s_tmax.unwrap_or(f64::INFINITY),
                    s_noise,
                },
                seed,
            )?),
        })
    }

    /// The discrete walks that can join the chain partway down (SDEdit, [`StartAt`]): ancestral
    /// sampling on a VP chain, DDIM on any process.
    pub fn build_start_at(&self, process: &DiscreteProcess, seed: u64) -> Result<Box<dyn StartAt>> {
        Ok(match self.discrete(process, seed)? {
            Discrete::Ancestral(s) => Box::new(s),
            Discrete::Ddim(s) => Box::new(s),
        })
    }

    fn discrete(&self, process: &DiscreteProcess, seed: u64) -> Result<Discrete> {
        match *self {
            Self::Ancestral { variance, clip } => {
                if let Some(c) = clip {
                    super::check_positive("the clip bound", c)?;
                }
                let vp = process.as_vp().ok_or_else(|| {
                    Error::invalid(format!(
                        "DDPM ancestral sampling walks the discrete VP chain, and the {} process has none",
                        process.config().name()
                    ))
                })?;
                Ok(Discrete::Ancestral(AncestralSampler::new(
                    vp.clone(),
                    variance,
                    clip,
                    seed,
                )))
            }
            Self::Ddim {
                steps,
                eta,
                spacing,
                clip,
                end,
            } => Ok(Discrete::Ddim(
                DdimSampler::on_process(process.clone(), steps, spacing, eta, clip, seed)?
                    .with_end(end),
            )),
            _ => Err(Error::invalid(format!(
                "only DDPM ancestral sampling and DDIM walk a discrete chain from a chosen step, not {}",
                self.kind()
            ))),
        }
    }

    /// The sampler for a network that learned one score, at `level` (an objective on one level:
    /// ESM, ISM, SSM on the data itself, DSM at one σ; [`crate::score::Objective::noise_free_level`]):
    /// only plain Langevin dynamics, on that score.
    pub fn build_noise_free(&self, level: NoiseLevel, seed: u64) -> Result<Box<dyn Sampler>> {
        crate::budget::check_tables(&format!("the {} sampler", self.kind()), self.grid_len())?;
        match *self {
            Self::Langevin { steps, step_size } => Ok(Box::new(LangevinSampler::new(
                level,
                step_size,
                steps,
                seed,
            )?)),
            _ => Err(Error::invalid(format!(
                "this network learned one noise-free score (it knows only the data score), so it drives plain Langevin dynamics only, not {}",
                self.kind()
            ))),
        }
    }

    /// Image mode's first sampler: DDIM, 50 steps where ancestral takes T (Song et al. 2021a).
    pub const IMAGE_DEFAULT: &'static str = "ddim";

    /// Whether the sampler can join a discrete chain at any step ([`SamplerSpec::build_start_at`]):
    /// what image mode and SDEdit run.
    pub fn starts_at(&self) -> bool {
        matches!(self, Self::Ancestral { .. } | Self::Ddim { .. })
    }

    /// The catalogue name, the JSON's `kind`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Ancestral { .. } => "ancestral",
            Self::Ddim { .. } => "ddim",
            Self::Langevin { .. } => "langevin",
            Self::AnnealedLangevin { .. } => "annealed_langevin",
            Self::EulerMaruyama { .. } => "euler_maruyama",
            Self::Pc { .. } => "pc",
            Self::Ode { .. } => "ode",
            Self::DpmSolverPp { .. } => "dpm_solver_pp",
            Self::Edm { .. } => "edm",
        }
    }

    /// Every sampler with its default options, in the catalogue's order: the one place the
    /// defaults are written (the CLI's flags and the page's controls start from them).
    pub fn defaults() -> Vec<Self> {
        vec![
            Self::Ancestral {
                variance: PosteriorVariance::BetaTilde,
                clip: None,
            },
            Self::Ddim {
                steps: 50,
                eta: 0.0,
                spacing: TimestepSpacing::Leading,
                clip: None,
                end: DdimEnd::Auto,
            },
            Self::Langevin {
                steps: 500,
                step_size: 0.05,
            },
            Self::AnnealedLangevin {
                levels: 10,
                n_per_level: 50,
                step_size: 0.005,
                sigma_min: 0.1,
                sigma_max: None,
            },
            Self::EulerMaruyama {
                steps: 500,
                process: SdeKind::Vp,
                t_end: None,
            },
            Self::Pc {
                steps: 500,
                snr: 0.16,
                corrector_steps: 1,
                process: SdeKind::Vp,
                t_end: None,
            },
            Self::Ode {
                steps: 100,
                method: OdeMethod::Heun,
                process: SdeKind::Vp,
                t_end: None,
            },
            Self::DpmSolverPp {
                steps: 20,
                order: 2,
            },
            // EDM's deterministic sampler with its CIFAR-10 N = 18 (35 network calls).
            Self::Edm {
                steps: 18,
                rho: 7.0,
                method: EdmMethod::Heun,
                s_churn: 0.0,
                s_tmin: 0.0,
                s_tmax: None,
                s_noise: 1.0,
            },
        ]
    }

    /// The sampler named `kind` with its default options.
    /// The first sampler, in the catalogue's order, that a network trained on `process` drives
    /// (ancestral on VP, DDIM elsewhere): the CLI's training figures use it.
    pub fn default_for(process: &ProcessConfig) -> Self {
        Self::defaults()
            .into_iter()
            .find(|s| s.support(process, ScoreSource::Learned).is_ok())
            .unwrap_or_else(|| Self::defaults().remove(1))
    }

    pub fn default_of(kind: &str) -> Result<Self> {
        Self::defaults()
            .into_iter()
            .find(|s| s.kind() == kind)
            .ok_or_else(|| {
                let names: Vec<_> = Self::defaults().iter().map(|s| s.kind()).collect();
                Error::invalid(format!(
                    "unknown sampler '{kind}' (expected one of {})",
                    names.join(", ")
                ))
            })
    }

    /// The sampler named `kind` with `options` (JSON values by option name) over its defaults; an
    /// option the sampler does not have is an error that names the ones it has.
    pub fn with_options(
        kind: &str,
        options: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<Self> {
        let base = Self::default_of(kind)?;
        let serde_json::Value::Object(mut fields) =
            serde_json::to_value(&base).map_err(|e| Error::invalid(e.to_string()))?
        else {
            unreachable!("a sampler serialises to an object")
        };
        let own = crate::catalogue::sampler_options(kind);
        for (key, value) in options {
            if !own.contains(&key.as_str()) {
                return Err(Error::invalid(format!(
                    "the {kind} sampler has no option '{key}' (its options: {})",
                    own.join(", ")
                )));
            }
            fields.insert(key.clone(), value.clone());
        }
        Self::from_json(&serde_json::Value::Object(fields).to_string())
    }
}

/// The two walks of [`SamplerSpec::build_start_at`], before they are boxed.
enum Discrete {
    Ancestral(AncestralSampler),
    Ddim(DdimSampler),
}

/// The data points of [`SamplerSpec::build_on`] where none are at hand: only the oracle's VE
/// levels on another process are sized from data, and those need them.
pub fn no_data() -> Result<(Vec<f32>, usize)> {
    Err(Error::invalid(
        "this sampler sizes its VE levels from the data, and none are at hand: give σ_max",
    ))
}

/// NCSNv2's σ_max (Technique 1) on the data points `data_points` returns.
fn ve_sigma_max(data_points: impl FnOnce() -> Result<(Vec<f32>, usize)>) -> Result<f64> {
    let (pts, d) = data_points()?;
    sigma_max_from_data(&pts, d)
}

/// The SDE of `kind` and its end time ε (score_sde's defaults: 1e-3 for VP and sub-VP, 1e-5 for
/// VE): the continuous limit of `process` where it is of that kind and has one, else the
/// defaults (β from 0.1 to 20; σ from 0.01 to NCSNv2's σ_max on the data).
fn sde(
    kind: SdeKind,
    process: &ProcessConfig,
    data_points: impl FnOnce() -> Result<(Vec<f32>, usize)>,
) -> Result<(Box<dyn Sde>, f64)> {
    let eps = kind.t_end();
    if SdeKind::of(process) == Some(kind) {
        if let Ok(sde) = process.sde() {
            return Ok((sde, eps));
        }
    }
    Ok(match kind {
        SdeKind::Vp => (Box::new(VpSde::default()), eps),
        SdeKind::SubVp => (Box::new(SubVpSde::default()), eps),
        SdeKind::Ve => (Box::new(VeSde::new(0.01, ve_sigma_max(data_points)?)?), eps),
        SdeKind::Flow => (Box::new(FlowSde), eps),
    })
}

impl SdeKind {
    /// The SDE a discrete process discretises.
    pub fn of(process: &ProcessConfig) -> Option<Self> {
        match process {
            ProcessConfig::Vp { .. } => Some(Self::Vp),
            ProcessConfig::SubVp { .. } => Some(Self::SubVp),
            ProcessConfig::Ve(_) => Some(Self::Ve),
            ProcessConfig::Flow { .. } => Some(Self::Flow),
        }
    }

    /// score_sde's end time ε: 1e-3 for VP and sub-VP, 1e-5 for VE; 1e-5 for the flow path too,
    /// whose ODE `(x - D)/t` is a velocity network's own output there, with no `1/s` to amplify.
    pub fn t_end(self) -> f64 {
        match self {
            Self::Ve | Self::Flow => 1e-5,
            _ => 1e-3,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Vp => "VP",
            Self::SubVp => "sub-VP",
            Self::Ve => "VE",
            Self::Flow => "flow",
        }
    }
}

impl Default for SamplerSpec {
    fn default() -> Self {
        Self::defaults().remove(0)
    }
}
