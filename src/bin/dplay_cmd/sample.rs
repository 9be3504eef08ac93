//! `dplay sample`: any sampler of the catalogue, driven by a trained model or the exact mixture
//! score. The flags (or `--spec`, the page's JSON) map onto one [`SamplerSpec`], built on the
//! model's own process or, for the oracle, on the process the flags describe.

use std::path::{Path, PathBuf};

use burn::prelude::*;
use clap::{Args, ValueEnum};
use indicatif::ProgressBar;
use serde_json::{Map, Value};

use diffusion_playground::data::{GaussianMixture, MixtureScore};
use diffusion_playground::error::{Error, Result};
use diffusion_playground::io::npy;
use diffusion_playground::model::unet::memory::largest_activation;
use diffusion_playground::model::unet::scheduler::SchedulerSettings;
use diffusion_playground::model::unet::{conditioned, is_diffusers_dir, UNet2D};
use diffusion_playground::model::{MlpConfig, NetworkScore, Parameterization, ScoreModel};
use diffusion_playground::noise;
use diffusion_playground::process::{sigma_max_from_data, NoiseLevel, ProcessConfig, VeConfig};
use diffusion_playground::sampler::{Sampler, SamplerSpec, ScoreSource, SdeKind};
use diffusion_playground::schedule::ScheduleConfig;
use diffusion_playground::score::{Loss, Objective};
use diffusion_playground::{budget, bundle};

use super::predict::{load_unet, read_images};
use super::{check_writable_file, device, DeviceArg};

/// Where the score comes from.
#[derive(Clone, Copy, ValueEnum, PartialEq, Debug)]
enum ScoreArg {
    /// The exact score of the --data mixture's perturbed marginal.
    Oracle,
    /// The trained ε-network in --model.
    Model,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Debug)]
pub(crate) enum ProcessArg {
    /// Variance preserving: DDPM (discrete) and its SDE limit (continuous).
    Vp,
    /// Variance exploding: NCSN's levels (discrete) and its SDE (continuous).
    Ve,
    /// Sub-VP: VP's mean with less variance.
    SubVp,
    /// Flow matching's linear path x_t = (1−t) x_0 + t ε (no SDE; with a diffusers UNet, the
    /// network read as a velocity on it unless --prediction-type says otherwise).
    Flow,
}

impl ProcessArg {
    fn sde(self) -> Option<SdeKind> {
        match self {
            Self::Vp => Some(SdeKind::Vp),
            Self::Ve => Some(SdeKind::Ve),
            Self::SubVp => Some(SdeKind::SubVp),
            Self::Flow => None,
        }
    }
}

/// diffusers' `prediction_type`, and flow matching's velocity.
#[derive(Clone, Copy, ValueEnum, PartialEq, Debug)]
enum PredictionArg {
    Epsilon,
    Sample,
    VPrediction,
    Velocity,
}

impl From<PredictionArg> for Parameterization {
    fn from(p: PredictionArg) -> Self {
        match p {
            PredictionArg::Epsilon => Self::Epsilon,
            PredictionArg::Sample => Self::X0,
            PredictionArg::VPrediction => Self::V,
            PredictionArg::Velocity => Self::Velocity,
        }
    }
}

#[derive(Args)]
pub(crate) struct SampleArgs {
    /// A folder written by `dplay train` or downloaded from the page (its network drives the
    /// sampler on the process it was trained on), or a diffusers UNet2DModel folder
    /// (ε-prediction; images [n, c, h, w]).
    #[arg(long)]
    model: Option<PathBuf>,
    /// A mixture JSON whose exact perturbed score drives the sampler.
    #[arg(long)]
    data: Option<PathBuf>,
    /// The score source; default: model with --model, oracle with --data.
    #[arg(long, value_enum)]
    score: Option<ScoreArg>,
    /// The sampler, by its catalogue name (`dplay catalogue` lists them with their options):
    /// ancestral, ddim, langevin, annealed-langevin, euler-maruyama, pc, ode, dpm-solver-pp, edm.
    /// Default ancestral.
    #[arg(long, conflicts_with = "spec")]
    sampler: Option<String>,
    /// The whole sampler as the page holds it: a JSON file, or the JSON itself, e.g.
    /// '{"kind": "ddim", "steps": 50, "eta": 0, "spacing": "leading"}'.
    #[arg(long)]
    spec: Option<String>,
    /// The process. With --data: the oracle's process (its discrete chain and its SDE). With
    /// --model: the SDE of euler-maruyama, pc and ode (default the model's own).
    #[arg(long, value_enum)]
    process: Option<ProcessArg>,
    /// The oracle's process as the page holds it (a ProcessConfig): a JSON file, or the JSON
    /// itself, e.g. '{"kind": "ve", "sigma_min": 0.1, "sigma_max": 20, "levels": 10}'.
    #[arg(long, conflicts_with = "process")]
    process_spec: Option<String>,
    /// The sampler's `steps` (with the oracle and ancestral: T of the VP chain; DDIM takes at
    /// most the process's T).
    #[arg(long)]
    steps: Option<usize>,
    /// The Langevin step size ε (`step_size`; annealed: α_i = ε σ_i²/σ_L²).
    #[arg(long, allow_negative_numbers = true)]
    eps: Option<f64>,
    /// Annealed Langevin's steps per noise level.
    #[arg(long)]
    n_per_level: Option<usize>,
    /// The PC corrector's signal-to-noise ratio.
    #[arg(long, allow_negative_numbers = true)]
    snr: Option<f64>,
    /// Langevin corrector steps per PC step.
    #[arg(long)]
    corrector_steps: Option<usize>,
    /// DDIM's η (0 deterministic, 1 DDPM-like).
    #[arg(long, allow_negative_numbers = true)]
    eta: Option<f64>,
    /// DDIM's timestep spacing: leading, trailing or linspace.
    #[arg(long)]
    spacing: Option<String>,
    /// The ODE's and EDM's method: heun or euler.
    #[arg(long)]
    ode_method: Option<String>,
    /// DPM-Solver++'s order: 1, 2 (2M) or 3 (3M).
    #[arg(long)]
    order: Option<usize>,
    /// EDM: the Karras σ schedule's exponent ρ.
    #[arg(long, allow_negative_numbers = true)]
    rho: Option<f64>,
    /// EDM: stochastic churn S_churn (0: the deterministic ODE), applied for σ in
    /// [S_tmin, S_tmax], with noise scaled by S_noise.
    #[arg(long, allow_negative_numbers = true)]
    s_churn: Option<f64>,
    #[arg(long, allow_negative_numbers = true)]
    s_tmin: Option<f64>,
    #[arg(long, allow_negative_numbers = true)]
    s_tmax: Option<f64>,
    #[arg(long, allow_negative_numbers = true)]
    s_noise: Option<f64>,
    /// End time ε of the continuous samplers (default 1e-3 for VP and sub-VP, 1e-5 for VE).
    #[arg(long, allow_negative_numbers = true)]
    t_end: Option<f64>,
    /// VE: the smallest σ (the oracle's VE process: default 0.01; annealed Langevin's levels
    /// otherwise).
    #[arg(long, allow_negative_numbers = true)]
    sigma_min: Option<f64>,
    /// VE: the largest σ (default: the largest distance between 2000 data points, NCSNv2's rule).
    #[arg(long, allow_negative_numbers = true)]
    sigma_max: Option<f64>,
    /// VE: the number of levels (the oracle's VE process, or annealed Langevin's; default 10).
    #[arg(long)]
    levels: Option<usize>,
    /// The oracle's VP and sub-VP processes: β(t) from beta-min to beta-max, the discrete chain
    /// β_i from beta-min/T to beta-max/T.
    #[arg(long, default_value_t = 0.1, allow_negative_numbers = true)]
    beta_min: f64,
    #[arg(long, default_value_t = 20.0, allow_negative_numbers = true)]
    beta_max: f64,
    /// Number of samples (default 10000 points or 16 images, or the rows of --init).
    #[arg(long)]
    n: Option<usize>,
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Samples walked at once [default: 65536 points or 64 images]: the output streams to the
    /// .npy chunk by chunk, so memory is flat in --n. Chunk k > 0 draws its own random stream,
    /// so the samples depend on the chunk size past the first chunk.
    #[arg(long)]
    chunk: Option<usize>,
    /// Starting points x_T, a float32 .npy [n, d], or [n, c, h, w] for a UNet (default: the
    /// sampler's prior).
    #[arg(long)]
    init: Option<PathBuf>,
    /// Output .npy (float32, [n, d], or [n, c, h, w] for a UNet).
    #[arg(long)]
    out: PathBuf,
    /// Ancestral sampling's reverse-step variance σ_t²: beta-tilde or beta.
    #[arg(long)]
    variance: Option<String>,
    /// Clip x̂₀ to [-c, c] at each step (ancestral, ddim). With a diffusers UNet the default is
    /// 1, as diffusers' schedulers' `clip_sample=True`.
    #[arg(long)]
    clip: Option<f64>,
    /// Never clip x̂₀ (diffusers' `clip_sample=False`).
    #[arg(long, conflicts_with = "clip")]
    no_clip: bool,
    /// A class-conditional UNet's labels: one per image, or one for all (comma-separated).
    #[arg(long, value_delimiter = ',')]
    labels: Vec<usize>,
    /// Classifier-free guidance scale s: ε(∅) + s (ε(c) − ε(∅)); 1 is the conditional model.
    #[arg(long, allow_negative_numbers = true)]
    guidance: Option<f64>,
    /// The unconditional ("null") label guidance compares with [default: the last,
    /// num_class_embeds − 1, as a network trained with labels dropped to an extra class].
    #[arg(long)]
    null_label: Option<usize>,
    /// A diffusers UNet's output, over its scheduler config's `prediction_type`: epsilon,
    /// sample, v-prediction, or velocity (u = ε − x₀, flow matching's).
    #[arg(long, value_enum)]
    prediction_type: Option<PredictionArg>,
    #[arg(long, value_enum, default_value_t = DeviceArg::Flex)]
    device: DeviceArg,
}

/// Where the score comes from: the exact mixture oracle or a trained network.
enum Source {
    Oracle(MixtureScore),
    Model {
        net: Box<diffusion_playground::model::Mlp>,
        objective: Objective,
        /// The process whose levels the network knows; None: one noise-free score.
        process: Option<ProcessConfig>,
        parameterization: Parameterization,
        config: MlpConfig,
    },
    /// A diffusers UNet2DModel on images `[c, h, w]`, flattened for the samplers.
    UNet {
        net: Box<UNet2D>,
        image: [usize; 3],
        /// From the folder's scheduler_config.json, else diffusers' defaults.
        scheduler: SchedulerSettings,
    },
}

/// Rules that need no file: checked before any work.
fn validate_sample_args(a: &SampleArgs) -> Result<()> {
    let numbers = [
        ("--eps", a.eps),
        ("--snr", a.snr),
        ("--eta", a.eta),
        ("--rho", a.rho),
        ("--s-churn", a.s_churn),
        ("--s-tmin", a.s_tmin),
        ("--s-tmax", a.s_tmax),
        ("--s-noise", a.s_noise),
        ("--t-end", a.t_end),
        ("--sigma-min", a.sigma_min),
        ("--sigma-max", a.sigma_max),
        ("--beta-min", Some(a.beta_min)),
        ("--beta-max", Some(a.beta_max)),
        ("--clip", a.clip),
        ("--guidance", a.guidance),
    ];
    if let Some((flag, Some(v))) = numbers
        .iter()
        .find(|(_, v)| v.is_some_and(|v| !v.is_finite()))
    {
        return Err(Error::invalid(format!(
            "{flag} must be a finite number, got {v}"
        )));
    }
    if a.n == Some(0) {
        return Err(Error::invalid("--n must be at least 1"));
    }
    if a.chunk == Some(0) {
        return Err(Error::invalid("--chunk must be at least 1"));
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
                let mut scheduler = SchedulerSettings::read(dir)?;
                if a.process == Some(ProcessArg::Flow) && !scheduler.flow {
                    scheduler.flow = true;
                    scheduler.prediction = Parameterization::Velocity;
                    scheduler.clip = None;
                }
                if let Some(p) = a.prediction_type {
                    scheduler.prediction = p.into();
                }
                Source::UNet {
                    net: Box::new(net),
                    image,
                    scheduler,
                }
            } else {
                let (net, card) = bundle::load(dir, &device)?;
                Source::Model {
                    net: Box::new(net),
                    objective: card.train.objective,
                    process: card.train.objective.sampling_process(),
                    parameterization: card.parameterization,
                    config: card.train.model.clone(),
                }
            }
        }
    };
    if !matches!(source, Source::UNet { .. })
        && (!a.labels.is_empty() || a.guidance.is_some() || a.null_label.is_some())
    {
        return Err(Error::invalid(
            "--labels, --guidance and --null-label need a class-conditional UNet (--model with num_class_embeds)",
        ));
    }
    let (d, out_shape) = match &source {
        Source::Oracle(o) => (o.mixture().dim(), vec![o.mixture().dim()]),
        Source::Model { config, .. } => (config.dim, vec![config.dim]),
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
    let labels = unet_labels(&a, n)?;
    let chunk = a
        .chunk
        .unwrap_or(match source {
            Source::UNet { .. } => IMAGE_CHUNK,
            _ => POINT_CHUNK,
        })
        .min(n);
    budget::check(&memory_need(&source, d, chunk))?;
    budget::check_disk(&a.out, 128 + n as u128 * d as u128 * 4)?;
    let shape: Vec<usize> = std::iter::once(n).chain(out_shape).collect();
    let mut out = npy::NpyWriter::create(&a.out, &shape)?;
    let chunks = n.div_ceil(chunk);
    let mut kind = String::new();
    let mut bar: Option<ProgressBar> = None;
    for k in 0..chunks {
        let rows = k * chunk..((k + 1) * chunk).min(n);
        let seed = chunk_seed(a.seed, k);
        let model = chunk_model(&a, &source, labels.as_deref().map(|l| &l[rows.clone()]))?;
        let (spec, mut sampler) = build_sampler(&a, &source, seed)?;
        kind = cli_name(spec.kind());
        let start = || match &init {
            Some((x, _)) => Tensor::from_data(
                TensorData::new(x[rows.start * d..rows.end * d].to_vec(), [rows.len(), d]),
                &device,
            ),
            None => Tensor::empty([0, d], &device),
        };
        let reset = |sampler: &mut Box<dyn Sampler>| match &init {
            Some(_) => sampler.reset(start()),
            None => sampler.reset_from_prior(rows.len(), d, &device),
        };
        reset(&mut sampler);
        let bar =
            bar.get_or_insert_with(|| ProgressBar::new((chunks * sampler.remaining()) as u64));
        while !sampler.done() {
            sampler.step(model.as_ref())?;
            bar.inc(1);
        }
        let values = host(sampler.current().expect("reset above"))?;
        let bad = values.iter().filter(|v| !v.is_finite()).count();
        if bad > 0 {
            bar.abandon();
            // Walk the chunk again (the same seed draws the same noise) to find the first step
            // that produced a non-finite value.
            let (_, mut again) = build_sampler(&a, &source, seed)?;
            reset(&mut again);
            let mut step = 0;
            while !again.done() {
                step += 1;
                again.step(model.as_ref())?;
                let x = again.current().expect("reset above").clone();
                if !x.is_finite().all().into_scalar::<bool>() {
                    break;
                }
            }
            let first = values.iter().position(|v| !v.is_finite()).unwrap_or(0) / d;
            return Err(Error::invalid(format!(
                "the {kind} sampler diverged: {bad} non-finite values in samples {}..{}, the first in sample {}, at step {step} of {}; use more --steps or a smaller step",
                rows.start,
                rows.end,
                rows.start + first,
                again.remaining() + step,
            )));
        }
        out.append(&values)?;
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    out.finish()?;
    println!("wrote {n} samples ({kind} sampler) to {}", a.out.display());
    Ok(())
}

/// Points (images) walked at once: sampling streams chunk by chunk into the `.npy`, so memory is
/// flat in `--n`. Chunk `k > 0` draws from its own stream ([`chunk_seed`]); `--n` up to one chunk
/// gives what one walk of all the points gives.
const POINT_CHUNK: usize = 65_536;
const IMAGE_CHUNK: usize = 64;

/// Chunk 0 keeps `--seed`; chunk `k` a SplitMix64 stream of `(seed, k)`.
fn chunk_seed(seed: u64, k: usize) -> u64 {
    if k == 0 {
        seed
    } else {
        noise::stream_seed(seed, k as u64, 1)
    }
}

/// The memory one chunk needs: the model's weights and each point's share of a step.
fn memory_need(source: &Source, d: usize, chunk: usize) -> budget::Need {
    let (fixed, per_point) = match source {
        Source::Oracle(o) => (
            0,
            budget::mixture_per_point(o.mixture().num_components(), d),
        ),
        Source::Model { config, .. } => (
            4 * budget::mlp_params(config),
            budget::mlp_sampling_per_point(config),
        ),
        Source::UNet { net, image, .. } => {
            let largest = largest_activation(&net.config, *image, 1).bytes;
            return budget::unet_job(
                format!("sampling {chunk} images at once"),
                net.num_params() as u64,
                largest,
                d,
                chunk,
                false,
            )
            .with_knob("--chunk");
        }
    };
    budget::Need::new(
        format!("sampling {chunk} points at once"),
        fixed,
        per_point,
        chunk as u64,
    )
    .with_unit("points at once")
    .with_knob("--chunk")
}

/// `--labels` as one label per image, or None.
fn unet_labels(a: &SampleArgs, n: usize) -> Result<Option<Vec<usize>>> {
    Ok(match a.labels.as_slice() {
        [] => None,
        [one] => Some(vec![*one; n]),
        many if many.len() == n => Some(many.to_vec()),
        many => {
            return Err(Error::invalid(format!(
                "{} labels for {n} images: give one per image or one for all",
                many.len()
            )))
        }
    })
}

/// The sampler's model for one chunk (a UNet's labels are the chunk's).
fn chunk_model<'a>(
    a: &SampleArgs,
    source: &'a Source,
    labels: Option<&[usize]>,
) -> Result<Box<dyn ScoreModel + 'a>> {
    Ok(match source {
        Source::Oracle(o) => Box::new(o.clone()),
        Source::Model {
            net,
            process,
            parameterization,
            ..
        } => {
            // The network's conditioning input counts its process's steps (levels).
            let steps = process.map_or(1, |p| p.num_steps());
            Box::new(NetworkScore::new(net.as_ref(), *parameterization, steps))
        }
        Source::UNet {
            net,
            image,
            scheduler,
        } => conditioned(
            net,
            *image,
            scheduler,
            labels.map(<[usize]>::to_vec),
            a.guidance,
            a.null_label,
        )?,
    })
}

fn host(x: &Tensor<2>) -> Result<Vec<f32>> {
    x.clone()
        .into_data()
        .try_into_vec::<f32>()
        .map_err(|e| Error::Device(format!("{e:?}")))
}

/// A catalogue name as the command line spells it (`annealed-langevin`).
fn cli_name(kind: &str) -> String {
    kind.replace('_', "-")
}

/// `--sampler` as the catalogue names it (`annealed-langevin` → `annealed_langevin`), or the
/// catalogue's default sampler.
fn sampler_kind(a: &SampleArgs) -> String {
    a.sampler.as_deref().map_or_else(
        || SamplerSpec::default().kind().to_string(),
        |s| s.replace('-', "_"),
    )
}

/// `--spec` and `--process-spec`: a JSON file, or the JSON itself.
fn json_arg(text: &str) -> Result<String> {
    if text.trim_start().starts_with('{') {
        return Ok(text.to_string());
    }
    let path = Path::new(text);
    std::fs::read_to_string(path).map_err(|e| Error::read(path, e))
}

fn read_spec(text: &str) -> Result<SamplerSpec> {
    SamplerSpec::from_json(&json_arg(text)?)
}

/// The sampler the flags name: the catalogue's defaults of `--sampler`, with each option flag
/// given put over them by its option name; or `--spec` whole. Flags that the oracle's process
/// takes (`consumed`) need not be options of the sampler.
fn spec_from_flags(
    a: &SampleArgs,
    own_sde: Option<SdeKind>,
    consumed: &[&str],
) -> Result<SamplerSpec> {
    let num = |v: f64| Value::from(v);
    let word = |v: &String| Value::from(v.replace('-', "_"));
    let flags: [(&str, &str, Option<Value>); 20] = [
        ("--steps", "steps", a.steps.map(Value::from)),
        ("--eps", "step_size", a.eps.map(num)),
        (
            "--n-per-level",
            "n_per_level",
            a.n_per_level.map(Value::from),
        ),
        ("--snr", "snr", a.snr.map(num)),
        (
            "--corrector-steps",
            "corrector_steps",
            a.corrector_steps.map(Value::from),
        ),
        ("--eta", "eta", a.eta.map(num)),
        ("--spacing", "spacing", a.spacing.as_ref().map(word)),
        ("--ode-method", "method", a.ode_method.as_ref().map(word)),
        ("--t-end", "t_end", a.t_end.map(num)),
        ("--sigma-min", "sigma_min", a.sigma_min.map(num)),
        ("--sigma-max", "sigma_max", a.sigma_max.map(num)),
        ("--levels", "levels", a.levels.map(Value::from)),
        ("--variance", "variance", a.variance.as_ref().map(word)),
        ("--clip", "clip", a.clip.map(num)),
        ("--order", "order", a.order.map(Value::from)),
        ("--rho", "rho", a.rho.map(num)),
        ("--s-churn", "s_churn", a.s_churn.map(num)),
        ("--s-tmin", "s_tmin", a.s_tmin.map(num)),
        ("--s-tmax", "s_tmax", a.s_tmax.map(num)),
        ("--s-noise", "s_noise", a.s_noise.map(num)),
    ];
    if let Some(text) = &a.spec {
        if let Some((flag, ..)) = flags.iter().find(|(_, _, v)| v.is_some()) {
            return Err(Error::invalid(format!(
                "--spec names the whole sampler; drop {flag} or put it in the spec"
            )));
        }
        return read_spec(text);
    }
    let kind = sampler_kind(a);
    if SamplerSpec::default_of(&kind).is_err() {
        let names: Vec<String> = SamplerSpec::defaults()
            .iter()
            .map(|s| cli_name(s.kind()))
            .collect();
        return Err(Error::invalid(format!(
            "unknown sampler '{}' (expected one of {}; `dplay catalogue` lists their options)",
            a.sampler.as_deref().unwrap_or_default(),
            names.join(", ")
        )));
    }
    let own = diffusion_playground::catalogue::sampler_options(&kind);
    let mut options = Map::new();
    for (flag, key, value) in flags {
        let Some(value) = value else { continue };
        if own.contains(&key) {
            options.insert(key.into(), value);
        } else if !consumed.contains(&flag) {
            return Err(Error::invalid(format!(
                "{flag} is not an option of the {} sampler (its options: {})",
                cli_name(&kind),
                own.join(", ")
            )));
        }
    }
    let sde = a.process.and_then(ProcessArg::sde).or(own_sde);
    if let (Some(sde), true) = (sde, own.contains(&"process")) {
        options.insert(
            "process".into(),
            serde_json::to_value(sde).expect("serialises"),
        );
    }
    SamplerSpec::with_options(&kind, &options)
}

/// The oracle's process from the flags: VP or sub-VP with β_i linear from β_min/T to β_max/T
/// (score_sde's `VPSDE.discrete_betas`; T = 1000 is DDPM's 1e-4..0.02, and ancestral sampling's
/// --steps sets T), or VE from --sigma-min (0.01, or annealed Langevin's own σ_min) to
/// --sigma-max (NCSNv2's rule on 2000 data points) over --levels (10).
fn oracle_process(a: &SampleArgs, mix: &GaussianMixture) -> Result<ProcessConfig> {
    if let Some(text) = &a.process_spec {
        let process: ProcessConfig = serde_json::from_str(&json_arg(text)?)
            .map_err(|e| Error::invalid(format!("--process-spec is not a process: {e}")))?;
        process.validate()?;
        return Ok(process);
    }
    let sampler = sampler_kind(a);
    let linear = |steps: usize| ScheduleConfig::score_sde(a.beta_min, a.beta_max, steps);
    let t = match (sampler.as_str(), a.spec.is_some()) {
        ("ancestral", false) => a.steps.unwrap_or(1000),
        _ => 1000,
    };
    let process = match a.process.unwrap_or(ProcessArg::Vp) {
        ProcessArg::Vp => ProcessConfig::Vp {
            schedule: linear(t),
        },
        ProcessArg::SubVp => ProcessConfig::SubVp {
            schedule: linear(t),
        },
        ProcessArg::Flow => ProcessConfig::Flow { steps: t },
        ProcessArg::Ve => {
            let annealed_min = match SamplerSpec::default_of(&sampler) {
                Ok(SamplerSpec::AnnealedLangevin { sigma_min, .. }) => Some(sigma_min),
                _ => None,
            };
            let sigma_max = match a.sigma_max {
                Some(s) => s,
                None => {
                    let pts = mix.sample(2000, &mut noise::rng(a.seed));
                    sigma_max_from_data(&pts, mix.dim())?
                }
            };
            ProcessConfig::Ve(VeConfig {
                sigma_min: a.sigma_min.or(annealed_min).unwrap_or(0.01),
                sigma_max,
                levels: a.levels.unwrap_or(10),
            })
        }
    };
    process.validate()?;
    Ok(process)
}

/// The sampler, from the flags, on the model's process (or the oracle's).
fn build_sampler(
    a: &SampleArgs,
    source: &Source,
    seed: u64,
) -> Result<(SamplerSpec, Box<dyn Sampler>)> {
    let (process, objective) = match source {
        Source::Oracle(o) => (Some(oracle_process(a, o.mixture())?), None),
        Source::Model {
            process, objective, ..
        } => (*process, Some(*objective)),
        // A diffusers UNet2DModel is a network on its scheduler's VP chain or flow path.
        Source::UNet { scheduler, .. } => {
            let process = scheduler.process();
            let loss = if scheduler.flow {
                Loss::FlowMatching
            } else {
                Loss::Ddpm
            };
            (Some(process), Some(Objective::new(loss, process)))
        }
    };
    if a.process_spec.is_some() && !matches!(source, Source::Oracle(_)) {
        return Err(Error::invalid(
            "--process-spec sets the oracle's process; a model samples on the process it was trained on",
        ));
    }
    let consumed: &[&str] = match source {
        Source::Oracle(_) => &["--steps", "--sigma-min", "--sigma-max", "--levels"],
        _ => &[],
    };
    // A network's VE levels are fixed by training: annealed Langevin's own levels are the
    // oracle's, on another process.
    if let (Some(ProcessConfig::Ve(ve)), false) = (process, matches!(source, Source::Oracle(_))) {
        if a.sigma_min.is_some() || a.sigma_max.is_some() {
            return Err(Error::invalid(format!(
                "the model was trained on σ from {} to {}; drop --sigma-min/--sigma-max",
                ve.sigma_min, ve.sigma_max
            )));
        }
        if a.levels.is_some_and(|l| l != ve.levels) {
            return Err(Error::invalid(format!(
                "the model was trained on {} levels; drop --levels",
                ve.levels
            )));
        }
    }
    let mut spec = spec_from_flags(a, process.as_ref().and_then(SdeKind::of), consumed)?;
    if let Source::UNet { scheduler, .. } = source {
        let clip = if a.no_clip { None } else { scheduler.clip };
        spec = spec.under_scheduler(clip, scheduler.end);
    }
    let Some(process) = process else {
        let level = objective
            .and_then(|o| o.noise_free_level())
            .unwrap_or_else(NoiseLevel::data);
        return Ok((spec.clone(), spec.build_noise_free(level, seed)?));
    };
    let score = match source {
        Source::Oracle(_) => ScoreSource::Oracle,
        _ => ScoreSource::Learned,
    };
    if let Err(e) = spec.support(&process, score) {
        return Err(match objective {
            Some(o) => Error::invalid(format!(
                "the model was trained with the {} objective and cannot drive --sampler {} on its {} process: {e}",
                o.name(),
                cli_name(spec.kind()),
                process.describe()
            )),
            None => e,
        });
    }
    // From --seed, not the chunk's stream: every chunk walks the same levels.
    let data_points = || {
        match source {
        Source::Oracle(o) => Ok((
            o.mixture().sample(2000, &mut noise::rng(a.seed)),
            o.mixture().dim(),
        )),
        _ => Err(Error::invalid(
            "this sampler sizes its VE levels from the data, which a model does not carry: give --sigma-max",
        )),
    }
    };
    let sampler = spec.build_on(&process.build()?, score, data_points, seed)?;
    Ok((spec, sampler))
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
