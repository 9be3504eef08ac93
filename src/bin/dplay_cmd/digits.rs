//! `dplay digits`: the check that a digit model's samples are recognisably digits. `classifier`
//! trains the judge (a small CNN) on the shipped digits; `check` samples a UNet folder and
//! reports the fraction the judge labels with confidence above a threshold; `judge` labels a grid
//! of samples written before (`check --grid`).

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};

use burn::prelude::{Device, Tensor, TensorData};
use diffusion_playground::data::source;
use diffusion_playground::error::{Error, Result};
use diffusion_playground::io::{figures, write_atomic};
use diffusion_playground::model::classifier::{
    judge, train_classifier, ClassifierConfig, DigitClassifier, DigitVerdict,
};
use diffusion_playground::model::unet::scheduler::SchedulerSettings;
use diffusion_playground::model::unet::UNetScore;
use diffusion_playground::process::VpProcess;
use diffusion_playground::sampler::{no_data, DdimEnd, SamplerSpec, ScoreSource, TimestepSpacing};
use diffusion_playground::train::params;

use super::predict::load_unet;
use super::{check_writable_dir, device, DeviceArg};

const WEIGHTS: &str = "classifier.safetensors";
const CARD: &str = "classifier.json";

#[derive(Args)]
pub(crate) struct DigitsArgs {
    #[command(subcommand)]
    command: DigitsCommand,
}

#[derive(Subcommand)]
enum DigitsCommand {
    /// Train the judge on the shipped digits (a seeded 1000 held out for its accuracy).
    Classifier {
        #[arg(long)]
        out: PathBuf,
        #[arg(long, default_value_t = 2000)]
        steps: usize,
        #[arg(long, default_value_t = 0)]
        seed: u64,
        #[arg(long, value_enum, default_value_t = DeviceArg::Flex)]
        device: DeviceArg,
    },
    /// Sample a digit UNet folder with DDIM and let the judge label the samples.
    Check {
        /// A UNet folder trained on the digits (dplay train --data digits).
        #[arg(long)]
        model: PathBuf,
        /// The judge's folder (dplay digits classifier).
        #[arg(long)]
        classifier: PathBuf,
        #[arg(long, default_value_t = 256)]
        n: usize,
        /// DDIM steps (η = 0).
        #[arg(long, default_value_t = 50)]
        steps: usize,
        #[arg(long, default_value_t = 0.9)]
        threshold: f64,
        /// Fail (exit 1) when fewer than this fraction are confidently labelled.
        #[arg(long)]
        require: Option<f64>,
        /// Write the samples as a PNG grid.
        #[arg(long)]
        grid: Option<PathBuf>,
        #[arg(long, default_value_t = 0)]
        seed: u64,
        #[arg(long, value_enum, default_value_t = DeviceArg::Flex)]
        device: DeviceArg,
    },
    /// Let the judge label a PNG grid of digits, 16 to a row, as `check --grid` writes it.
    Judge {
        #[arg(long)]
        grid: PathBuf,
        /// The judge's folder (dplay digits classifier).
        #[arg(long)]
        classifier: PathBuf,
        /// How many tiles of the grid to judge, from its top left.
        #[arg(long, default_value_t = 256)]
        n: usize,
        #[arg(long, default_value_t = 0.9)]
        threshold: f64,
        /// Fail (exit 1) when fewer than this fraction are confidently labelled.
        #[arg(long)]
        require: Option<f64>,
    },
}

/// Tiles to a row of the grids `check --grid` writes and `judge` reads.
const GRID_COLS: usize = 16;

fn load_judge(classifier: &Path, device: &Device) -> Result<DigitClassifier> {
    let path = classifier.join(WEIGHTS);
    let bytes = std::fs::read(&path).map_err(|e| Error::read(&path, e))?;
    params::apply(
        DigitClassifier::new(device),
        &params::from_safetensors(&bytes, &path)?,
    )
    .map_err(|e| Error::format(&path, e))
}

/// Prints the verdict as one JSON line; an error when it falls short of `require`.
fn report(verdict: &DigitVerdict, require: Option<f64>) -> Result<()> {
    println!(
        "{}",
        serde_json::to_string(verdict).map_err(|e| Error::invalid(e.to_string()))?
    );
    match require {
        Some(r) if verdict.confident < r => Err(Error::invalid(format!(
            "{:.1}% of {} samples are labelled with confidence > {}; {:.1}% required",
            100.0 * verdict.confident,
            verdict.n,
            verdict.threshold,
            100.0 * r
        ))),
        _ => Ok(()),
    }
}

pub(crate) fn digits(a: DigitsArgs) -> Result<()> {
    match a.command {
        DigitsCommand::Classifier {
            out,
            steps,
            seed,
            device: d,
        } => {
            let config = ClassifierConfig::new().with_steps(steps).with_seed(seed);
            config.validate()?;
            check_writable_dir(&out)?;
            let data = source::digits()?;
            let trained = train_classifier(&data, &config, &device(d)?)?;
            let bytes = params::to_safetensors(&params::collect(&trained.model)?)?;
            write_atomic(&out.join(WEIGHTS), &bytes)?;
            let card = serde_json::json!({
                "config": config,
                "held_out_accuracy": trained.held_out_accuracy,
            });
            write_atomic(
                &out.join(CARD),
                serde_json::to_string_pretty(&card)
                    .expect("JSON")
                    .as_bytes(),
            )?;
            println!(
                "classifier: {:.1}% on {} held-out digits; wrote {}",
                100.0 * trained.held_out_accuracy,
                config.held_out,
                out.display()
            );
            Ok(())
        }
        DigitsCommand::Check {
            model,
            classifier,
            n,
            steps,
            threshold,
            require,
            grid,
            seed,
            device: d,
        } => {
            let device = device(d)?;
            let judge_net = load_judge(&classifier, &device)?;
            let net = load_unet(&model, &device)?;
            let c = net.config.in_channels;
            if c != 1 {
                return Err(Error::invalid(format!(
                    "{} makes {c}-channel images; digits have one",
                    model.display()
                )));
            }
            let scheduler = SchedulerSettings::read(&model)?;
            let process = VpProcess::new(scheduler.schedule)?;
            let score = UNetScore::new(&net, [1, 28, 28], &scheduler);
            let mut s = SamplerSpec::Ddim {
                steps,
                eta: 0.0,
                spacing: TimestepSpacing::Leading,
                clip: None,
                end: DdimEnd::Data,
            }
            .under_scheduler(scheduler.clip, scheduler.end)
            .build_on(&process.into(), ScoreSource::Learned, no_data, seed)?;
            s.reset_from_prior(n, 28 * 28, &device);
            let x = s.run(&score)?;
            let verdict = judge(&judge_net, x.clone().reshape([n, 1, 28, 28]), threshold)?;
            if let Some(g) = grid {
                let v = x
                    .into_data()
                    .convert::<f32>()
                    .try_into_vec::<f32>()
                    .map_err(|e| Error::Device(format!("{e:?}")))?;
                write_atomic(&g, &figures::grid_png(&v, [n, 1, 28, 28], GRID_COLS)?)?;
            }
            report(&verdict, require)
        }
        DigitsCommand::Judge {
            grid,
            classifier,
            n,
            threshold,
            require,
        } => {
            let device = Device::flex();
            let judge_net = load_judge(&classifier, &device)?;
            let v = figures::read_grid_png(&grid, n, [1, 28, 28], GRID_COLS)?;
            let x = Tensor::<4>::from_data(TensorData::new(v, [n, 1, 28, 28]), &device);
            report(&judge(&judge_net, x, threshold)?, require)
        }
    }
}
