//! `dplay likelihood`: `log p(x)` per point by the probability-flow ODE
//! ([`diffusion_playground::likelihood`]), for a trained model on the SDE of its own process, or
//! for the exact mixture score on the SDE the flags name (beside the mixture's exact density).

use std::path::PathBuf;

use burn::prelude::*;
use burn::tensor::Distribution;
use clap::{Args, ValueEnum};

use diffusion_playground::data::{GaussianMixture, MixtureScore};
use diffusion_playground::error::{Error, Result};
use diffusion_playground::io::npy;
use diffusion_playground::likelihood::{bits_per_dim, log_likelihood, LikelihoodConfig, Tolerance};
use diffusion_playground::model::divergence::MAX_EXACT_DIM;
use diffusion_playground::model::unet::scheduler::SchedulerSettings;
use diffusion_playground::model::unet::{is_diffusers_dir, UNetScore};
use diffusion_playground::model::{Divergence, NetworkScore, ScoreModel};
use diffusion_playground::noise;
use diffusion_playground::process::{FlowSde, Sde, SubVpSde, VeSde, VpSde};
use diffusion_playground::sampler::SdeKind;
use diffusion_playground::{budget, bundle};

use super::predict::{load_unet, read_images};
use super::{check_writable_file, device, DeviceArg};

/// The oracle's SDE.
#[derive(Clone, Copy, ValueEnum, PartialEq, Debug)]
enum SdeArg {
    Vp,
    SubVp,
    Ve,
    Flow,
}

#[derive(Args)]
pub(crate) struct LikelihoodArgs {
    /// A folder written by `dplay train` (or the page's download), or a diffusers UNet2DModel
    /// folder: the model on the SDE of the process it was trained on.
    #[arg(long, conflicts_with = "data")]
    model: Option<PathBuf>,
    /// A mixture JSON: its exact score, on the SDE of --process.
    #[arg(long)]
    data: Option<PathBuf>,
    /// The oracle's SDE (score_sde's: β from --beta-min to --beta-max; σ from --sigma-min to
    /// --sigma-max).
    #[arg(long, value_enum, default_value_t = SdeArg::Vp, requires = "data")]
    process: SdeArg,
    #[arg(long, default_value_t = 0.1)]
    beta_min: f64,
    #[arg(long, default_value_t = 20.0)]
    beta_max: f64,
    #[arg(long, default_value_t = 0.01)]
    sigma_min: f64,
    /// VE's σ_max. The prior N(0, σ_max²) stands in for p_1, which it is only for σ_max far
    /// above the data's spread: the default is 50, score_sde's for CIFAR-10.
    #[arg(long, default_value_t = 50.0)]
    sigma_max: f64,
    /// The points, a float32 .npy [n, d] (images: [n, c, h, w] in [-1, 1]).
    #[arg(long)]
    x: Option<PathBuf>,
    /// With --data and no --x: this many points drawn from the mixture (seeded by --seed).
    #[arg(long)]
    n: Option<usize>,
    /// Write log p(x) per point (nats) here as float32 .npy [n].
    #[arg(long)]
    out: Option<PathBuf>,
    /// Dormand–Prince's tolerances (score_sde: 1e-5 each).
    #[arg(long, default_value_t = 1e-5)]
    rtol: f64,
    #[arg(long, default_value_t = 1e-5)]
    atol: f64,
    /// Where the ODE starts, ε (default: score_sde's, 1e-5 for VE, 1e-3 otherwise).
    #[arg(long)]
    t_end: Option<f64>,
    /// Estimate the divergence by Hutchinson–Skilling with this many Rademacher probes per
    /// point, instead of exactly (exact up to d = 64; images need probes, score_sde uses 1).
    #[arg(long)]
    probes: Option<usize>,
    /// Images: dequantise 8-bit pixels uniformly and report bits per dimension.
    #[arg(long)]
    bpd: bool,
    /// The most right-hand-side evaluations of the ODE.
    #[arg(long, default_value_t = 100_000)]
    max_nfe: usize,
    #[arg(long, default_value_t = 0)]
    seed: u64,
    #[arg(long, value_enum, default_value_t = DeviceArg::Flex)]
    device: DeviceArg,
}

/// The score model and its SDE, and the shape of one point.
struct Loaded<'a> {
    model: Box<dyn ScoreModel + 'a>,
    sde: Box<dyn Sde>,
    kind: Option<SdeKind>,
    shape: Vec<usize>,
}

/// What the models borrow from.
enum Owned {
    Oracle(MixtureScore),
    Mlp(
        Box<diffusion_playground::model::Mlp>,
        Box<diffusion_playground::train::ModelCard>,
    ),
    UNet(
        Box<diffusion_playground::model::unet::UNet2D>,
        SchedulerSettings,
        [usize; 3],
    ),
}

fn oracle_sde(a: &LikelihoodArgs) -> Result<(Box<dyn Sde>, SdeKind)> {
    Ok(match a.process {
        SdeArg::Vp => (Box::new(VpSde::new(a.beta_min, a.beta_max)?), SdeKind::Vp),
        SdeArg::SubVp => (
            Box::new(SubVpSde::new(a.beta_min, a.beta_max)?),
            SdeKind::SubVp,
        ),
        SdeArg::Ve => (Box::new(VeSde::new(a.sigma_min, a.sigma_max)?), SdeKind::Ve),
        SdeArg::Flow => (Box::new(FlowSde), SdeKind::Flow),
    })
}

fn load<'a>(a: &LikelihoodArgs, owned: &'a Owned) -> Result<Loaded<'a>> {
    Ok(match owned {
        Owned::Oracle(o) => {
            let (sde, kind) = oracle_sde(a)?;
            Loaded {
                model: Box::new(o.clone()),
                sde,
                kind: Some(kind),
                shape: vec![o.mixture().dim()],
            }
        }
        Owned::Mlp(net, card) => {
            let process = card.train.objective.sampling_process().ok_or_else(|| {
                Error::invalid(
                    "this model knows the score at one noise level; its likelihood needs a model of a process (DDPM, VE, sub-VP or flow)",
                )
            })?;
            Loaded {
                model: Box::new(NetworkScore::new(
                    net.as_ref(),
                    card.parameterization,
                    process.num_steps(),
                )),
                sde: process.sde()?,
                kind: SdeKind::of(&process),
                shape: vec![card.train.model.dim],
            }
        }
        Owned::UNet(net, scheduler, image) => {
            let process = scheduler.process();
            Loaded {
                model: Box::new(UNetScore::new(net, *image, scheduler)),
                sde: process.sde()?,
                kind: SdeKind::of(&process),
                shape: image.to_vec(),
            }
        }
    })
}

/// Uniform dequantisation of images in `[-1, 1]` from 8-bit pixels `k`:
/// `x = 2 (k + u)/256 - 1`, `u ~ U[0, 1)` (score_sde's `uniform_dequantization`).
fn dequantise(x: Tensor<2>) -> Tensor<2> {
    let pixels = ((x + 1.0) * 127.5).round().clamp(0.0, 255.0);
    let u = pixels.random_like(Distribution::Uniform(0.0, 1.0));
    (pixels + u) / 128.0 - 1.0
}

pub(crate) fn likelihood(a: LikelihoodArgs) -> Result<()> {
    if let Some(out) = &a.out {
        check_writable_file(out)?;
    }
    let tol = Tolerance {
        rtol: a.rtol,
        atol: a.atol,
    }
    .validate()?;
    let device = device(a.device)?;
    device.seed(a.seed);
    let owned = match (&a.model, &a.data) {
        (Some(dir), None) if is_diffusers_dir(dir) => {
            let net = load_unet(dir, &device)?;
            let c = net.config.in_channels;
            let [h, w] = match &a.x {
                Some(p) => {
                    let (_, [_, _, h, w]) = read_images("--x", p)?;
                    [h, w]
                }
                None => net.config.sample_hw().ok_or_else(|| {
                    Error::invalid("the UNet config has no usable sample_size; give --x")
                })?,
            };
            Owned::UNet(Box::new(net), SchedulerSettings::read(dir)?, [c, h, w])
        }
        (Some(dir), None) => {
            let (net, card) = bundle::load(dir, &device)?;
            Owned::Mlp(Box::new(net), Box::new(card))
        }
        (None, Some(path)) => Owned::Oracle(MixtureScore::new(GaussianMixture::from_file(path)?)),
        _ => return Err(Error::invalid(
            "give --model DIR (a trained network) or --data FILE.json (the exact mixture score)",
        )),
    };
    let loaded = load(&a, &owned)?;
    let d: usize = loaded.shape.iter().product();
    let (values, n) = match (&a.x, a.n, &owned) {
        (Some(_), Some(_), _) => return Err(Error::invalid("give --x or --n, not both")),
        (Some(p), None, Owned::UNet(..)) => {
            let (x, [n, c, h, w]) = read_images("--x", p)?;
            if [c, h, w] != loaded.shape[..] {
                return Err(Error::invalid(format!(
                    "--x holds images [{c}, {h}, {w}]; the UNet takes {:?}",
                    loaded.shape
                )));
            }
            (x, n)
        }
        (Some(p), None, _) => {
            let (x, shape) = npy::read_f32(p)?;
            if shape.len() != 2 || shape[1] != d || shape[0] == 0 {
                return Err(Error::invalid(format!(
                    "--x {} has shape {shape:?}; the model takes [n, {d}] with n ≥ 1",
                    p.display()
                )));
            }
            (x, shape[0])
        }
        (None, Some(n), Owned::Oracle(o)) if n > 0 => {
            budget::check(&ode_need(n, d, a.probes.unwrap_or(d)))?;
            (o.mixture().sample(n, &mut noise::rng(a.seed)), n)
        }
        (None, Some(_), Owned::Oracle(_)) => return Err(Error::invalid("--n must be at least 1")),
        _ => {
            return Err(Error::invalid(
                "give the points: --x FILE.npy (or --n N with --data)",
            ))
        }
    };
    if let Some(i) = values.iter().position(|v| !v.is_finite()) {
        return Err(Error::invalid(format!(
            "--x holds a non-finite value in point {}",
            i / d
        )));
    }
    if a.bpd && !matches!(owned, Owned::UNet(..)) {
        return Err(Error::invalid(
            "--bpd is for image models (a diffusers UNet folder)",
        ));
    }
    let divergence = match a.probes {
        Some(k) => Divergence::rademacher(k, n, d, &device)?,
        None if d <= MAX_EXACT_DIM => Divergence::Exact,
        None => {
            return Err(Error::invalid(format!(
                "the exact divergence of d = {d} needs {d} passes per point; give --probes K (score_sde uses 1)"
            )))
        }
    };
    budget::check(&ode_need(n, d, a.probes.unwrap_or(d)))?;
    let t_end = a.t_end.or(loaded.kind.map(SdeKind::t_end)).unwrap_or(1e-3);
    let config = LikelihoodConfig {
        t_end,
        tol,
        divergence,
        max_nfe: a.max_nfe,
    };
    let x = Tensor::<2>::from_data(TensorData::new(values.clone(), [n, d]), &device);
    let x = if a.bpd { dequantise(x) } else { x };
    let result = log_likelihood(loaded.model.as_ref(), loaded.sde.as_ref(), x, &config)?;
    let mean = -result.nll();
    println!(
        "log p(x): mean {mean:.4} nats over {n} points (NLL {:.4} nats, {:.4} nats/dim); {} evaluations, {} steps",
        -mean,
        -mean / d as f64,
        result.nfe,
        result.steps
    );
    if a.bpd {
        println!(
            "bits/dim (uniform dequantisation): {:.4}",
            bits_per_dim(mean, d)
        );
    }
    if let Owned::Oracle(o) = &owned {
        let (exact, _) = o.mixture().log_prob_and_score_batch(&values);
        let mae = exact
            .iter()
            .zip(&result.log_p)
            .map(|(e, g)| (e - g).abs())
            .sum::<f64>()
            / n as f64;
        let exact_mean = exact.iter().sum::<f64>() / n as f64;
        println!("exact log p(x): mean {exact_mean:.4} nats; mean |ODE - exact| {mae:.2e} nats");
    }
    if let Some(out) = &a.out {
        let v: Vec<f32> = result.log_p.iter().map(|&v| v as f32).collect();
        npy::write_f32(out, &v, &[n])?;
        println!("wrote log p per point to {}", out.display());
    }
    Ok(())
}

/// The ODE's batch is one row per point and tangent, for the network and its derivative (16
/// vectors of `d` each), beside Dormand–Prince's seven stages of the state.
fn ode_need(n: usize, d: usize, tangents: usize) -> budget::Need {
    let per_point = 4 * d as u64 * (16 * tangents as u64 + 8);
    budget::Need::new(
        format!("the likelihood of {n} points with {tangents} tangents each"),
        0,
        per_point,
        n as u64,
    )
    .with_unit("points")
    .with_knob("--n")
}
