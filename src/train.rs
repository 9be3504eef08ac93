//! One training loop, stepwise, shared by the CLI and the browser: each call to
//! [`Trainer::step`] draws a fresh batch from the data, takes one Adam step on the configured
//! [`Objective`] (DDPM's L_simple by default) and returns the loss as a device tensor (read it
//! synchronously natively, asynchronously on WebGPU).

use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer};
use burn::prelude::*;
use rand::rngs::StdRng;
use serde::{Deserialize, Serialize};

use crate::data::{GaussianMixture, MixtureSpec};
use crate::error::{Error, Result};
use crate::model::{Mlp, MlpConfig, Parameterization};
use crate::noise;
use crate::process::VpProcess;
use crate::schedule::ScheduleConfig;
use crate::score::{mixture_score, Criterion, Objective};

/// Everything that determines a training run, seed included. Saved beside the weights.
#[derive(Config, Debug, PartialEq)]
pub struct TrainConfig {
    #[config(default = "MlpConfig::new()")]
    pub model: MlpConfig,
    /// DDPM's schedule: the process of the `ddpm` objective and the sampler's default.
    #[config(default = "ScheduleConfig::default()")]
    pub schedule: ScheduleConfig,
    #[config(default = "Objective::Ddpm")]
    pub objective: Objective,
    /// Optimiser steps.
    #[config(default = 4000)]
    pub steps: usize,
    #[config(default = 512)]
    pub batch_size: usize,
    /// Peak Adam learning rate.
    #[config(default = 2e-3)]
    pub lr: f64,
    /// Linear warm-up steps, then cosine decay to `lr_min_ratio · lr` at `steps`.
    #[config(default = 100)]
    pub warmup: usize,
    #[config(default = 0.05)]
    pub lr_min_ratio: f64,
    #[config(default = 0)]
    pub seed: u64,
}

impl TrainConfig {
    pub fn validate(&self) -> Result<()> {
        self.model.validate()?;
        self.schedule.validate()?;
        self.objective.validate()?;
        if self.steps == 0 || self.batch_size == 0 {
            return Err(Error::invalid("steps and batch size must be at least 1"));
        }
        if !(self.lr > 0.0 && self.lr.is_finite()) {
            return Err(Error::invalid(format!(
                "learning rate must be positive, got {}",
                self.lr
            )));
        }
        Ok(())
    }

    /// The learning rate at optimiser step `k` (0-based).
    pub fn lr_at(&self, k: usize) -> f64 {
        if k < self.warmup {
            return self.lr * (k + 1) as f64 / self.warmup as f64;
        }
        let span = self.steps.saturating_sub(self.warmup).max(1);
        let p = ((k - self.warmup) as f64 / span as f64).min(1.0);
        let floor = self.lr * self.lr_min_ratio;
        floor + 0.5 * (self.lr - floor) * (1.0 + (std::f64::consts::PI * p).cos())
    }
}

/// What is written as `config.json` beside `model.safetensors`: enough to rebuild and use the model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelCard {
    pub parameterization: Parameterization,
    pub train: TrainConfig,
    /// The mixture the model was trained on.
    pub data: MixtureSpec,
    /// Optimiser steps actually taken.
    pub trained_steps: usize,
    /// Mean training loss over the last steps.
    pub final_loss: Option<f64>,
}

pub struct Trainer {
    config: TrainConfig,
    data: GaussianMixture,
    process: VpProcess,
    criterion: Criterion,
    model: Option<Mlp>,
    optim: ModuleOptimizer,
    rng: StdRng,
    device: Device,
    step: usize,
}

impl Trainer {
    /// A fresh model on `device` (autodiff is switched on here).
    pub fn new(config: TrainConfig, data: GaussianMixture, device: &Device) -> Result<Self> {
        config.validate()?;
        if data.dim() != config.model.dim {
            return Err(Error::invalid(format!(
                "the data is {}-dimensional but the model expects {}",
                data.dim(),
                config.model.dim
            )));
        }
        let device = device.clone().autodiff();
        device.seed(config.seed);
        let model = config.model.init(&device);
        Self::with_model(config, data, model, &device)
    }

    /// Continue training `model` (fine-tuning a loaded model, for instance).
    pub fn with_model(
        config: TrainConfig,
        data: GaussianMixture,
        model: Mlp,
        device: &Device,
    ) -> Result<Self> {
        let device = device.clone().autodiff();
        let process = VpProcess::new(config.schedule)?;
        let criterion = config.objective.criterion(config.schedule)?;
        let rng = noise::rng(config.seed.wrapping_add(0x5eed));
        Ok(Self {
            criterion,
            optim: AdamConfig::new().init(),
            model: Some(model.to_device(&device)),
            process,
            data,
            rng,
            device,
            step: 0,
            config,
        })
    }

    pub fn config(&self) -> &TrainConfig {
        &self.config
    }

    pub fn steps_done(&self) -> usize {
        self.step
    }

    pub fn process(&self) -> &VpProcess {
        &self.process
    }

    /// The objective with its tables.
    pub fn criterion(&self) -> &Criterion {
        &self.criterion
    }

    /// One optimiser step; returns the batch loss (detached, on the device).
    pub fn step(&mut self) -> Tensor<1> {
        let model = self.model.take().expect("model present between steps");
        let loss = batch_loss(
            &self.criterion,
            &self.data,
            self.config.batch_size,
            &model,
            &mut self.rng,
            &self.device,
        );
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        let lr = self.config.lr_at(self.step);
        self.model = Some(self.optim.step(lr, model, grads));
        self.step += 1;
        loss.detach()
    }

    /// The objective's loss for the current model on a batch fixed by `seed` (no gradients): the
    /// same batch before and after training measures progress without batch-to-batch noise.
    pub fn eval_loss(&self, seed: u64) -> Tensor<1> {
        let device = self.device.clone().without_autodiff();
        let n = self.config.batch_size;
        batch_loss(
            &self.criterion,
            &self.data,
            n,
            &self.model(),
            &mut noise::rng(seed),
            &device,
        )
    }

    /// The current weights, without autodiff, for sampling or saving.
    pub fn model(&self) -> Mlp {
        self.model
            .as_ref()
            .expect("model present between steps")
            .valid()
    }

    /// The card to save beside the weights.
    pub fn card(&self, final_loss: Option<f64>) -> ModelCard {
        ModelCard {
            parameterization: self.config.objective.parameterization(),
            train: self.config.clone(),
            data: self.data.spec().clone(),
            trained_steps: self.step,
            final_loss,
        }
    }
}

/// The objective's loss on `n` fresh data points drawn from `rng`.
fn batch_loss(
    criterion: &Criterion,
    data: &GaussianMixture,
    n: usize,
    model: &Mlp,
    rng: &mut StdRng,
    device: &Device,
) -> Tensor<1> {
    let x0 = data.sample(n, rng);
    let target = criterion
        .objective()
        .needs_target_score()
        .then(|| mixture_score(data, &x0, device).expect("points of the data's dimension"));
    let x0 = Tensor::<2>::from_data(TensorData::new(x0, [n, data.dim()]), device);
    criterion
        .loss(model, x0, target, rng)
        .expect("a validated objective on a non-empty batch of the data's dimension")
}
