//! `dplay sample`: any sampler by name, driven by a trained model or the exact mixture score.

use std::path::{Path, PathBuf};

use burn::prelude::*;
use clap::{Args, ValueEnum};
use indicatif::ProgressBar;

use diffusion_playground::bundle;
use diffusion_playground::data::{GaussianMixture, MixtureScore};
use diffusion_playground::error::{Error, Result};
use diffusion_playground::io::npy;
use diffusion_playground::model::unet::scheduler::read_schedule;
use diffusion_playground::model::unet::{is_diffusers_dir, UNet2D, UNetScore};
use diffusion_playground::model::{NetworkScore, Parameterization, ScoreModel};
use diffusion_playground::noise;
use diffusion_playground::process::{
    sigma_max_from_data, NoiseLevel, Process, Sde, SubVpSde, VeConfig, VeSde, VpProcess, VpSde,
};
use diffusion_playground::sampler::{
    AncestralSampler, AnnealedLangevin, DdimSampler, EulerMaruyama, LangevinSampler, OdeMethod,
    PosteriorVariance, PredictorCorrector, ProbabilityFlowOde, Sampler, TimestepSpacing,
};
use diffusion_playground::schedule::{BetaSchedule, ScheduleConfig};
use diffusion_playground::score::Objective;

use super::predict::{load_unet, read_images};
use super::{check_writable_file, device, DeviceArg, VarianceArg};

/// Where the score comes from.
#[derive(Clone, Copy, ValueEnum, PartialEq, Debug)]
enum ScoreArg {
    /// The exact score of the --data mixture's perturbed marginal.
    Oracle,
    /// The trained ε-network in --model.
    Model,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Debug)]
enum SamplerArg {
    /// DDPM ancestral sampling (Ho et al. 2020, Algorithm 2).
    Ancestral,
    /// DDIM with --eta and --spacing (Song et al. 2021).
    Ddim,
    /// Langevin dynamics with a fixed step --eps on the data score.
    Langevin,
    /// NCSN's annealed Langevin dynamics over VE levels, --n-per-level steps each.
    AnnealedLangevin,
    /// Euler–Maruyama on the reverse SDE of --process.
    EulerMaruyama,
    /// Reverse-diffusion predictor + Langevin corrector with --snr.
    Pc,
    /// Probability-flow ODE, Euler steps.
    OdeEuler,
    /// Probability-flow ODE, Heun steps.
    OdeHeun,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Debug)]
pub(crate) enum ProcessArg {
    /// Variance preserving: DDPM (discrete) and its SDE limit (continuous).
    Vp,
    /// Variance exploding: NCSN's levels (discrete) and its SDE (continuous).
    Ve,
    /// Sub-VP SDE (continuous only).
    SubVp,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Debug)]
enum SpacingArg {
    Leading,
    Trailing,
    Linspace,
}

impl From<SpacingArg> for TimestepSpacing {
    fn from(s: SpacingArg) -> Self {
        match s {
            SpacingArg::Leading => TimestepSpacing::Leading,
            SpacingArg::Trailing => TimestepSpacing::Trailing,
            SpacingArg::Linspace => TimestepSpacing::Linspace,
        }
    }
}

#[derive(Args)]
pub(crate) struct SampleArgs {
    /// A folder written by `dplay train` (its ε-network drives the sampler), or a diffusers
    /// UNet2DModel folder (ε-prediction on DDPM's linear schedule, T = 1000; images [n, c, h, w]).
    #[arg(long)]
    model: Option<PathBuf>,
    /// A mixture JSON whose exact perturbed score drives the sampler.
    #[arg(long)]
    data: Option<PathBuf>,
    /// The score source; default: model with --model, oracle with --data.
    #[arg(long, value_enum)]
    score: Option<ScoreArg>,
    #[arg(long, value_enum, default_value_t = SamplerArg::Ancestral)]
    sampler: SamplerArg,
    /// The process of the continuous samplers (euler-maruyama, pc, ode-*).
    #[arg(long, value_enum, default_value_t = ProcessArg::Vp)]
    process: ProcessArg,
    /// Sampling steps (ancestral with the oracle: T of the DDPM schedule; langevin: its steps).
    /// Defaults: ancestral 1000 (or the model's T), ddim 50, langevin 1000, euler-maruyama and
    /// pc 1000, ode-euler 500, ode-heun 100.
    #[arg(long)]
    steps: Option<usize>,
    /// Langevin step size ε (langevin: default 0.1; annealed-langevin: α_i = ε σ_i²/σ_L²,
    /// default 0.005).
    #[arg(long, allow_negative_numbers = true)]
    eps: Option<f64>,
    /// Steps per noise level of annealed Langevin.
    #[arg(long, default_value_t = 100)]
    n_per_level: usize,
    /// Signal-to-noise ratio of the PC corrector.
    #[arg(long, default_value_t = 0.16, allow_negative_numbers = true)]
    snr: f64,
    /// Langevin corrector steps per PC step.
    #[arg(long, default_value_t = 1)]
    corrector_steps: usize,
    /// DDIM's η (0 deterministic, 1 DDPM-like).
    #[arg(long, default_value_t = 0.0, allow_negative_numbers = true)]
    eta: f64,
    /// DDIM timestep spacing.
    #[arg(long, value_enum, default_value_t = SpacingArg::Leading)]
    spacing: SpacingArg,
    /// End time ε of the continuous samplers (default 1e-3 for VP and sub-VP, 1e-5 for VE).
    #[arg(long, allow_negative_numbers = true)]
    t_end: Option<f64>,
    /// VE: smallest σ (default 0.01; 0.1 for annealed-langevin).
    #[arg(long, allow_negative_numbers = true)]
    sigma_min: Option<f64>,
    /// VE: largest σ (default: the largest distance between 2000 data points, NCSNv2's rule).
    #[arg(long, allow_negative_numbers = true)]
    sigma_max: Option<f64>,
    /// VE: number of levels of annealed Langevin (default 10; a trained NCSN model's own).
    #[arg(long)]
    levels: Option<usize>,
    /// VP and sub-VP SDEs: β(t) from beta-min to beta-max (with the oracle, the discrete VP chain
    /// of ancestral and ddim uses β_i from beta-min/T to beta-max/T).
    #[arg(long, default_value_t = 0.1, allow_negative_numbers = true)]
    beta_min: f64,
    #[arg(long, default_value_t = 20.0, allow_negative_numbers = true)]
    beta_max: f64,
    /// Number of samples (default 10000 points or 16 images, or the rows of --init).
    #[arg(long)]
    n: Option<usize>,
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Starting points x_T, a float32 .npy [n, d], or [n, c, h, w] for a UNet (default: the
    /// sampler's prior).
    #[arg(long)]
    init: Option<PathBuf>,
    /// Output .npy (float32, [n, d], or [n, c, h, w] for a UNet).
    #[arg(long)]
    out: PathBuf,
    /// Reverse-step variance σ_t² of ancestral sampling.
    #[arg(long, value_enum, default_value_t = VarianceArg::BetaTilde)]
    variance: VarianceArg,
    /// Clip x̂₀ to [-c, c] at each step (ancestral, ddim). With a diffusers UNet the default is
    /// 1, as diffusers' schedulers' `clip_sample=True`.
    #[arg(long)]
    clip: Option<f64>,
    /// Never clip x̂₀ (diffusers' `clip_sample=False`).
    #[arg(long, conflicts_with = "clip")]
    no_clip: bool,
    #[arg(long, value_enum, default_value_t = DeviceArg::Flex)]
    device: DeviceArg,
}

/// Where the score comes from: the exact mixture oracle or a trained network.
enum Source {
    Oracle(MixtureScore),
    Model {
        net: Box<diffusion_playground::model::Mlp>,
        schedule: ScheduleConfig,
        objective: Objective,
        parameterization: Parameterization,
        dim: usize,
    },
    /// A diffusers UNet2DModel: ε-prediction on images `[c, h, w]`, flattened for the samplers.
    UNet {
        net: Box<UNet2D>,
        image: [usize; 3],
        /// From the folder's scheduler_config.json, else DDPM's.
        schedule: ScheduleConfig,
    },
}

impl Source {
    /// The trained model's objective, if the score comes from a model.
    fn objective(&self) -> Option<Objective> {
        match self {
            Source::Model { objective, .. } => Some(*objective),
            // A diffusers UNet2DModel is a DDPM ε-network.
            Source::UNet { .. } => Some(Objective::Ddpm),
            Source::Oracle(_) => None,
        }
    }
}

/// The samplers a model trained with `objective` can drive, for error messages.
fn model_samplers(objective: Objective) -> &'static str {
    match objective {
        Objective::Ddpm => {
            "ancestral, ddim, langevin, and euler-maruyama, pc, ode-* with --process vp"
        }
        Objective::Ncsn(_) => {
            "annealed-langevin, langevin, and euler-maruyama, pc, ode-* with --process ve"
        }
        _ => "langevin (the network knows only the data score)",
    }
}

fn unsupported(objective: Objective, sampler: SamplerArg) -> Error {
    let name = sampler
        .to_possible_value()
        .map(|v| v.get_name().to_string())
        .unwrap_or_default();
    Error::invalid(format!(
        "the model was trained with the {} objective and cannot drive --sampler {name}; it supports {}",
        objective.name(),
        model_samplers(objective)
    ))
}

/// Rules that need no file: checked before any work.
fn validate_sample_args(a: &SampleArgs) -> Result<()> {
    if a.n == Some(0) {
        return Err(Error::invalid("--n must be at least 1"));
    }
    if a.steps == Some(0) {
        return Err(Error::invalid("--steps must be at least 1"));
    }
    if let Some(e) = a.eps {
        if !(e > 0.0 && e.is_finite()) {
            return Err(Error::invalid(format!(
                "--eps (the Langevin step size) must be positive, got {e}"
            )));
        }
    }
    if let (Some(lo), Some(hi)) = (a.sigma_min, a.sigma_max) {
        if lo.is_nan() || hi.is_nan() || lo >= hi {
            return Err(Error::invalid(format!(
                "need --sigma-min < --sigma-max, got sigma_min {lo} >= sigma_max {hi}"
            )));
        }
    }
    if let Some(c) = a.clip {
        if c.is_nan() || c <= 0.0 {
            return Err(Error::invalid(format!("--clip must be positive, got {c}")));
        }
    }
    Ok(())
}

/// `--init`: a finite float32 `[n, d]` array whose `d` matches the data.
fn read_init(path: &Path, d: usize) -> Result<(Vec<f32>, usize)> {
    let (x, shape) = npy::read_f32(path)?;
    let shown = path.display();
    if shape.len() != 2 || shape[0] == 0 {
        return Err(Error::invalid(format!(
            "--init {shown} has shape {shape:?}; expected [n, {d}] with n ≥ 1"
        )));
    }
    if shape[1] != d {
        return Err(Error::invalid(format!(
            "--init {shown} has shape {shape:?}: {} columns, but the data have dimension {d}",
            shape[1]
        )));
    }
    if let Some(i) = x.iter().position(|v| !v.is_finite()) {
        return Err(Error::invalid(format!(
            "--init {shown} holds a non-finite value ({}) in row {}; x_T must be finite",
            x[i],
            i / d
        )));
    }
    Ok((x, shape[0]))
}

pub(crate) fn sample(a: SampleArgs) -> Result<()> {
    validate_sample_args(&a)?;
    check_writable_file(&a.out)?;
    let device = device(a.device)?;
    let kind =
        match (a.score, &a.model, &a.data) {
            (Some(s), _, _) => s,
            (None, Some(_), None) => ScoreArg::Model,
            (None, None, Some(_)) => ScoreArg::Oracle,
            (None, Some(_), Some(_)) => {
                return Err(Error::invalid(
                    "both --model and --data given; choose one with --score model|oracle",
                ))
            }
            (None, None, None) => return Err(Error::invalid(
                "give --model DIR (a trained network) or --data FILE.json (the exact oracle score)",
            )),
        };
    let source = match kind {
        ScoreArg::Oracle => {
            let path = a
                .data
                .as_ref()
                .ok_or_else(|| Error::invalid("--score oracle needs --data FILE.json"))?;
            Source::Oracle(MixtureScore::new(GaussianMixture::from_file(path)?))
        }
        ScoreArg::Model => {
            let dir = a
                .model
                .as_ref()
                .ok_or_else(|| Error::invalid("--score model needs --model DIR"))?;
            if is_diffusers_dir(dir) {
                let net = load_unet(dir, &device)?;
                let image = unet_image(&a, &net)?;
                Source::UNet {
                    net: Box::new(net),
                    image,
                    schedule: read_schedule(dir)?,
                }
            } else {
                let (net, card) = bundle::load(dir, &device)?;
                if let Objective::OnProcess { process, .. } = card.train.objective {
                    return Err(Error::invalid(format!(
                        "{} was trained with the {} objective at every level of the {} process, as the page trains; dplay sample drives DDPM, NCSN and noise-free score models",
                        dir.display(),
                        card.train.objective.name(),
                        process.describe()
                    )));
                }
                Source::Model {
                    net: Box::new(net),
                    schedule: card.train.schedule,
                    objective: card.train.objective,
                    parameterization: card.parameterization,
                    dim: card.train.model.dim,
                }
            }
        }
    };
    let (d, out_shape) = match &source {
        Source::Oracle(o) => (o.mixture().dim(), vec![o.mixture().dim()]),
        Source::Model { dim, .. } => (*dim, vec![*dim]),
        Source::UNet { image, .. } => (image.iter().product(), image.to_vec()),
    };
    let init = match (&source, a.init.as_deref()) {
        (Source::UNet { .. }, Some(p)) => {
            let (x, [rows, ..]) = read_images("--init", p)?;
            Some((x, rows))
        }
        (_, p) => p.map(|p| read_init(p, d)).transpose()?,
    };
    let n = match (&init, a.n) {
        (Some((_, rows)), Some(n)) if *rows != n => {
            return Err(Error::invalid(format!(
                "--n {n} disagrees with the {rows} rows of --init"
            )))
        }
        (Some((_, rows)), _) => *rows,
        (None, n) => n.unwrap_or(match source {
            Source::UNet { .. } => 16,
            _ => 10_000,
        }),
    };
    let model: Box<dyn ScoreModel + '_> = match &source {
        Source::Oracle(o) => Box::new(o.clone()),
        Source::Model {
            net,
            schedule,
            objective,
            parameterization,
            ..
        } => {
            // The network's conditioning input counts DDPM steps or NCSN levels.
            let steps = match objective {
                Objective::Ncsn(ve) => ve.levels,
                Objective::Ddpm => schedule.steps,
                _ => 1,
            };
            Box::new(NetworkScore::new(net, *parameterization, steps))
        }
        Source::UNet {
            net,
            image,
            schedule,
        } => Box::new(UNetScore::new(net, *image, schedule.steps)),
    };
    let mut sampler = build_sampler(&a, &source)?;
    match init {
        Some((x, rows)) => sampler.reset(Tensor::from_data(TensorData::new(x, [rows, d]), &device)),
        None => sampler.reset_from_prior(n, d, &device),
    }
    let bar = ProgressBar::new(sampler.remaining() as u64);
    while !sampler.done() {
        sampler.step(model.as_ref())?;
        bar.inc(1);
    }
    bar.finish_and_clear();
    let x = sampler.current().expect("reset above").clone();
    let values = x
        .into_data()
        .try_into_vec::<f32>()
        .map_err(|e| Error::Device(format!("{e:?}")))?;
    if let Some(i) = values.iter().position(|v| !v.is_finite()) {
        return Err(Error::invalid(format!(
            "the sampler diverged (a non-finite value in row {}); use more --steps or a smaller step",
            i / d
        )));
    }
    let shape: Vec<usize> = std::iter::once(n).chain(out_shape).collect();
    npy::write_f32(&a.out, &values, &shape)?;
    println!(
        "wrote {n} samples ({:?} sampler) to {}",
        a.sampler,
        a.out.display()
    );
    Ok(())
}

/// The VE noise range: flags, else σ_min = 0.01 (0.1 for annealed Langevin, whose top step
/// `ε σ_1²/σ_L²` must stay below `4σ_1²`, i.e. `ε < 4σ_L²`) and σ_max by NCSNv2's rule on 2000
/// data points.
fn ve_range(a: &SampleArgs, source: &Source) -> Result<(f64, f64)> {
    if let Some(Objective::Ncsn(ve)) = source.objective() {
        if a.sigma_min.is_some() || a.sigma_max.is_some() {
            return Err(Error::invalid(format!(
                "the NCSN model was trained on σ from {} to {}; drop --sigma-min/--sigma-max",
                ve.sigma_min, ve.sigma_max
            )));
        }
        return Ok((ve.sigma_min, ve.sigma_max));
    }
    let sigma_min = a.sigma_min.unwrap_or(match a.sampler {
        SamplerArg::AnnealedLangevin => 0.1,
        _ => 0.01,
    });
    let sigma_max = match (a.sigma_max, source) {
        (Some(s), _) => s,
        (None, Source::Oracle(o)) => {
            let pts = o.mixture().sample(2000, &mut noise::rng(a.seed));
            sigma_max_from_data(&pts, o.mixture().dim())?
        }
        (None, _) => {
            return Err(Error::invalid(
                "a VE process with --model needs --sigma-max (the data are not at hand)",
            ))
        }
    };
    VeSde::new(sigma_min, sigma_max)?;
    Ok((sigma_min, sigma_max))
}

fn build_sampler(a: &SampleArgs, source: &Source) -> Result<Box<dyn Sampler>> {
    // The discrete VP process: the model's own, or for the oracle the VP SDE's own chain with T
    // steps, β_i linear from β_min/T to β_max/T (score_sde's `VPSDE.discrete_betas`; T = 1000 is
    // DDPM's 1e-4..0.02).
    let vp_schedule = match source {
        Source::Model { schedule, .. } => *schedule,
        // scheduler_config.json, else diffusers' defaults: linear β 1e-4..0.02, T = 1000.
        Source::UNet { schedule, .. } => *schedule,
        Source::Oracle(_) => {
            let steps = match a.sampler {
                SamplerArg::Ancestral => a.steps.unwrap_or(1000),
                _ => 1000,
            };
            ScheduleConfig {
                kind: BetaSchedule::Linear,
                steps,
                beta_start: a.beta_min / steps as f64,
                beta_end: a.beta_max / steps as f64,
            }
        }
    };
    let objective = source.objective();
    // Samplers on DDPM's discrete VP chain need an ε-network (or the oracle).
    let needs_ddpm = |sampler| match objective {
        Some(o) if o != Objective::Ddpm => Err(unsupported(o, sampler)),
        _ => Ok(()),
    };
    let clip = match (a.clip, a.no_clip, source) {
        (_, true, _) => None,
        (None, false, Source::UNet { .. }) => Some(1.0),
        (c, false, _) => c,
    };
    let variance = match a.variance {
        VarianceArg::Beta => PosteriorVariance::Beta,
        VarianceArg::BetaTilde => PosteriorVariance::BetaTilde,
    };
    let seed = a.seed;
    Ok(match a.sampler {
        SamplerArg::Ancestral => {
            needs_ddpm(a.sampler)?;
            let process = VpProcess::new(vp_schedule)?;
            if let Some(s) = a.steps {
                if s != process.num_steps() {
                    return Err(Error::invalid(format!(
                        "ancestral sampling walks all T = {} steps of the model; use --sampler ddim for {s}",
                        process.num_steps()
                    )));
                }
            }
            Box::new(AncestralSampler::new(process, variance, clip, seed))
        }
        SamplerArg::Ddim => Box::new(DdimSampler::new(
            needs_ddpm(a.sampler).and_then(|_| VpProcess::new(vp_schedule))?,
            a.steps.unwrap_or(50),
            a.spacing.into(),
            a.eta,
            clip,
            seed,
        )?),
        SamplerArg::Langevin => {
            // The least noisy level the network knows.
            let level = match objective {
                None => NoiseLevel::data(),
                Some(Objective::Ddpm) => NoiseLevel::step(&VpProcess::new(vp_schedule)?, 0),
                Some(Objective::Ncsn(ve)) => NoiseLevel::step(&ve.build()?, 0),
                Some(_) => NoiseLevel::data(),
            };
            Box::new(LangevinSampler::new(
                level,
                a.eps.unwrap_or(0.1),
                a.steps.unwrap_or(1000),
                seed,
            )?)
        }
        SamplerArg::AnnealedLangevin => {
            let levels = match objective {
                None => {
                    let (sigma_min, sigma_max) = ve_range(a, source)?;
                    VeConfig {
                        sigma_min,
                        sigma_max,
                        levels: a.levels.unwrap_or(10),
                    }
                    .build()?
                }
                // The levels the network was trained on, which its conditioning input counts.
                Some(Objective::Ncsn(ve)) => {
                    ve_range(a, source)?;
                    if a.levels.is_some_and(|l| l != ve.levels) {
                        return Err(Error::invalid(format!(
                            "the NCSN model was trained on {} levels; drop --levels",
                            ve.levels
                        )));
                    }
                    ve.build()?
                }
                Some(o) => return Err(unsupported(o, a.sampler)),
            };
            Box::new(AnnealedLangevin::new(
                levels,
                a.n_per_level,
                a.eps.unwrap_or(0.005),
                seed,
            )?)
        }
        SamplerArg::EulerMaruyama | SamplerArg::Pc | SamplerArg::OdeEuler | SamplerArg::OdeHeun => {
            // A DDPM network is the VP SDE's discretisation; an NCSN network's level index is the
            // VE SDE's `t·(L-1)`, since σ(t) = σ_min (σ_max/σ_min)^t passes through its levels.
            let sde: Box<dyn Sde> = match (a.process, objective) {
                (ProcessArg::Vp, Some(Objective::Ddpm)) => {
                    Box::new(VpSde::from_schedule(&vp_schedule)?)
                }
                (ProcessArg::Ve, Some(Objective::Ncsn(_))) | (ProcessArg::Ve, None) => {
                    let (lo, hi) = ve_range(a, source)?;
                    Box::new(VeSde::new(lo, hi)?)
                }
                (_, Some(o)) => return Err(unsupported(o, a.sampler)),
                (ProcessArg::Vp, None) => Box::new(VpSde::new(a.beta_min, a.beta_max)?),
                (ProcessArg::SubVp, None) => Box::new(SubVpSde::new(a.beta_min, a.beta_max)?),
            };
            let t_end = a.t_end.unwrap_or(match a.process {
                ProcessArg::Ve => 1e-5,
                _ => 1e-3,
            });
            match a.sampler {
                SamplerArg::EulerMaruyama => Box::new(EulerMaruyama::new(
                    sde,
                    a.steps.unwrap_or(1000),
                    t_end,
                    seed,
                )?),
                SamplerArg::Pc => Box::new(PredictorCorrector::new(
                    sde,
                    a.steps.unwrap_or(1000),
                    t_end,
                    a.snr,
                    a.corrector_steps,
                    seed,
                )?),
                SamplerArg::OdeEuler => Box::new(ProbabilityFlowOde::new(
                    sde,
                    a.steps.unwrap_or(500),
                    t_end,
                    OdeMethod::Euler,
                    seed,
                )?),
                _ => Box::new(ProbabilityFlowOde::new(
                    sde,
                    a.steps.unwrap_or(100),
                    t_end,
                    OdeMethod::Heun,
                    seed,
                )?),
            }
        }
    })
}

/// The image shape `[c, h, w]` a UNet samples: that of `--init`, else `in_channels` and the
/// config's `sample_size` (an int or `[h, w]`).
fn unet_image(a: &SampleArgs, net: &UNet2D) -> Result<[usize; 3]> {
    let c = net.config.in_channels;
    if let Some(p) = &a.init {
        let (_, [_, ci, h, w]) = read_images("--init", p)?;
        if ci != c {
            return Err(Error::invalid(format!(
                "--init {} has {ci} channels; the UNet takes {c}",
                p.display()
            )));
        }
        return Ok([c, h, w]);
    }
    let hw = net.config.sample_hw();
    let [h, w] = hw.ok_or_else(|| {
        Error::invalid(
            "the UNet config has no usable sample_size; give --init x_T.npy [n, c, h, w]",
        )
    })?;
    Ok([c, h, w])
}
