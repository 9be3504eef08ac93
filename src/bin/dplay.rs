//! `dplay`: the native command line of Diffusion Playground.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use burn::prelude::*;
use clap::{Args, Parser, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};

use diffusion_playground::bundle;
use diffusion_playground::data::{GaussianMixture, MixtureScore};
use diffusion_playground::error::{Error, Result};
use diffusion_playground::experiments::{
    langevin_vs_annealed, score_error_vs_density, seeds_two_modes, LangevinVsAnnealedConfig,
    ScoreErrorConfig,
};
use diffusion_playground::io::npy;
use diffusion_playground::model::{MlpConfig, NetworkScore, Parameterization, ScoreModel};
use diffusion_playground::noise;
use diffusion_playground::process::{
    sigma_max_from_data, NoiseLevel, Process, Sde, SubVpSde, VeConfig, VeSde, VpProcess, VpSde,
};
use diffusion_playground::sampler::{
    AncestralSampler, AnnealedLangevin, DdimSampler, EulerMaruyama, LangevinSampler, OdeMethod,
    PosteriorVariance, PredictorCorrector, ProbabilityFlowOde, Sampler, TimestepSpacing,
};
use diffusion_playground::schedule::{BetaSchedule, ScheduleConfig};
use diffusion_playground::train::{TrainConfig, Trainer};

#[derive(Parser)]
#[command(
    name = "dplay",
    version,
    about = "Diffusion Playground: train and sample score-based models and DDPMs on 2-D data"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Train an ε-prediction MLP on a Gaussian mixture (L_simple) and save model.safetensors + config.json.
    Train(TrainArgs),
    /// Draw samples with any sampler, driven by a trained model (--model) or by the exact score of
    /// a mixture (--data, --score oracle); writes a float32 .npy [n, d].
    Sample(SampleArgs),
    /// Print the tables of a process: DDPM's β schedule, NCSN's σ levels, or an SDE's marginal.
    Schedule(ScheduleArgs),
    /// Run one of the seeds' experiments.
    Experiment(ExperimentArgs),
    /// DDPM sampling steps per second for a batch of points with the default MLP.
    Bench(BenchArgs),
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Debug)]
enum DeviceArg {
    /// Pure-Rust CPU backend.
    Flex,
    /// GPU through wgpu (Vulkan, Metal, DX12).
    Wgpu,
    /// NVIDIA GPU (build with --features cuda).
    Cuda,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Debug)]
enum ScheduleArg {
    Linear,
    Cosine,
}

impl From<ScheduleArg> for BetaSchedule {
    fn from(s: ScheduleArg) -> Self {
        match s {
            ScheduleArg::Linear => BetaSchedule::Linear,
            ScheduleArg::Cosine => BetaSchedule::Cosine,
        }
    }
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Debug)]
enum VarianceArg {
    Beta,
    BetaTilde,
}

#[derive(Args)]
struct TrainArgs {
    /// Mixture JSON: {"weights": [..], "means": [[..], ..], "covs": [[[..]], ..]}.
    #[arg(long)]
    data: PathBuf,
    /// Output folder for model.safetensors and config.json.
    #[arg(long)]
    out: PathBuf,
    #[arg(long, default_value_t = 4000)]
    steps: usize,
    #[arg(long, default_value_t = 512)]
    batch_size: usize,
    #[arg(long, default_value_t = 2e-3)]
    lr: f64,
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Diffusion steps T.
    #[arg(long, default_value_t = 1000)]
    timesteps: usize,
    #[arg(long, value_enum, default_value_t = ScheduleArg::Linear)]
    schedule: ScheduleArg,
    #[arg(long, default_value_t = 128)]
    hidden: usize,
    #[arg(long, default_value_t = 3)]
    depth: usize,
    #[arg(long, value_enum, default_value_t = DeviceArg::Flex)]
    device: DeviceArg,
}

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
enum ProcessArg {
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
struct SampleArgs {
    /// A folder written by `dplay train` (its ε-network drives the sampler).
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
    /// VE: number of levels of annealed Langevin.
    #[arg(long, default_value_t = 10)]
    levels: usize,
    /// VP and sub-VP SDEs: β(t) from beta-min to beta-max (with the oracle, the discrete VP chain
    /// of ancestral and ddim uses β_i from beta-min/T to beta-max/T).
    #[arg(long, default_value_t = 0.1, allow_negative_numbers = true)]
    beta_min: f64,
    #[arg(long, default_value_t = 20.0, allow_negative_numbers = true)]
    beta_max: f64,
    /// Number of samples (default 10000, or the rows of --init).
    #[arg(long)]
    n: Option<usize>,
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Starting points x_T, a float32 .npy [n, d] (default: the sampler's prior).
    #[arg(long)]
    init: Option<PathBuf>,
    /// Output .npy (float32, [n, d]).
    #[arg(long)]
    out: PathBuf,
    /// Reverse-step variance σ_t² of ancestral sampling.
    #[arg(long, value_enum, default_value_t = VarianceArg::BetaTilde)]
    variance: VarianceArg,
    /// Clip x̂₀ to [-c, c] at each step (ancestral, ddim).
    #[arg(long)]
    clip: Option<f64>,
    #[arg(long, value_enum, default_value_t = DeviceArg::Flex)]
    device: DeviceArg,
}

#[derive(Args)]
struct ScheduleArgs {
    /// vp: DDPM's β tables (discrete) or the VP SDE; ve: NCSN's σ levels or the VE SDE;
    /// sub-vp: the sub-VP SDE (with --continuous).
    #[arg(long, value_enum, default_value_t = ProcessArg::Vp)]
    process: ProcessArg,
    /// Print the continuous-time SDE (a(t), s(t), f(t), g(t) on a grid of t) instead of the
    /// discrete tables.
    #[arg(long)]
    continuous: bool,
    #[arg(long, value_enum, default_value_t = ScheduleArg::Linear)]
    schedule: ScheduleArg,
    /// Diffusion steps T (vp), or grid points on [0, 1] (--continuous).
    #[arg(long, default_value_t = 1000)]
    steps: usize,
    #[arg(long, default_value_t = 0.1, allow_negative_numbers = true)]
    beta_min: f64,
    #[arg(long, default_value_t = 20.0, allow_negative_numbers = true)]
    beta_max: f64,
    #[arg(long, default_value_t = 0.01, allow_negative_numbers = true)]
    sigma_min: f64,
    #[arg(long, default_value_t = 50.0, allow_negative_numbers = true)]
    sigma_max: f64,
    /// NCSN levels L (ve, discrete).
    #[arg(long, default_value_t = 10)]
    levels: usize,
    /// Print JSON (every table) instead of a summary.
    #[arg(long)]
    json: bool,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Debug)]
enum ExperimentName {
    /// (b) Plain vs annealed Langevin with the exact score on ⅕N((-5,-5),I)+⅘N((5,5),I).
    LangevinVsAnnealed,
    /// (a) Error of a DSM-trained score network against the exact score, binned by density.
    ScoreErrorVsDensity,
}

#[derive(Args)]
struct ExperimentArgs {
    #[arg(value_enum)]
    name: ExperimentName,
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Number of chains (langevin-vs-annealed).
    #[arg(long, default_value_t = 2000)]
    n: usize,
    /// Training steps of the score network (score-error-vs-density).
    #[arg(long, default_value_t = 1500)]
    train_steps: usize,
    /// Print the full report as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct BenchArgs {
    /// Points per batch.
    #[arg(long, default_value_t = 10_000)]
    n: usize,
    /// Timed reverse steps (after 5 warm-up steps).
    #[arg(long, default_value_t = 50)]
    steps: usize,
    /// Devices to time; default flex and wgpu.
    #[arg(long, value_enum, num_args = 1..)]
    device: Vec<DeviceArg>,
}

fn main() -> ExitCode {
    // Panics are bugs; print them as one line, never a backtrace.
    std::panic::set_hook(Box::new(|info| {
        eprintln!("error: internal error: {info}");
    }));
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Train(a) => train(a),
        Command::Sample(a) => sample(a),
        Command::Schedule(a) => schedule(a),
        Command::Experiment(a) => experiment(a),
        Command::Bench(a) => bench(a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn device(kind: DeviceArg) -> Result<Device> {
    match kind {
        DeviceArg::Flex => Ok(Device::flex()),
        DeviceArg::Wgpu => Device::wgpu_options()
            .init()
            .map_err(|e| Error::Device(format!("no usable wgpu adapter ({e}); try --device flex"))),
        #[cfg(feature = "cuda")]
        DeviceArg::Cuda => Ok(Device::cuda(0)),
        #[cfg(not(feature = "cuda"))]
        DeviceArg::Cuda => Err(Error::Device(
            "this dplay was built without CUDA; rebuild with --features cuda".into(),
        )),
    }
}

/// Fail before a long run, not after it: the output folder must be creatable and writable.
fn check_writable_dir(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| Error::write(dir, e))?;
    let probe = dir.join(".dplay-write-test");
    std::fs::write(&probe, b"").map_err(|e| Error::write(dir, e))?;
    let _ = std::fs::remove_file(probe);
    Ok(())
}

fn check_writable_file(path: &Path) -> Result<()> {
    let parent = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if path.is_dir() {
        return Err(Error::write(path, std::io::Error::other("is a directory")));
    }
    let probe = parent.join(format!(
        ".{}.dplay-write-test",
        path.file_name()
            .map(|n| n.to_string_lossy())
            .unwrap_or_default()
    ));
    std::fs::write(&probe, b"").map_err(|e| Error::write(path, e))?;
    let _ = std::fs::remove_file(probe);
    Ok(())
}

fn train(a: TrainArgs) -> Result<()> {
    let data = GaussianMixture::from_file(&a.data)?;
    let schedule = ScheduleConfig {
        kind: a.schedule.into(),
        steps: a.timesteps,
        ..ScheduleConfig::default()
    };
    let config = TrainConfig::new()
        .with_model(
            MlpConfig::new()
                .with_dim(data.dim())
                .with_hidden(a.hidden)
                .with_depth(a.depth),
        )
        .with_schedule(schedule)
        .with_steps(a.steps)
        .with_batch_size(a.batch_size)
        .with_lr(a.lr)
        .with_seed(a.seed);
    config.validate()?;
    check_writable_dir(&a.out)?;
    let device = device(a.device)?;
    let mut trainer = Trainer::new(config, data, &device)?;

    let bar = ProgressBar::new(a.steps as u64);
    bar.set_style(
        ProgressStyle::with_template(
            "{bar:40} {pos}/{len} [{elapsed_precise}<{eta_precise}, {per_sec}] loss {msg}",
        )
        .expect("static template"),
    );
    let mut window = Vec::with_capacity(100);
    for _ in 0..a.steps {
        let loss: f32 = trainer.step().into_scalar();
        if !loss.is_finite() {
            bar.abandon();
            return Err(Error::invalid(format!(
                "the loss became {loss} at step {}; lower --lr",
                trainer.steps_done()
            )));
        }
        if window.len() == 100 {
            window.remove(0);
        }
        window.push(loss as f64);
        bar.inc(1);
        if trainer.steps_done() % 10 == 0 {
            bar.set_message(format!(
                "{:.4}",
                window.iter().sum::<f64>() / window.len() as f64
            ));
        }
    }
    bar.finish();
    let final_loss = window.iter().sum::<f64>() / window.len().max(1) as f64;
    bundle::save(&a.out, &trainer.model(), &trainer.card(Some(final_loss)))?;
    println!(
        "saved {} and {} in {} (final loss {final_loss:.4})",
        bundle::WEIGHTS_FILE,
        bundle::CONFIG_FILE,
        a.out.display()
    );
    Ok(())
}

/// Where the score comes from: the exact mixture oracle or a trained network.
enum Source {
    Oracle(MixtureScore),
    Model {
        net: Box<diffusion_playground::model::Mlp>,
        schedule: ScheduleConfig,
        parameterization: Parameterization,
        dim: usize,
    },
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

fn sample(a: SampleArgs) -> Result<()> {
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
            let (net, card) = bundle::load(dir, &device)?;
            Source::Model {
                net: Box::new(net),
                schedule: card.train.schedule,
                parameterization: card.parameterization,
                dim: card.train.model.dim,
            }
        }
    };
    let d = match &source {
        Source::Oracle(o) => o.mixture().dim(),
        Source::Model { dim, .. } => *dim,
    };
    let init = a.init.as_deref().map(|p| read_init(p, d)).transpose()?;
    let n = match (&init, a.n) {
        (Some((_, rows)), Some(n)) if *rows != n => {
            return Err(Error::invalid(format!(
                "--n {n} disagrees with the {rows} rows of --init"
            )))
        }
        (Some((_, rows)), _) => *rows,
        (None, n) => n.unwrap_or(10_000),
    };
    let model: Box<dyn ScoreModel + '_> = match &source {
        Source::Oracle(o) => Box::new(o.clone()),
        Source::Model {
            net,
            schedule,
            parameterization,
            ..
        } => Box::new(NetworkScore::new(net, *parameterization, schedule.steps)),
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
    npy::write_f32(&a.out, &values, &[n, d])?;
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
        (None, Source::Model { .. }) => {
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
    let is_model = matches!(source, Source::Model { .. });
    let variance = match a.variance {
        VarianceArg::Beta => PosteriorVariance::Beta,
        VarianceArg::BetaTilde => PosteriorVariance::BetaTilde,
    };
    let seed = a.seed;
    Ok(match a.sampler {
        SamplerArg::Ancestral => {
            let process = VpProcess::new(vp_schedule)?;
            if let Some(s) = a.steps {
                if s != process.num_steps() {
                    return Err(Error::invalid(format!(
                        "ancestral sampling walks all T = {} steps of the model; use --sampler ddim for {s}",
                        process.num_steps()
                    )));
                }
            }
            Box::new(AncestralSampler::new(process, variance, a.clip, seed))
        }
        SamplerArg::Ddim => Box::new(DdimSampler::new(
            VpProcess::new(vp_schedule)?,
            a.steps.unwrap_or(50),
            a.spacing.into(),
            a.eta,
            a.clip,
            seed,
        )?),
        SamplerArg::Langevin => {
            let level = match source {
                Source::Oracle(_) => NoiseLevel::data(),
                // The least noisy level the network knows.
                Source::Model { .. } => NoiseLevel::step(&VpProcess::new(vp_schedule)?, 0),
            };
            Box::new(LangevinSampler::new(
                level,
                a.eps.unwrap_or(0.1),
                a.steps.unwrap_or(1000),
                seed,
            )?)
        }
        SamplerArg::AnnealedLangevin => {
            if is_model {
                return Err(Error::invalid(
                    "annealed Langevin needs a score at NCSN's VE levels; the trained ε-network is a VP model (use --score oracle, or ddim/ancestral)",
                ));
            }
            let (sigma_min, sigma_max) = ve_range(a, source)?;
            let levels = VeConfig {
                sigma_min,
                sigma_max,
                levels: a.levels,
            }
            .build()?;
            Box::new(AnnealedLangevin::new(
                levels,
                a.n_per_level,
                a.eps.unwrap_or(0.005),
                seed,
            )?)
        }
        SamplerArg::EulerMaruyama | SamplerArg::Pc | SamplerArg::OdeEuler | SamplerArg::OdeHeun => {
            let sde: Box<dyn Sde> = match (a.process, is_model) {
                (ProcessArg::Vp, true) => Box::new(VpSde::from_schedule(&vp_schedule)?),
                (_, true) => {
                    return Err(Error::invalid(
                        "the trained ε-network is a VP model; use --process vp with --model",
                    ))
                }
                (ProcessArg::Vp, false) => Box::new(VpSde::new(a.beta_min, a.beta_max)?),
                (ProcessArg::SubVp, false) => Box::new(SubVpSde::new(a.beta_min, a.beta_max)?),
                (ProcessArg::Ve, false) => {
                    let (lo, hi) = ve_range(a, source)?;
                    Box::new(VeSde::new(lo, hi)?)
                }
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

/// Indices of a short summary of a table of length `len`.
fn summary_rows(len: usize) -> Vec<usize> {
    let mut rows = vec![0, 1, len / 4, len / 2, 3 * len / 4, len - 1];
    rows.retain(|&i| i < len);
    rows.dedup();
    rows
}

fn schedule(a: ScheduleArgs) -> Result<()> {
    if a.continuous {
        return sde_table(&a);
    }
    match a.process {
        ProcessArg::Vp => ddpm_tables(&a),
        ProcessArg::Ve => {
            let ve = VeConfig {
                sigma_min: a.sigma_min,
                sigma_max: a.sigma_max,
                levels: a.levels,
            }
            .build()?;
            if a.json {
                let v = serde_json::json!({ "config": ve.config(), "sigmas": ve.sigmas() });
                println!("{v}");
            } else {
                println!("{:>6} {:>12}", "t", "sigma");
                for (t, s) in ve.sigmas().iter().enumerate() {
                    println!("{t:>6} {s:>12.6e}");
                }
            }
            Ok(())
        }
        ProcessArg::SubVp => Err(Error::invalid(
            "sub-VP is a continuous-time process; add --continuous",
        )),
    }
}

fn sde_table(a: &ScheduleArgs) -> Result<()> {
    if a.steps < 2 {
        return Err(Error::invalid(
            "--steps (grid points on [0, 1]) must be at least 2",
        ));
    }
    let sde: Box<dyn Sde> = match a.process {
        ProcessArg::Vp => Box::new(VpSde::new(a.beta_min, a.beta_max)?),
        ProcessArg::SubVp => Box::new(SubVpSde::new(a.beta_min, a.beta_max)?),
        ProcessArg::Ve => Box::new(VeSde::new(a.sigma_min, a.sigma_max)?),
    };
    let ts: Vec<f64> = (0..a.steps)
        .map(|i| i as f64 / (a.steps - 1) as f64)
        .collect();
    let col = |f: &dyn Fn(f64) -> f64| ts.iter().map(|&t| f(t)).collect::<Vec<f64>>();
    let mean = col(&|t| sde.marginal(t).mean_coef);
    let std = col(&|t| sde.marginal(t).std);
    let drift = col(&|t| sde.drift_coef(t));
    let g = col(&|t| sde.diffusion(t));
    if a.json {
        let v = serde_json::json!({
            "process": format!("{:?}", a.process),
            "t": ts, "mean_coef": mean, "std": std, "drift_coef": drift, "diffusion": g,
        });
        println!("{v}");
    } else {
        println!(
            "{:>8} {:>12} {:>12} {:>12} {:>12}",
            "t", "mean_coef", "std", "f(t)", "g(t)"
        );
        for i in summary_rows(ts.len()) {
            println!(
                "{:>8.4} {:>12.6e} {:>12.6e} {:>12.6e} {:>12.6e}",
                ts[i], mean[i], std[i], drift[i], g[i]
            );
        }
    }
    Ok(())
}

fn ddpm_tables(a: &ScheduleArgs) -> Result<()> {
    let s = ScheduleConfig {
        kind: a.schedule.into(),
        steps: a.steps,
        ..ScheduleConfig::default()
    }
    .build()?;
    if a.json {
        let v = serde_json::json!({
            "config": s.config,
            "betas": s.betas,
            "alphas_cumprod": s.alphas_cumprod,
            "posterior_variance": s.posterior_variance,
            "posterior_mean_coef1": s.posterior_mean_coef1,
            "posterior_mean_coef2": s.posterior_mean_coef2,
        });
        println!("{v}");
    } else {
        println!(
            "{:>6} {:>12} {:>12} {:>12}",
            "t", "beta", "alpha_bar", "beta_tilde"
        );
        for i in summary_rows(s.len()) {
            println!(
                "{i:>6} {:>12.6e} {:>12.6e} {:>12.6e}",
                s.betas[i], s.alphas_cumprod[i], s.posterior_variance[i]
            );
        }
    }
    Ok(())
}

fn experiment(a: ExperimentArgs) -> Result<()> {
    match a.name {
        ExperimentName::LangevinVsAnnealed => {
            if a.n == 0 {
                return Err(Error::invalid("--n must be at least 1"));
            }
            let config = LangevinVsAnnealedConfig {
                n: a.n,
                seed: a.seed,
                ..LangevinVsAnnealedConfig::default()
            };
            let r = langevin_vs_annealed(&seeds_two_modes(), &config, &Device::flex())?;
            if a.json {
                let text = serde_json::to_string(&r)
                    .map_err(|e| Error::invalid(format!("cannot encode the report: {e}")))?;
                println!("{text}");
            } else {
                println!("true weights:              {:.3?}", r.true_weights);
                println!("Langevin (exact score):    {:.3?}", r.langevin_weights);
                println!("annealed Langevin:         {:.3?}", r.annealed_weights);
            }
            Ok(())
        }
        ExperimentName::ScoreErrorVsDensity => {
            let config = ScoreErrorConfig {
                seed: a.seed,
                steps: a.train_steps,
                ..ScoreErrorConfig::default()
            };
            let r = score_error_vs_density(&seeds_two_modes(), &config, &Device::flex())?;
            if a.json {
                let text = serde_json::to_string(&r)
                    .map_err(|e| Error::invalid(format!("cannot encode the report: {e}")))?;
                println!("{text}");
            } else {
                println!(
                    "{:>16} {:>7} {:>14} {:>14}",
                    "log10 p_sigma", "points", "mean |err|^2", "mean |score|^2"
                );
                for b in &r.bins {
                    println!(
                        "{:>7} .. {:>5} {:>7} {:>14.4} {:>14.4}",
                        b.log10_p_lo, b.log10_p_hi, b.count, b.mean_sq_error, b.mean_sq_score
                    );
                }
                println!(
                    "p >= 1e-3: {:.4}   p < 1e-6: {:.4}",
                    r.high_density_error, r.low_density_error
                );
            }
            Ok(())
        }
    }
}

fn bench(a: BenchArgs) -> Result<()> {
    if a.n == 0 || a.steps == 0 {
        return Err(Error::invalid("--n and --steps must be at least 1"));
    }
    let devices = if a.device.is_empty() {
        vec![DeviceArg::Flex, DeviceArg::Wgpu]
    } else {
        a.device
    };
    println!(
        "DDPM ancestral sampling, default MLP ({:?}), {} points, {} timed steps",
        MlpConfig::new(),
        a.n,
        a.steps
    );
    for kind in devices {
        let dev = match device(kind) {
            Ok(d) => d,
            Err(e) => {
                println!("{kind:?}: skipped ({e})");
                continue;
            }
        };
        let model = MlpConfig::new().init(&dev);
        let process = VpProcess::new(ScheduleConfig::default())?;
        let mut sampler = AncestralSampler::new(process, PosteriorVariance::BetaTilde, None, 0);
        sampler.reset_from_prior(a.n, 2, &dev);
        for _ in 0..5 {
            sampler.step(&model)?;
        }
        dev.sync().map_err(|e| Error::Device(format!("{e:?}")))?;
        let start = Instant::now();
        for _ in 0..a.steps {
            sampler.step(&model)?;
        }
        // Reading the sample back waits for every queued kernel.
        let _ = sampler.current().expect("reset above").clone().into_data();
        let secs = start.elapsed().as_secs_f64();
        println!(
            "{kind:?}: {:.1} steps/s ({:.2} ms/step)",
            a.steps as f64 / secs,
            1e3 * secs / a.steps as f64
        );
    }
    Ok(())
}
