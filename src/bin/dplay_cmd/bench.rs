//! `dplay bench`: reverse steps per second for every sampler, driven by the exact mixture oracle
//! and by the default-size MLP, and the MLP's training steps per second for every objective, on
//! each device, with the machine and the adapter named. Speed only: the MLP is untrained (its
//! weights do not change the cost of a step).

use std::path::PathBuf;
use std::time::Instant;

use burn::prelude::*;
use clap::Args;
use serde_json::json;

use diffusion_playground::budget;
use diffusion_playground::data::{GaussianMixture, MixtureScore};
use diffusion_playground::error::{Error, Result};
use diffusion_playground::model::{Mlp, MlpConfig, NetworkScore, Parameterization, ScoreModel};
use diffusion_playground::noise;
use diffusion_playground::process::{ProcessConfig, VeConfig};
use diffusion_playground::sampler::{
    DdimEnd, OdeMethod, Sampler, SamplerSpec, ScoreSource, SdeKind, TimestepSpacing,
};
use diffusion_playground::score::Loss;

use super::bench_train::{adapter, machine, time_training};
use super::{device, DeviceArg};

/// The mixture the oracle rows use (data/mixture3.json).
const MIXTURE: &str = include_str!("../../../data/mixture3.json");
/// Untimed steps first: kernel compilation and allocation.
const WARMUP: usize = 3;

#[derive(Args)]
pub(crate) struct BenchArgs {
    /// Points per batch.
    #[arg(long, default_value_t = 10_000)]
    n: usize,
    /// Timed reverse steps per sampler (after 3 warm-up steps).
    #[arg(long, default_value_t = 20)]
    steps: usize,
    /// Devices to time; default flex and wgpu.
    #[arg(long, value_enum, num_args = 1..)]
    device: Vec<DeviceArg>,
    /// Only these samplers (names as in the table); default all.
    #[arg(long, num_args = 1..)]
    sampler: Vec<String>,
    /// Timed training steps of the MLP per objective (after 3 warm-up steps); 0 skips training.
    #[arg(long, default_value_t = 10)]
    train_steps: usize,
    /// Batch of the MLP's training steps (the page's default).
    #[arg(long, default_value_t = 256)]
    train_batch: usize,
    /// Only these objectives (ddpm, ncsn, dsm, ssm, ism, esm); default all.
    #[arg(long, num_args = 1..)]
    objective: Vec<String>,
    /// Also write every figure to this JSON file (the browser benchmark prints them beside its own).
    #[arg(long)]
    json: Option<PathBuf>,
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

/// Every sampler, each long enough for the warm-up and the default timed steps, on the process
/// its network row reads the MLP on: DDPM's VP chain (an ε-network), NCSN's VE levels for
/// annealed Langevin (a score network). Plain Langevin runs on the data score for the oracle and
/// at the process's least noisy step for the network.
fn samplers() -> Vec<(&'static str, SamplerSpec, ProcessConfig)> {
    let vp = ProcessConfig::default();
    let ve = ProcessConfig::Ve(VeConfig {
        sigma_min: 0.1,
        sigma_max: 20.0,
        levels: 10,
    });
    let ddim = |eta| SamplerSpec::Ddim {
        steps: 200,
        eta,
        spacing: TimestepSpacing::Trailing,
        clip: None,
        end: DdimEnd::Data,
    };
    let ode = |method| SamplerSpec::Ode {
        steps: 1000,
        method,
        process: SdeKind::Vp,
        t_end: None,
    };
    vec![
        ("ancestral", SamplerSpec::default(), vp),
        ("ddim-eta0", ddim(0.0), vp),
        ("ddim-eta1", ddim(1.0), vp),
        (
            "langevin",
            SamplerSpec::Langevin {
                steps: 1000,
                step_size: 0.01,
            },
            vp,
        ),
        (
            "annealed-langevin",
            SamplerSpec::AnnealedLangevin {
                levels: 10,
                n_per_level: 100,
                step_size: 5e-3,
                sigma_min: 0.1,
                sigma_max: Some(20.0),
            },
            ve,
        ),
        (
            "euler-maruyama",
            SamplerSpec::EulerMaruyama {
                steps: 1000,
                process: SdeKind::Vp,
                t_end: None,
            },
            vp,
        ),
        (
            "pc",
            SamplerSpec::Pc {
                steps: 1000,
                snr: 0.16,
                corrector_steps: 1,
                process: SdeKind::Vp,
                t_end: None,
            },
            vp,
        ),
        ("ode-euler", ode(OdeMethod::Euler), vp),
        ("ode-heun", ode(OdeMethod::Heun), vp),
    ]
}

/// Seconds per step of `sampler` with `model` on `n` points.
fn time_sampler(
    sampler: &mut dyn Sampler,
    model: &dyn ScoreModel,
    n: usize,
    steps: usize,
    device: &Device,
) -> Result<f64> {
    sampler.reset_from_prior(n, 2, device);
    for _ in 0..WARMUP {
        sampler.step(model)?;
    }
    device.sync().map_err(|e| Error::Device(format!("{e:?}")))?;
    let steps = steps.min(sampler.remaining());
    let start = Instant::now();
    for _ in 0..steps {
        sampler.step(model)?;
    }
    // Reading the sample back waits for every queued kernel.
    let _ = sampler.current().expect("reset above").clone().into_data();
    Ok(start.elapsed().as_secs_f64() / steps as f64)
}

pub(crate) fn bench(a: BenchArgs) -> Result<()> {
    if a.n == 0
        || a.steps == 0
        || a.train_batch == 0
        || a.unet_batch == 0
        || a.unet_forward_batch == 0
        || a.unet_steps == 0
    {
        return Err(Error::invalid(
            "--n, --steps, --train-batch, --unet-batch, --unet-forward-batch and --unet-steps must be at least 1",
        ));
    }
    let mlp = MlpConfig::new();
    budget::check(
        &budget::Need::new(
            format!("sampling {} points", a.n),
            4 * budget::mlp_params(&mlp),
            budget::mlp_sampling_per_point(&mlp).max(budget::mixture_per_point(3, 2)),
            a.n as u64,
        )
        .with_unit("points")
        .with_knob("--n"),
    )?;
    let objectives: Vec<Loss> = if a.objective.is_empty() {
        Loss::ALL.to_vec()
    } else {
        a.objective
            .iter()
            .map(|o| o.parse())
            .collect::<Result<_>>()?
    };
    if a.train_steps > 0 {
        for &objective in &objectives {
            super::bench_train::bench_config(objective, a.train_batch, a.train_steps)
                .check_memory()?;
        }
    }
    if a.unet {
        super::bench_unet::check_unet(a.unet_forward_batch, a.unet_batch)?;
    }
    let known: Vec<&str> = samplers().into_iter().map(|(name, ..)| name).collect();
    if let Some(bad) = a.sampler.iter().find(|s| !known.contains(&s.as_str())) {
        return Err(Error::invalid(format!(
            "unknown sampler '{bad}' (expected one of {})",
            known.join(", ")
        )));
    }
    let devices = if a.device.is_empty() {
        vec![DeviceArg::Flex, DeviceArg::Wgpu]
    } else {
        a.device
    };
    let mix = GaussianMixture::from_json(MIXTURE, "data/mixture3.json")?;
    let oracle = MixtureScore::new(mix.clone());
    let machine = machine();
    println!("machine: {machine}");
    println!(
        "reverse sampling on {} points, {} timed steps after {WARMUP} warm-up steps; MLP = {:?}",
        a.n,
        a.steps,
        MlpConfig::new()
    );
    let mut rows = Vec::new();
    for kind in devices {
        let dev = match device(kind) {
            Ok(d) => d,
            Err(e) => {
                println!("{kind:?}: skipped ({e})");
                continue;
            }
        };
        let device_name = format!("{kind:?}").to_lowercase();
        let adapter = adapter(&dev);
        println!("{device_name}: {adapter}");
        println!(
            "{:<18} {:<7} {:<6} {:>10} {:>10} {:>16}",
            "sampler", "score", "device", "steps/s", "ms/step", "points·steps/s"
        );
        let net: Mlp = MlpConfig::new().init(&dev);
        for (source, score) in [
            ("oracle", ScoreSource::Oracle),
            ("mlp", ScoreSource::Learned),
        ] {
            for (name, spec, process) in samplers() {
                if !a.sampler.is_empty() && !a.sampler.iter().any(|s| s == name) {
                    continue;
                }
                let parameterization = match process {
                    ProcessConfig::Ve(_) => Parameterization::Score,
                    _ => Parameterization::Epsilon,
                };
                let network = NetworkScore::new(&net, parameterization, process.num_steps());
                let model: &dyn ScoreModel = match score {
                    ScoreSource::Oracle => &oracle,
                    _ => &network,
                };
                let mut sampler = spec.build_on(
                    &process.build()?,
                    score,
                    || Ok((mix.sample(2000, &mut noise::rng(0)), mix.dim())),
                    0,
                )?;
                let secs = time_sampler(sampler.as_mut(), model, a.n, a.steps, &dev)?;
                println!(
                    "{name:<18} {source:<7} {device_name:<6} {:>10.1} {:>10.2} {:>16.3e}",
                    1.0 / secs,
                    1e3 * secs,
                    a.n as f64 / secs
                );
                rows.push(json!({
                    "device": device_name, "adapter": adapter, "kind": "sample", "name": name,
                    "score": source, "n": a.n, "steps_per_sec": 1.0 / secs,
                }));
            }
        }
        if a.train_steps > 0 {
            println!(
                "{:<18} {:<7} {:<6} {:>10} {:>10}   (MLP training, batch {}, VP T = 1000)",
                "objective", "", "device", "steps/s", "ms/step", a.train_batch
            );
            for &objective in &objectives {
                let secs = time_training(&mix, objective, a.train_batch, a.train_steps, &dev)?;
                println!(
                    "{:<18} {:<7} {device_name:<6} {:>10.1} {:>10.2}",
                    format!("train {}", objective.name()),
                    "",
                    1.0 / secs,
                    1e3 * secs
                );
                rows.push(json!({
                    "device": device_name, "adapter": adapter, "kind": "train",
                    "name": objective.name(), "batch": a.train_batch, "steps_per_sec": 1.0 / secs,
                }));
            }
        }
        if a.unet {
            super::bench_unet::bench_unet(
                &format!("{kind:?}"),
                &dev,
                a.unet_forward_batch,
                a.unet_batch,
                a.unet_steps,
            )?;
        }
    }
    if let Some(path) = &a.json {
        let text = serde_json::to_string_pretty(&json!({ "machine": machine, "rows": rows }))
            .map_err(|e| Error::invalid(e.to_string()))?;
        std::fs::write(path, text).map_err(|e| Error::write(path, e))?;
    }
    Ok(())
}
