//! `dplay bench`'s training rows: optimiser steps per second of the page's default MLP
//! (2 → 128 ×3 residual → 2, Adam) on the 3-component mixture, each objective at every level of
//! DDPM's VP process, as the page trains it; and the names of the machine and the adapter the
//! figures belong to.

use std::time::Instant;

use burn::prelude::*;

use diffusion_playground::data::GaussianMixture;
use diffusion_playground::error::{Error, Result};
use diffusion_playground::model::MlpConfig;
use diffusion_playground::process::ProcessConfig;
use diffusion_playground::score::{Loss, Objective};
use diffusion_playground::train::{TrainConfig, Trainer};

/// Untimed steps first: kernel compilation and allocation.
const WARMUP: usize = 3;

/// Seconds per optimiser step of `objective` at `batch` on `device`.
/// The run `time_training` times: the default MLP with `objective` on DDPM's VP chain.
pub(crate) fn bench_config(objective: Loss, batch: usize, steps: usize) -> TrainConfig {
    TrainConfig::new()
        .with_model(MlpConfig::new())
        .with_objective(Objective::new(objective, ProcessConfig::default()))
        .with_batch_size(batch)
        .with_steps(WARMUP + steps)
}

pub(crate) fn time_training(
    mixture: &GaussianMixture,
    objective: Loss,
    batch: usize,
    steps: usize,
    device: &Device,
) -> Result<f64> {
    let config = bench_config(objective, batch, steps);
    let mut trainer = Trainer::new(config, mixture.clone(), device)?;
    let read = |loss: Tensor<1>| {
        loss.into_data()
            .try_into_vec::<f32>()
            .map_err(|e| Error::Device(format!("{e:?}")))
    };
    for _ in 0..WARMUP {
        read(trainer.step())?;
    }
    let start = Instant::now();
    let mut sum = trainer.step();
    for _ in 1..steps {
        sum = sum + trainer.step();
    }
    // Reading the summed loss back waits for every queued kernel.
    read(sum)?;
    Ok(start.elapsed().as_secs_f64() / steps as f64)
}

/// The CPU's model name and its logical cores, e.g. "AMD EPYC 7B13 (2 logical cores)".
pub(crate) fn machine() -> String {
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, name)| name.trim().to_string())
        })
        .unwrap_or_else(|| std::env::consts::ARCH.to_string());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    format!("{model} ({cores} logical cores)")
}

/// The adapter behind `device` as it names itself (a GPU, or a CPU emulation such as lavapipe);
/// the CPU's name for flex.
pub(crate) fn adapter(device: &Device) -> String {
    device
        .as_dispatch()
        .identity()
        .map(|i| i.name)
        .unwrap_or_else(machine)
}
