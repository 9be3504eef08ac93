//! `dplay`: the native command line of Diffusion Playground.

use std::path::Path;
use std::process::ExitCode;

use burn::prelude::*;
use clap::{Parser, Subcommand, ValueEnum};

use diffusion_playground::error::{Error, Result};
use diffusion_playground::schedule::BetaSchedule;

#[path = "dplay_cmd/bench.rs"]
mod bench;
#[path = "dplay_cmd/bench_train.rs"]
mod bench_train;
#[path = "dplay_cmd/bench_unet.rs"]
mod bench_unet;
#[path = "dplay_cmd/digits.rs"]
mod digits;
#[path = "dplay_cmd/experiment.rs"]
mod experiment;
#[path = "dplay_cmd/likelihood.rs"]
mod likelihood;
#[path = "dplay_cmd/predict.rs"]
mod predict;
#[path = "dplay_cmd/sample.rs"]
mod sample;
#[path = "dplay_cmd/schedule.rs"]
mod schedule;
#[path = "dplay_cmd/train.rs"]
mod train;

use bench::BenchArgs;
use digits::DigitsArgs;
use experiment::ExperimentArgs;
use likelihood::LikelihoodArgs;
use predict::PredictArgs;
use sample::SampleArgs;
use schedule::ScheduleArgs;
use train::TrainArgs;

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
    /// Train an MLP on points (DDPM's L_simple or a score-matching objective) or a UNet on
    /// images, with checkpoints that --resume continues exactly.
    Train(TrainArgs),
    /// Draw samples with any sampler, driven by a trained model (--model) or by the exact score of
    /// a mixture (--data, --score oracle); writes a float32 .npy [n, d].
    Sample(SampleArgs),
    /// log p(x) per point by the probability-flow ODE (Dormand–Prince, exact or Hutchinson
    /// divergence), for a trained model (--model) or the exact mixture score (--data), with
    /// bits/dim for images (--bpd).
    Likelihood(LikelihoodArgs),
    /// The raw output of a diffusers UNet2DModel folder for images --x at timesteps --t.
    Predict(PredictArgs),
    /// Print the tables of a process: DDPM's β schedule, NCSN's σ levels, or an SDE's marginal.
    Schedule(ScheduleArgs),
    /// Judge generated digits: train the classifier, or check a digit model's samples.
    Digits(DigitsArgs),
    /// Run one of the seeds' experiments.
    Experiment(ExperimentArgs),
    /// Reverse steps per second of every sampler, with the oracle and with the default MLP, and
    /// the MLP's training steps per second for every objective, per device.
    Bench(BenchArgs),
    /// Print the catalogue as JSON: every process, objective, score source and sampler with its
    /// options, defaults and equation (what the page builds its controls from).
    Catalogue,
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

#[derive(Clone, Copy, ValueEnum, PartialEq, Debug, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
enum ScheduleArg {
    Linear,
    Cosine,
    ScaledLinear,
}

impl From<ScheduleArg> for BetaSchedule {
    fn from(s: ScheduleArg) -> Self {
        match s {
            ScheduleArg::Linear => BetaSchedule::Linear,
            ScheduleArg::Cosine => BetaSchedule::Cosine,
            ScheduleArg::ScaledLinear => BetaSchedule::ScaledLinear,
        }
    }
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Debug)]
enum VarianceArg {
    Beta,
    BetaTilde,
}

fn main() -> ExitCode {
    // Panics are bugs; print them as one line, never a backtrace.
    std::panic::set_hook(Box::new(|info| {
        eprintln!("error: internal error: {info}");
    }));
    // A usage error is an error like any other: one `error:` line and status 1 (clap's own
    // status is 2); --help and --version print and succeed.
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            if e.kind() == clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
                eprintln!("error: give a subcommand (listed above)");
            }
            return if e.use_stderr() {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    let result = match cli.command {
        Command::Train(a) => train::train(a),
        Command::Sample(a) => sample::sample(a),
        Command::Likelihood(a) => likelihood::likelihood(a),
        Command::Predict(a) => predict::predict(a),
        Command::Schedule(a) => schedule::schedule(a),
        Command::Experiment(a) => experiment::experiment(a),
        Command::Digits(a) => digits::digits(a),
        Command::Bench(a) => bench::bench(a),
        Command::Catalogue => {
            println!("{}", diffusion_playground::catalogue::catalogue_json());
            Ok(())
        }
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
