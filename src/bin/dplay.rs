//! `dplay`: the native command line of Diffusion Playground.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use burn::prelude::*;
use clap::{Args, Parser, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};

use diffusion_playground::bundle;
use diffusion_playground::data::GaussianMixture;
use diffusion_playground::error::{Error, Result};
use diffusion_playground::model::MlpConfig;
use diffusion_playground::process::VpProcess;
use diffusion_playground::sampler::{AncestralSampler, PosteriorVariance};
use diffusion_playground::schedule::{BetaSchedule, ScheduleConfig};
use diffusion_playground::train::{TrainConfig, Trainer};

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
    /// Train an ε-prediction MLP on a Gaussian mixture (L_simple) and save model.safetensors + config.json.
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
    /// Also time DDPM's CIFAR-10 UNet (35.7M parameters, 32×32×3): forwards/s and train steps/s.
    #[arg(long)]
    unet: bool,
    /// Batch of the UNet's timed training steps.
    #[arg(long, default_value_t = 128)]
    unet_batch: usize,
    /// Batch of the UNet's timed forward passes.
    #[arg(long, default_value_t = 128)]
    unet_forward_batch: usize,
    /// Timed UNet forwards and training steps (after one warm-up each).
    #[arg(long, default_value_t = 3)]
    unet_steps: usize,
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

fn bench(a: BenchArgs) -> Result<()> {
    if a.n == 0
        || a.steps == 0
        || a.unet_batch == 0
        || a.unet_forward_batch == 0
        || a.unet_steps == 0
    {
        return Err(Error::invalid(
            "--n, --steps, --unet-batch, --unet-forward-batch and --unet-steps must be at least 1",
        ));
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
        if a.unet {
            bench_unet::bench_unet(
                &format!("{kind:?}"),
                &dev,
                a.unet_forward_batch,
                a.unet_batch,
                a.unet_steps,
            )?;
        }
    }
    Ok(())
}
