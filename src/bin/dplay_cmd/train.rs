//! `dplay train`: one training loop for every model and data set, with a progress bar, a loss
//! log, periodic sample figures and atomic checkpoints that `--resume` continues exactly.
//!
//! Every option can come from a JSON file (`--config FILE`, keys are the long option names);
//! flags on the command line override it. The resolved options are saved as `OUT/run.json`, which
//! is itself a valid `--config` and is what `--resume` reads.

use std::path::{Path, PathBuf};

use burn::prelude::*;
use clap::{Args, Parser, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use diffusion_playground::bundle;
use diffusion_playground::data::images::ImageSet;
use diffusion_playground::data::source::{self, Dataset};
use diffusion_playground::error::{Error, Result};
use diffusion_playground::io::{figures, write_atomic};
use diffusion_playground::model::unet::scheduler::{scheduler_json, SCHEDULER_FILE};
use diffusion_playground::model::unet::{UNet2D, UNet2DConfig, UNetScore};
use diffusion_playground::model::{NetworkScore, Parameterization};
use diffusion_playground::noise;
use diffusion_playground::process::{Process, ProcessConfig, VeConfig};
use diffusion_playground::sampler::{no_data, DdimEnd, SamplerSpec, ScoreSource, TimestepSpacing};
use diffusion_playground::schedule::ScheduleConfig;
use diffusion_playground::score::{Loss, Objective, Projection, Slicing};
use diffusion_playground::train::checkpoint::{self, Checkpoint};
use diffusion_playground::train::images::{ImageTrainConfig, ImageTrainer};
use diffusion_playground::train::{OptimConfig, TrainData, TrainOptions, Trainer, TrainerState};

use super::{check_writable_dir, ScheduleArg};

/// Options that may change between a run and its resumption (they do not change the numbers;
/// `out` differs when the run's folder was moved).
const RESUMABLE: [&str; 5] = [
    "out",
    "devices",
    "checkpoint-every",
    "sample-every",
    "resume",
];

/// Options a resumed run may change to recover from a numerical fault ([`diverged`]): the
/// continuation is then a new run from the checkpoint.
const RECOVERY: [&str; 2] = ["lr", "grad-clip"];

#[derive(Args, Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) struct TrainArgs {
    /// A JSON file of options, keyed by long option name ({"data": "moons", "steps": 2000});
    /// flags given here override it. OUT/run.json of an earlier run is one.
    #[arg(long)]
    #[serde(skip)]
    config: Option<PathBuf>,
    /// Continue the run in --out from its latest checkpoint, with the options in OUT/run.json.
    #[arg(long)]
    #[serde(skip)]
    resume: bool,
    /// The data: a mixture .json, a .csv of points, a 2-D toy set (moons, swiss-roll, rings,
    /// checkerboard, 8gaussians), `digits` (the shipped MNIST digits), MNIST-style IDX images
    /// (.gz or not), CIFAR-10 binary batches (a .bin or a folder) or a folder of PNGs.
    #[arg(long)]
    data: Option<String>,
    /// Output folder: the model, run.json, loss.csv, samples/ and checkpoints/.
    #[arg(long)]
    out: PathBuf,
    /// The network: an MLP for points, a UNet (diffusers UNet2DModel) for images.
    #[arg(long, value_enum)]
    model: Option<ModelArg>,
    /// UNet: a diffusers config.json to build the network from (default: a small UNet sized
    /// for the images, see `ImagePreset`).
    #[arg(long)]
    unet_config: Option<PathBuf>,
    /// The training objective; all but ddpm learn a score network (MLP only).
    #[arg(long, value_enum)]
    objective: Option<ObjectiveArg>,
    /// The forward process whose every level the network learns, as the page trains: vp or
    /// sub-vp (--schedule, --timesteps), ve (--sigma-min, --sigma-max, --levels) or flow
    /// (--timesteps), for any objective. Without it: ddpm on vp, ncsn on ve, flow-matching on
    /// flow, the others one noise level (--sigma).
    #[arg(long, value_enum)]
    process: Option<ProcessArg>,
    #[arg(long, value_enum)]
    schedule: Option<ScheduleArg>,
    /// Diffusion steps T.
    #[arg(long)]
    timesteps: Option<usize>,
    #[arg(long)]
    steps: Option<usize>,
    #[arg(long)]
    batch_size: Option<usize>,
    /// Peak learning rate (Adam).
    #[arg(long)]
    lr: Option<f64>,
    /// Linear warm-up steps before the cosine decay [default: a tenth of --steps, at most 100].
    #[arg(long)]
    warmup: Option<usize>,
    /// The learning rate decays (cosine) to lr · lr_min_ratio at the cooldown's start.
    #[arg(long)]
    lr_min_ratio: Option<f64>,
    /// The last N steps decay the rate linearly to 0. With --lr-min-ratio 1 (constant rate) and a
    /// given --warmup, a run resumed before its cooldown may change --steps and --cooldown:
    /// extend, then cool down.
    #[arg(long)]
    cooldown: Option<usize>,
    /// Clip each parameter's gradient to this L2 norm.
    #[arg(long)]
    grad_clip: Option<f64>,
    /// Keep an EMA of the weights with this decay (e.g. 0.999); the EMA is what is saved.
    #[arg(long)]
    ema: Option<f64>,
    #[arg(long)]
    seed: Option<u64>,
    /// MLP width.
    #[arg(long)]
    hidden: Option<usize>,
    /// MLP residual blocks.
    #[arg(long)]
    depth: Option<usize>,
    /// Without --process, the one noise level σ (esm, ism, ssm: 0, the data itself; dsm: 0.1).
    #[arg(long, allow_negative_numbers = true)]
    sigma: Option<f64>,
    /// ssm, ssm-vr: the law of the projections v.
    #[arg(long, value_enum)]
    projection: Option<ProjectionArg>,
    /// ssm, ssm-vr: projections per point.
    #[arg(long)]
    projections: Option<usize>,
    /// ncsn: smallest and largest σ, and the number of levels L.
    #[arg(long, allow_negative_numbers = true)]
    sigma_min: Option<f64>,
    #[arg(long, allow_negative_numbers = true)]
    sigma_max: Option<f64>,
    #[arg(long)]
    levels: Option<usize>,
    /// Split each batch into this many shards, each with its own random stream (one per device
    /// with --devices).
    #[arg(long)]
    shards: Option<usize>,
    /// Devices, comma-separated: flex, wgpu, wgpu:N (N-th discrete GPU), cuda:N. Several train
    /// data-parallel with burn's multi-device optimiser step, one shard each.
    #[arg(long, value_delimiter = ',')]
    devices: Option<Vec<String>>,
    /// Alias of --devices for one device.
    #[arg(long, conflicts_with = "devices")]
    #[serde(skip)]
    device: Option<String>,
    /// Write a checkpoint every this many steps (0: only at the end).
    #[arg(long)]
    checkpoint_every: Option<usize>,
    /// Write a sample figure (samples/step-N.png) every this many steps (0: only at the end).
    #[arg(long)]
    sample_every: Option<usize>,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum ModelArg {
    Mlp,
    Unet,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum ProcessArg {
    /// Variance preserving: DDPM's discrete chain.
    Vp,
    /// Sub-VP: VP's mean with less variance (Song et al. 2021, eq. 16).
    SubVp,
    /// Variance exploding: NCSN's noise levels.
    Ve,
    /// Flow matching's linear path x_t = (1−t) x_0 + t ε on --timesteps steps.
    Flow,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum ObjectiveArg {
    /// DDPM's L_simple on an ε-network (Ho et al. 2020, eq. 14).
    Ddpm,
    /// Explicit score matching against the mixture's exact score (Hyvärinen 2005, eq. 2).
    Esm,
    /// Implicit score matching, tr(∇ₓs) + ½‖s‖², with the exact trace (Hyvärinen 2005, eq. 4).
    Ism,
    /// Sliced score matching (Song et al. 2019, eq. 7).
    Ssm,
    /// Sliced score matching with variance reduction (eq. 8).
    SsmVr,
    /// Denoising score matching, a denoiser x̂₀ (Vincent 2011); without --process at one σ, --sigma.
    Dsm,
    /// NCSN: DSM over --levels VE levels from --sigma-max to --sigma-min, λ(σ) = σ².
    Ncsn,
    /// Conditional flow matching, ‖u_θ(x_t, t) − (ε − x_0)‖² on a velocity network (Lipman et
    /// al. 2023); on the flow path unless --process says otherwise.
    FlowMatching,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum ProjectionArg {
    Gaussian,
    Rademacher,
}

/// The command line for re-parsing `train` with options from a file.
#[derive(Parser)]
#[command(name = "dplay train", args_override_self = true)]
struct Reparse {
    #[command(flatten)]
    args: TrainArgs,
}

/// `--config` and `--resume`: the file's options first, then the command line's, which win.
fn resolve_args(a: TrainArgs, argv: &[String]) -> Result<TrainArgs> {
    let file = if a.resume {
        Some(a.out.join("run.json"))
    } else {
        a.config.clone()
    };
    let Some(file) = file else {
        return Ok(a);
    };
    let text = std::fs::read_to_string(&file).map_err(|e| Error::read(&file, e))?;
    let map: Map<String, Value> = serde_json::from_str(&text)
        .map_err(|e| Error::format(&file, format!("not a JSON object of options: {e}")))?;
    let mut args = vec!["dplay train".to_string()];
    for (key, value) in &map {
        let flag = format!("--{}", key.replace('_', "-"));
        match value {
            Value::Null | Value::Bool(false) => {}
            Value::Bool(true) => args.push(flag),
            Value::Number(n) => args.extend([flag, n.to_string()]),
            Value::String(s) => args.extend([flag, s.clone()]),
            Value::Array(items) => {
                let items: Vec<String> = items
                    .iter()
                    .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string))
                    .collect();
                args.extend([flag, items.join(",")]);
            }
            Value::Object(_) => {
                return Err(Error::format(
                    &file,
                    format!("option '{key}' is an object; options are numbers, strings or lists"),
                ))
            }
        }
    }
    args.extend(argv.iter().cloned());
    let merged = Reparse::try_parse_from(&args)
        .map_err(|e| Error::format(&file, e.to_string().trim().to_string()))?
        .args;
    if a.resume {
        let saved = &map;
        let now = serde_json::to_value(&merged).map_err(|e| Error::invalid(e.to_string()))?;
        for (key, value) in now.as_object().into_iter().flatten() {
            let before = saved.get(key).unwrap_or(&Value::Null);
            // The total only places the cosine decay and the cooldown; with a constant rate
            // after warm-up (--lr-min-ratio 1) no step before the cooldown depends on them, so a
            // run may be extended, cooled down or ended at a checkpoint (checked below).
            let constant_lr = merged.lr_min_ratio == Some(1.0);
            let free = RESUMABLE.contains(&key.as_str())
                || (constant_lr && (key == "steps" || key == "cooldown"));
            if RECOVERY.contains(&key.as_str()) && before != value {
                let shown = |v: &Value| match v {
                    Value::Null => "its default".to_string(),
                    v => v.to_string(),
                };
                eprintln!(
                    "--{key} changes from {} to {}: the run goes on from its checkpoint with the \
                     new setting, no longer as the uninterrupted run would have",
                    shown(before),
                    shown(value)
                );
                continue;
            }
            if !free && before != value {
                return Err(Error::invalid(format!(
                    "--resume continues the run in {} exactly; --{key} was {before} there, not {value}",
                    a.out.display()
                )));
            }
        }
    }
    if a.resume {
        check_stable_phase(&a.out, &map, &merged)?;
    }
    Ok(TrainArgs {
        resume: a.resume,
        ..merged
    })
}

/// A resumed run whose --steps or --cooldown changed continues exactly only if every step its
/// checkpoint has taken was at the constant rate under both the old and the new settings.
fn check_stable_phase(out: &Path, saved: &Map<String, Value>, now: &TrainArgs) -> Result<()> {
    let old = |key: &str| saved.get(key).and_then(Value::as_u64).map(|v| v as usize);
    let (old_steps, old_cooldown) = (old("steps"), old("cooldown").unwrap_or(0));
    let (steps, cooldown) = (now.steps, now.cooldown.unwrap_or(0));
    if old_steps == steps && old_cooldown == cooldown {
        return Ok(());
    }
    let (Some(old_steps), Some(steps)) = (old_steps, steps) else {
        return Ok(()); // defaults on both sides (the keys agree) or caught by the key check
    };
    let Some(ck) = checkpoint::load_latest(out)? else {
        return Ok(());
    };
    if ck.state.step > steps {
        return Ok(()); // past the new total: the run loop says so
    }
    let stable_end = old_steps
        .saturating_sub(old_cooldown)
        .min(steps.saturating_sub(cooldown));
    if ck.state.step > stable_end {
        return Err(Error::invalid(format!(
            "--resume: the checkpoint in {} is at step {}, past the constant-rate phase (it ends at \
             step {stable_end}); --steps and --cooldown may change only before the cooldown begins",
            out.display(),
            ck.state.step
        )));
    }
    Ok(())
}

impl TrainArgs {
    /// `{objective, process}`: `--process` names the levels; without it ddpm takes VP, ncsn VE
    /// and the others one level at `--sigma` (default 0, the data itself; 0.1 for dsm).
    fn objective(&self) -> Result<Objective> {
        let ve = VeConfig {
            sigma_min: self.sigma_min.unwrap_or(0.01),
            sigma_max: self.sigma_max.unwrap_or(10.0),
            levels: self.levels.unwrap_or(10),
        };
        let arg = self.objective.unwrap_or(match self.process {
            Some(ProcessArg::Ve) => ObjectiveArg::Ncsn,
            Some(ProcessArg::Flow) => ObjectiveArg::FlowMatching,
            _ => ObjectiveArg::Ddpm,
        });
        let loss = match arg {
            ObjectiveArg::Ddpm => Loss::Ddpm,
            ObjectiveArg::FlowMatching => Loss::FlowMatching,
            ObjectiveArg::Ncsn => Loss::Ncsn,
            ObjectiveArg::Dsm => Loss::Dsm,
            ObjectiveArg::Ssm | ObjectiveArg::SsmVr => Loss::Ssm,
            ObjectiveArg::Ism => Loss::Ism,
            ObjectiveArg::Esm => Loss::Esm,
        };
        let process = match (self.process, arg) {
            (Some(_), _) if self.sigma.is_some() => return Err(Error::invalid(
                "--sigma sets the one noise level of a loss without --process; drop one of them",
            )),
            (Some(ProcessArg::Vp), _) | (None, ObjectiveArg::Ddpm) => ProcessConfig::Vp {
                schedule: self.schedule(),
            },
            (Some(ProcessArg::SubVp), _) => ProcessConfig::SubVp {
                schedule: self.schedule(),
            },
            (Some(ProcessArg::Ve), _) | (None, ObjectiveArg::Ncsn) => ProcessConfig::Ve(ve),
            (Some(ProcessArg::Flow), _) | (None, ObjectiveArg::FlowMatching) => {
                ProcessConfig::Flow {
                    steps: self.timesteps.unwrap_or(1000),
                }
            }
            (None, ObjectiveArg::Dsm) => ProcessConfig::one_level(self.sigma.unwrap_or(0.1)),
            (None, _) => ProcessConfig::one_level(self.sigma.unwrap_or(0.0)),
        };
        let slicing = Slicing {
            projection: match self.projection.unwrap_or(ProjectionArg::Rademacher) {
                ProjectionArg::Gaussian => Projection::Gaussian,
                ProjectionArg::Rademacher => Projection::Rademacher,
            },
            projections: self.projections.unwrap_or(1),
            variance_reduced: arg == ObjectiveArg::SsmVr,
        };
        let objective = Objective::new(loss, process).with_slicing(slicing);
        objective.validate()?;
        Ok(objective)
    }

    fn schedule(&self) -> ScheduleConfig {
        ScheduleConfig {
            kind: self.schedule.unwrap_or(ScheduleArg::Linear).into(),
            steps: self.timesteps.unwrap_or(1000),
            ..ScheduleConfig::default()
        }
    }

    /// `--devices`, else `--device`, else flex.
    fn device_names(&self) -> Vec<String> {
        match (&self.devices, &self.device) {
            (Some(d), _) => d.clone(),
            (None, Some(d)) => vec![d.clone()],
            (None, None) => vec!["flex".to_string()],
        }
    }

    /// The devices themselves (a wgpu device is started here, once per run).
    fn devices(&self) -> Result<Vec<Device>> {
        self.device_names()
            .iter()
            .map(|n| parse_device(n))
            .collect()
    }

    fn shards(&self) -> Result<usize> {
        let n = self.device_names().len();
        match self.shards {
            Some(s) if n > 1 && s != n => Err(Error::invalid(format!(
                "{n} devices train one shard each; --shards {s} disagrees"
            ))),
            Some(s) => Ok(s),
            None => Ok(n),
        }
    }

    fn optim(&self, defaults: &OptimConfig) -> Result<OptimConfig> {
        Ok(OptimConfig {
            steps: self.steps.unwrap_or(defaults.steps),
            batch_size: self.batch_size.unwrap_or(defaults.batch_size),
            lr: self.lr.unwrap_or(defaults.lr),
            warmup: self.warmup.unwrap_or(defaults.warmup),
            lr_min_ratio: self.lr_min_ratio.unwrap_or(defaults.lr_min_ratio),
            cooldown: self.cooldown.unwrap_or(defaults.cooldown),
            grad_clip: self.grad_clip.or(defaults.grad_clip),
            ema_decay: self.ema.or(defaults.ema_decay),
            shards: self.shards()?,
            seed: self.seed.unwrap_or(defaults.seed),
        })
    }
}

/// `flex`, `wgpu`, `wgpu:N` (the N-th discrete GPU) or `cuda:N`.
fn parse_device(name: &str) -> Result<Device> {
    let (kind, index) = match name.split_once(':') {
        Some((k, i)) => (
            k,
            Some(i.parse::<usize>().map_err(|_| {
                Error::invalid(format!("device '{name}': '{i}' is not a device index"))
            })?),
        ),
        None => (name, None),
    };
    match (kind, index) {
        ("flex", None) => Ok(Device::flex()),
        ("wgpu", None) => super::device(super::DeviceArg::Wgpu),
        ("wgpu", Some(i)) => Ok(Device::wgpu(burn::tensor::DeviceKind::DiscreteGpu(i))),
        #[cfg(feature = "cuda")]
        ("cuda", i) => Ok(Device::cuda(i.unwrap_or(0))),
        #[cfg(not(feature = "cuda"))]
        ("cuda", _) => super::device(super::DeviceArg::Cuda),
        _ => Err(Error::invalid(format!(
            "unknown device '{name}' (expected flex, wgpu, wgpu:N or cuda:N)"
        ))),
    }
}

pub(crate) fn train(a: TrainArgs) -> Result<()> {
    let argv: Vec<String> = std::env::args()
        .skip_while(|s| s != "train")
        .skip(1)
        .collect();
    let a = resolve_args(a, &argv)?;
    let spec = a
        .data
        .clone()
        .ok_or_else(|| Error::invalid("--data is required (or give --config / --resume)"))?;
    let dataset = source::resolve(&spec)?;
    check_writable_dir(&a.out)?;
    let devices = a.devices()?;
    let resume = if a.resume {
        Some(checkpoint::load_latest(&a.out)?.ok_or_else(|| {
            Error::invalid(format!(
                "--resume: {} has no checkpoint yet; start the run again without --resume",
                a.out.display()
            ))
        })?)
    } else {
        None
    };
    match dataset {
        Dataset::Points(data, origin) => train_points(&a, data, origin, &devices, resume),
        Dataset::Images(images, origin) => train_images(&a, images, origin, &devices, resume),
    }
}

/// Save the resolved options, so the run can be repeated (`--config`) or resumed.
fn save_run_json(a: &TrainArgs) -> Result<()> {
    let mut a = a.clone();
    a.devices = Some(a.device_names());
    a.device = None;
    a.shards = Some(a.shards()?);
    let json = serde_json::to_string_pretty(&a).map_err(|e| Error::invalid(e.to_string()))?;
    write_atomic(&a.out.join("run.json"), json.as_bytes())
}

/// The loop shared by both kinds of model: progress bar, loss log, checkpoints, figures.
trait Run {
    fn step(&mut self) -> f32;
    /// Adam's peak rate.
    fn lr(&self) -> f64;
    fn steps_done(&self) -> usize;
    fn state(&self) -> Result<TrainerState>;
    fn restore(&mut self, state: TrainerState) -> Result<()>;
    /// Write the figure of the current model to `path`.
    fn figure(&self, path: &Path) -> Result<()>;
    /// Save the model itself into the output folder.
    fn save(&self, out: &Path, final_loss: f64) -> Result<()>;
}

fn run_loop(
    a: &TrainArgs,
    run: &mut dyn Run,
    total: usize,
    resume: Option<Checkpoint>,
) -> Result<()> {
    let mut losses = Vec::with_capacity(total);
    let mut last_good = None;
    if let Some(ck) = resume {
        if ck.state.step > total {
            return Err(Error::invalid(format!(
                "--resume: the latest checkpoint in {} is at step {}, past --steps {total}",
                a.out.display(),
                ck.state.step
            )));
        }
        losses = ck.losses.clone();
        last_good = Some(ck.state.step);
        run.restore(ck.state)?;
        eprintln!(
            "resuming {} at step {}/{total}",
            a.out.display(),
            run.steps_done()
        );
    }
    save_run_json(a)?;
    let every = a.checkpoint_every.unwrap_or(500);
    let sample_every = a.sample_every.unwrap_or(1000);
    let bar = ProgressBar::new(total as u64);
    bar.set_style(
        ProgressStyle::with_template(
            "{bar:40} {pos}/{len} [{elapsed_precise}<{eta_precise}, {per_sec}] loss {msg}",
        )
        .expect("static template"),
    );
    bar.set_position(run.steps_done() as u64);
    while run.steps_done() < total {
        let loss = run.step();
        if !loss.is_finite() {
            bar.abandon();
            return Err(diverged(
                a,
                run.lr(),
                run.steps_done(),
                &format!("the loss became {loss}"),
                last_good,
            ));
        }
        losses.push(loss);
        bar.inc(1);
        let k = run.steps_done();
        if k % 10 == 0 {
            bar.set_message(format!("{:.4}", window_mean(&losses)));
        }
        if every > 0 && k % every == 0 && k < total {
            let state = run.state()?;
            // A non-finite gradient shows first in the weights it updated: such a state is never
            // written over the last good checkpoint.
            if let Some(p) = non_finite_param(&state) {
                bar.abandon();
                return Err(diverged(
                    a,
                    run.lr(),
                    k,
                    &format!("the weights '{p}' became non-finite"),
                    last_good,
                ));
            }
            checkpoint::save(
                &a.out,
                &Checkpoint {
                    state,
                    losses: losses.clone(),
                },
            )?;
            write_losses(&a.out, &losses)?;
            last_good = Some(k);
        }
        if sample_every > 0 && k % sample_every == 0 && k < total {
            bar.suspend(|| run.figure(&a.out.join("samples").join(format!("step-{k:06}.png"))))?;
        }
    }
    bar.finish();
    let state = run.state()?;
    if let Some(p) = non_finite_param(&state) {
        return Err(diverged(
            a,
            run.lr(),
            total,
            &format!("the weights '{p}' became non-finite"),
            last_good,
        ));
    }
    checkpoint::save(
        &a.out,
        &Checkpoint {
            state,
            losses: losses.clone(),
        },
    )?;
    write_losses(&a.out, &losses)?;
    let final_loss = window_mean(&losses);
    run.save(&a.out, final_loss)?;
    run.figure(&a.out.join("samples").join(format!("step-{total:06}.png")))?;
    println!(
        "trained {total} steps (final loss {final_loss:.4}); wrote {}",
        a.out.display()
    );
    Ok(())
}

/// The first parameter (or EMA copy) holding a non-finite value.
fn non_finite_param(state: &TrainerState) -> Option<String> {
    state
        .model
        .iter()
        .chain(state.ema.iter().flatten())
        .find(|p| p.values.iter().any(|v| !v.is_finite()))
        .map(|p| p.path.clone())
}

/// A run stopped by a numerical fault at `step`: the last good checkpoint stays, and the message
/// says how to continue from it at a tenth of the rate.
fn diverged(a: &TrainArgs, lr: f64, step: usize, what: &str, last_good: Option<usize>) -> Error {
    let lower = lr / 10.0;
    let out = a.out.display();
    Error::invalid(match last_good {
        Some(k) => format!(
            "{what} at step {step}; the last good checkpoint (step {k}) is kept in {out}/checkpoints: \
             continue from it at a lower rate with `dplay train --resume --out {out} --lr {lower:e}` \
             (or add --grad-clip 1)"
        ),
        None => format!(
            "{what} at step {step}, before any checkpoint; start again with a lower rate \
             (--lr {lower:e}) or --grad-clip 1"
        ),
    })
}

/// Mean of the last 100 losses.
fn window_mean(losses: &[f32]) -> f64 {
    let tail = &losses[losses.len().saturating_sub(100)..];
    tail.iter().map(|&l| l as f64).sum::<f64>() / tail.len().max(1) as f64
}

/// `loss.csv`: the loss of every step so far.
fn write_losses(out: &Path, losses: &[f32]) -> Result<()> {
    let mut text = String::from("step,loss\n");
    for (i, l) in losses.iter().enumerate() {
        text.push_str(&format!("{},{l:e}\n", i + 1));
    }
    write_atomic(&out.join("loss.csv"), text.as_bytes())
}

fn write_figure(path: &Path, png: &[u8]) -> Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| Error::write(dir, e))?;
    }
    write_atomic(path, png)
}

// ---------------------------------------------------------------------------------------------
// Points: an MLP with any objective.

struct PointRun {
    trainer: Trainer,
    device: Device,
}

fn train_points(
    a: &TrainArgs,
    data: TrainData,
    origin: String,
    devices: &[Device],
    resume: Option<Checkpoint>,
) -> Result<()> {
    if a.model == Some(ModelArg::Unet) || a.unet_config.is_some() {
        return Err(Error::invalid(format!(
            "{origin} holds points; a UNet trains on images (use --model mlp)"
        )));
    }
    let objective = a.objective()?;
    // The options the page shares (one set of defaults and ranges), then the CLI's own.
    let d = TrainOptions::default();
    let shared = TrainOptions {
        hidden: a.hidden.unwrap_or(d.hidden),
        depth: a.depth.unwrap_or(d.depth),
        lr: a.lr.unwrap_or(d.lr),
        batch_size: a.batch_size.unwrap_or(d.batch_size),
        steps: a.steps.unwrap_or(d.steps),
        seed: a.seed.unwrap_or(d.seed),
    };
    let base = shared.config(data.dim(), objective)?;
    let optim = a.optim(&base.optim())?;
    let config = base
        .with_warmup(optim.warmup)
        .with_lr_min_ratio(optim.lr_min_ratio)
        .with_cooldown(optim.cooldown)
        .with_grad_clip(optim.grad_clip)
        .with_ema_decay(optim.ema_decay)
        .with_shards(optim.shards)
        .with_seed(optim.seed);
    config.validate()?;
    let trainer = Trainer::on_devices(config, data, devices)?.with_data_origin(origin);
    let mut run = PointRun {
        trainer,
        device: devices[0].clone(),
    };
    run_loop(a, &mut run, optim.steps, resume)
}

impl Run for PointRun {
    fn step(&mut self) -> f32 {
        self.trainer.step().into_scalar()
    }

    fn lr(&self) -> f64 {
        self.trainer.config().lr
    }

    fn steps_done(&self) -> usize {
        self.trainer.steps_done()
    }

    fn state(&self) -> Result<TrainerState> {
        self.trainer.state()
    }

    fn restore(&mut self, state: TrainerState) -> Result<()> {
        self.trainer.restore(state)
    }

    /// 2000 data points (grey) and 2000 samples (blue) of the first two coordinates: a model on
    /// a process is sampled by its process's default sampler, a one-level score is shown by its
    /// data alone.
    fn figure(&self, path: &Path) -> Result<()> {
        const N: usize = 2000;
        let d = self.trainer.data().dim();
        if d < 2 {
            return Ok(());
        }
        let data = self.trainer.data().sample(N, &mut noise::rng(1));
        let samples = match self.trainer.model_process() {
            Some(process) => {
                let net = self.trainer.export_model();
                let built = process.build()?;
                let score = NetworkScore::new(
                    &net,
                    self.trainer.config().objective.parameterization(),
                    process.num_steps(),
                );
                let spec = SamplerSpec::default_for(&process);
                let mut s = spec.build_on(&built, ScoreSource::Learned, no_data, 2)?;
                s.reset_from_prior(N, d, &self.device);
                to_vec(s.run(&score)?)?
            }
            None => Vec::new(),
        };
        let first2 =
            |v: &[f32]| -> Vec<f32> { v.chunks_exact(d).flat_map(|r| [r[0], r[1]]).collect() };
        write_figure(
            path,
            &figures::scatter_png(&first2(&data), &first2(&samples), 512)?,
        )
    }

    fn save(&self, out: &Path, final_loss: f64) -> Result<()> {
        bundle::save(
            out,
            &self.trainer.export_model(),
            &self.trainer.card(Some(final_loss)),
        )
    }
}

fn to_vec(x: Tensor<2>) -> Result<Vec<f32>> {
    x.into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .map_err(|e| Error::Device(format!("{e:?}")))
}

// ---------------------------------------------------------------------------------------------
// Images: a diffusers UNet2DModel with DDPM's L_simple.

/// The small UNet the CLI trains when no --unet-config is given: three levels of (32, 64, 64)
/// channels, one resnet each, self-attention at the middle level; about 1.1M parameters at
/// 28×28×1. The image side must be a multiple of 4.
fn small_unet(images: &ImageSet) -> UNet2DConfig {
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect();
    UNet2DConfig {
        sample_size: Some(Value::from(images.height)),
        in_channels: images.channels,
        out_channels: images.channels,
        block_out_channels: vec![32, 64, 64],
        layers_per_block: 1,
        down_block_types: s(&["DownBlock2D", "AttnDownBlock2D", "DownBlock2D"]),
        up_block_types: s(&["UpBlock2D", "AttnUpBlock2D", "UpBlock2D"]),
        attention_head_dim: Some(32),
        norm_num_groups: 16,
        ..UNet2DConfig::default()
    }
}

struct ImageRun {
    trainer: ImageTrainer,
    device: Device,
}

fn train_images(
    a: &TrainArgs,
    images: ImageSet,
    origin: String,
    devices: &[Device],
    resume: Option<Checkpoint>,
) -> Result<()> {
    if a.model == Some(ModelArg::Mlp) {
        return Err(Error::invalid(format!(
            "{origin} holds images; train them with a UNet (--model unet)"
        )));
    }
    if let Some(o) = a.objective.filter(|&o| o != ObjectiveArg::Ddpm) {
        return Err(Error::invalid(format!(
            "images train with the ddpm objective (L_simple on a UNet); --objective {o:?} is for points"
        )));
    }
    if let Some(p) = a.process.filter(|&p| p != ProcessArg::Vp) {
        return Err(Error::invalid(format!(
            "images train with the ddpm objective on the VP process, not {p:?}"
        )));
    }
    let unet = match &a.unet_config {
        Some(p) => {
            let text = std::fs::read_to_string(p).map_err(|e| Error::read(p, e))?;
            UNet2DConfig::from_json(&text).map_err(|e| Error::format(p, e))?
        }
        None => small_unet(&images),
    };
    if unet.num_class_embeds.is_some() {
        return Err(Error::invalid(
            "a class-conditional UNet (num_class_embeds) trains on labelled images, which dplay train does not read yet; drop num_class_embeds",
        ));
    }
    let defaults = OptimConfig::new()
        .with_batch_size(64)
        .with_lr(1e-3)
        .with_warmup(200)
        .with_grad_clip(Some(1.0));
    let optim = a.optim(&defaults)?;
    let config = ImageTrainConfig {
        unet,
        schedule: a.schedule(),
        optim,
    };
    let trainer = ImageTrainer::new(config, images, devices)?;
    let total = trainer.config().optim.steps;
    let mut run = ImageRun {
        trainer,
        device: devices[0].clone(),
    };
    run_loop(a, &mut run, total, resume)
}

impl Run for ImageRun {
    fn step(&mut self) -> f32 {
        self.trainer.step().into_scalar()
    }

    fn lr(&self) -> f64 {
        self.trainer.config().optim.lr
    }

    fn steps_done(&self) -> usize {
        self.trainer.steps_done()
    }

    fn state(&self) -> Result<TrainerState> {
        self.trainer.state()
    }

    fn restore(&mut self, state: TrainerState) -> Result<()> {
        self.trainer.restore(state)
    }

    /// A 4×4 grid of samples: DDIM, 50 steps, η = 0, x̂₀ clipped to [-1, 1].
    fn figure(&self, path: &Path) -> Result<()> {
        let net: UNet2D = self.trainer.export_model();
        let data = self.trainer.data();
        let image = [data.channels, data.height, data.width];
        let process = self.trainer.process().clone();
        let t = process.num_steps();
        let score = UNetScore {
            net: &net,
            image,
            train_steps: t,
            prediction: Parameterization::Epsilon,
            labels: None,
        };
        let mut s = SamplerSpec::Ddim {
            steps: 50.min(t),
            eta: 0.0,
            spacing: TimestepSpacing::Leading,
            clip: Some(1.0),
            end: DdimEnd::Data,
        }
        .build_on(&process.into(), ScoreSource::Learned, no_data, 3)?;
        s.reset_from_prior(16, image.iter().product(), &self.device);
        let x = to_vec(s.run(&score)?)?;
        write_figure(
            path,
            &figures::grid_png(&x, [16, image[0], image[1], image[2]], 4)?,
        )
    }

    /// A diffusers folder (config.json + diffusion_pytorch_model.safetensors), its
    /// scheduler_config.json, and train.json.
    fn save(&self, out: &Path, final_loss: f64) -> Result<()> {
        self.trainer.export_model().save_diffusers(out)?;
        write_atomic(
            &out.join(SCHEDULER_FILE),
            scheduler_json(&self.trainer.config().schedule).as_bytes(),
        )?;
        let card = serde_json::json!({
            "train": self.trainer.config(),
            "trained_steps": self.trainer.steps_done(),
            "final_loss": final_loss,
            "ema": self.trainer.config().optim.ema_decay.is_some(),
        });
        let json =
            serde_json::to_string_pretty(&card).map_err(|e| Error::invalid(e.to_string()))?;
        write_atomic(&out.join("train.json"), json.as_bytes())
    }
}
