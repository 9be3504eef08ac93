//! `dplay`: the native command line of Diffusion Playground.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use burn::prelude::*;
use clap::{Args, Parser, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};

use diffusion_playground::bundle;
use diffusion_playground::data::GaussianMixture;
use diffusion_playground::error::{Error, Result};
use diffusion_playground::model::MlpConfig;
use diffusion_playground::process::VeConfig;
use diffusion_playground::schedule::{BetaSchedule, ScheduleConfig};
use diffusion_playground::score::{Objective, Projection};
use diffusion_playground::train::{TrainConfig, Trainer};

#[path = "dplay_cmd/bench.rs"]
mod bench;
#[path = "dplay_cmd/bench_unet.rs"]
mod bench_unet;
#[path = "dplay_cmd/experiment.rs"]
mod experiment;
#[path = "dplay_cmd/predict.rs"]
mod predict;
#[path = "dplay_cmd/sample.rs"]
mod sample;
#[path = "dplay_cmd/schedule.rs"]
mod schedule;

use bench::BenchArgs;
use experiment::ExperimentArgs;
use predict::PredictArgs;
use sample::SampleArgs;
use schedule::ScheduleArgs;

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
    /// Train an MLP on a Gaussian mixture (DDPM's L_simple, or a score-matching objective) and
    /// save model.safetensors + config.json.
    Train(TrainArgs),
    /// Draw samples with any sampler, driven by a trained model (--model) or by the exact score of
    /// a mixture (--data, --score oracle); writes a float32 .npy [n, d].
    Sample(SampleArgs),
    /// The raw output of a diffusers UNet2DModel folder for images --x at timesteps --t.
    Predict(PredictArgs),
    /// Print the tables of a process: DDPM's β schedule, NCSN's σ levels, or an SDE's marginal.
    Schedule(ScheduleArgs),
    /// Run one of the seeds' experiments.
    Experiment(ExperimentArgs),
    /// Reverse steps per second of every sampler, with the oracle and with the default MLP, per
    /// device.
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

#[derive(Clone, Copy, ValueEnum, PartialEq, Debug)]
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
    /// Denoising score matching at one σ, --sigma (Vincent 2011).
    Dsm,
    /// NCSN: DSM over --levels VE levels from --sigma-max to --sigma-min, λ(σ) = σ².
    Ncsn,
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
    /// The training objective; all but ddpm learn a score network.
    #[arg(long, value_enum, default_value_t = ObjectiveArg::Ddpm)]
    objective: ObjectiveArg,
    /// dsm: the noise level σ.
    #[arg(long, default_value_t = 0.1, allow_negative_numbers = true)]
    sigma: f64,
    /// ssm, ssm-vr: the law of the projections v.
    #[arg(long, value_enum, default_value_t = ProjectionArg::Rademacher)]
    projection: ProjectionArg,
    /// ssm, ssm-vr: projections per point.
    #[arg(long, default_value_t = 1)]
    projections: usize,
    /// ncsn: smallest and largest σ, and the number of levels L.
    #[arg(long, default_value_t = 0.01, allow_negative_numbers = true)]
    sigma_min: f64,
    #[arg(long, default_value_t = 10.0, allow_negative_numbers = true)]
    sigma_max: f64,
    #[arg(long, default_value_t = 10)]
    levels: usize,
    #[arg(long, value_enum, default_value_t = DeviceArg::Flex)]
    device: DeviceArg,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Debug)]
enum ProjectionArg {
    Gaussian,
    Rademacher,
}

impl TrainArgs {
    fn objective(&self) -> Objective {
        let ssm = |variance_reduced| Objective::Ssm {
            projection: match self.projection {
                ProjectionArg::Gaussian => Projection::Gaussian,
                ProjectionArg::Rademacher => Projection::Rademacher,
            },
            projections: self.projections,
            variance_reduced,
        };
        match self.objective {
            ObjectiveArg::Ddpm => Objective::Ddpm,
            ObjectiveArg::Esm => Objective::Esm,
            ObjectiveArg::Ism => Objective::Ism,
            ObjectiveArg::Ssm => ssm(false),
            ObjectiveArg::SsmVr => ssm(true),
            ObjectiveArg::Dsm => Objective::Dsm { sigma: self.sigma },
            ObjectiveArg::Ncsn => Objective::Ncsn(VeConfig {
                sigma_min: self.sigma_min,
                sigma_max: self.sigma_max,
                levels: self.levels,
            }),
        }
    }
}

fn main() -> ExitCode {
    // Panics are bugs; print them as one line, never a backtrace.
    std::panic::set_hook(Box::new(|info| {
        eprintln!("error: internal error: {info}");
    }));
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Train(a) => train(a),
        Command::Sample(a) => sample::sample(a),
        Command::Predict(a) => predict::predict(a),
        Command::Schedule(a) => schedule::schedule(a),
        Command::Experiment(a) => experiment::experiment(a),
        Command::Bench(a) => bench::bench(a),
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
        .with_objective(a.objective())
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
