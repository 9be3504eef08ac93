//! Experiment (a) (Song & Ermon 2019, §3.2.1 and Figure 2): a score network trained by denoising
//! score matching at a small σ is accurate where the data are and wrong in low-density regions,
//! because the objective `E_{p_σ}‖s_θ - ∇log p_σ‖²` weights errors by the density.
//!
//! The network is this crate's [`Mlp`] read as a score model ([`Parameterization::Score`]) at a
//! fixed time input 0, trained with DSM (Vincent 2011; NCSN eq. 2 with λ(σ) = σ²):
//! `½ E‖σ s_θ(x + σz) + z‖²`, whose minimiser is `∇log p_σ`, the exact score of the perturbed
//! mixture; the error is measured against that oracle on a grid.

use burn::optim::{AdamConfig, GradientsParams};
use burn::prelude::*;
use serde::{Deserialize, Serialize};

use crate::data::oracle::to_host;
use crate::data::GaussianMixture;
use crate::error::{Error, Result};
use crate::model::{Mlp, MlpConfig, NetworkScore, Parameterization, ScoreModel};
use crate::noise;
use crate::process::{Marginal, NoiseLevel, Time};
use crate::score::ncsn::ncsn_terms;

/// Everything that defines experiment (a); seeds included.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ScoreErrorConfig {
    pub seed: u64,
    /// The DSM noise level σ.
    pub sigma: f64,
    /// Adam steps, batch size and learning rate.
    pub steps: usize,
    pub batch_size: usize,
    pub lr: f64,
    /// MLP width and residual blocks.
    pub hidden: usize,
    pub depth: usize,
    /// The evaluation grid: `grid × grid` points on `[-radius, radius]²`.
    pub grid: usize,
    pub radius: f64,
}

impl Default for ScoreErrorConfig {
    fn default() -> Self {
        Self {
            seed: 0,
            sigma: 0.1,
            steps: 1500,
            batch_size: 256,
            lr: 2e-3,
            hidden: 64,
            depth: 2,
            grid: 61,
            radius: 10.0,
        }
    }
}

/// Grid points whose density `p_σ(x)` lies in `[10^lo, 10^hi)`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DensityBin {
    pub log10_p_lo: f64,
    pub log10_p_hi: f64,
    pub count: usize,
    /// Mean `‖s_θ(x) - ∇log p_σ(x)‖²`.
    pub mean_sq_error: f64,
    /// Mean `‖∇log p_σ(x)‖²`, the scale of the error.
    pub mean_sq_score: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScoreError {
    pub config: ScoreErrorConfig,
    /// Mean DSM loss over the last 100 steps.
    pub final_loss: f64,
    /// From the densest decade down.
    pub bins: Vec<DensityBin>,
    /// Mean squared error where `p_σ ≥ 10⁻³` (within ~2.6 standard deviations of a mode).
    pub high_density_error: f64,
    /// Mean squared error where `p_σ < 10⁻⁶` (no training sample comes near).
    pub low_density_error: f64,
}

/// `½ E‖σ s_θ(x + σz) + z‖²` for a batch (NCSN eq. 2 with λ(σ) = σ²).
fn dsm_loss(net: &Mlp, x: Tensor<2>, z: Tensor<2>, sigma: f64) -> Tensor<1> {
    let n = x.dims()[0];
    let device = x.device();
    let t = Tensor::<1>::zeros([n], &device);
    let sigma_col = Tensor::<2>::full([n, 1], sigma as f32, &device);
    ncsn_terms(net, x + z.clone() * sigma, t, sigma_col, z).mean()
}

/// Train a score network on `mix` by DSM at `config.sigma` and measure its error against the
/// exact score of `p_σ`, binned by density.
pub fn score_error_vs_density(
    mix: &GaussianMixture,
    config: &ScoreErrorConfig,
    device: &Device,
) -> Result<ScoreError> {
    if config.steps == 0 || config.batch_size == 0 || config.grid < 2 {
        return Err(Error::invalid(
            "training steps and batch size must be ≥ 1, and the grid ≥ 2 points a side",
        ));
    }
    crate::sampler::check_positive("σ", config.sigma)?;
    crate::sampler::check_positive("the learning rate", config.lr)?;
    crate::sampler::check_positive("the grid radius", config.radius)?;
    let d = mix.dim();
    if d != 2 {
        return Err(Error::invalid(format!(
            "the score-error experiment grids the plane; the mixture has dimension {d}"
        )));
    }
    let model = MlpConfig::new()
        .with_dim(d)
        .with_hidden(config.hidden)
        .with_depth(config.depth);
    model.validate()?;

    // Train.
    let ad = device.clone().autodiff();
    ad.seed(config.seed);
    let mut net = model.init(&ad);
    let mut optim = AdamConfig::new().init();
    let mut rng = noise::rng(config.seed.wrapping_add(0xa));
    let mut recent = Vec::new();
    for k in 0..config.steps {
        let n = config.batch_size;
        let x = Tensor::<2>::from_data(TensorData::new(mix.sample(n, &mut rng), [n, d]), &ad);
        let z = noise::normal(&mut rng, [n, d], &ad);
        let loss = dsm_loss(&net, x, z, config.sigma);
        if k + 100 >= config.steps {
            recent.push(loss.clone().detach());
        }
        let grads = GradientsParams::from_grads(loss.backward(), &net);
        net = optim.step(config.lr, net, grads);
    }
    let final_loss = {
        let v = to_host(Tensor::cat(recent, 0).reshape([1, -1]).mean_dim(1))?;
        v[0] as f64
    };

    // Evaluate on the grid against the oracle.
    let net = net.valid();
    let g = config.grid;
    let pts: Vec<f32> = (0..g * g)
        .flat_map(|i| {
            let at = |j: usize| {
                (-config.radius + 2.0 * config.radius * j as f64 / (g - 1) as f64) as f32
            };
            [at(i % g), at(i / g)]
        })
        .collect();
    let marginal = Marginal {
        mean_coef: 1.0,
        std: config.sigma,
    };
    let (log_p, exact) = mix
        .perturbed(1.0, config.sigma)?
        .log_prob_and_score_batch(&pts);
    let level = NoiseLevel {
        time: Time::Step(0),
        marginal,
    };
    let x = Tensor::<2>::from_data(TensorData::new(pts, [g * g, d]), device);
    let learned = to_host(NetworkScore::new(&net, Parameterization::Score, 1).score(x, &level)?)?;
    let err: Vec<f64> = (0..g * g)
        .map(|i| {
            (0..d)
                .map(|j| (learned[i * d + j] as f64 - exact[i * d + j]).powi(2))
                .sum()
        })
        .collect();
    let norm: Vec<f64> = (0..g * g)
        .map(|i| (0..d).map(|j| exact[i * d + j].powi(2)).sum())
        .collect();
    let log10 = |lp: f64| lp / std::f64::consts::LN_10;
    let mean_where = |keep: &dyn Fn(f64) -> bool| -> f64 {
        let (s, c) = (0..g * g)
            .filter(|&i| keep(log10(log_p[i])))
            .fold((0.0, 0usize), |(s, c), i| (s + err[i], c + 1));
        if c == 0 {
            f64::NAN
        } else {
            s / c as f64
        }
    };
    let mut bins: Vec<DensityBin> = Vec::new();
    let top = log_p
        .iter()
        .map(|&l| log10(l).floor() as i64)
        .max()
        .unwrap_or(0);
    let bottom = log_p
        .iter()
        .map(|&l| log10(l).floor() as i64)
        .min()
        .unwrap_or(0);
    for b in (bottom..=top).rev() {
        let idx: Vec<usize> = (0..g * g)
            .filter(|&i| log10(log_p[i]).floor() as i64 == b)
            .collect();
        if idx.is_empty() {
            continue;
        }
        let c = idx.len() as f64;
        bins.push(DensityBin {
            log10_p_lo: b as f64,
            log10_p_hi: (b + 1) as f64,
            count: idx.len(),
            mean_sq_error: idx.iter().map(|&i| err[i]).sum::<f64>() / c,
            mean_sq_score: idx.iter().map(|&i| norm[i]).sum::<f64>() / c,
        });
    }
    Ok(ScoreError {
        config: *config,
        final_loss,
        bins,
        high_density_error: mean_where(&|l| l >= -3.0),
        low_density_error: mean_where(&|l| l < -6.0),
    })
}
