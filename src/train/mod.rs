//! One training loop, stepwise, shared by the CLI and the browser: each call to
//! [`Trainer::step`] draws a fresh batch from the data, takes one Adam step on the configured
//! [`Objective`] (DDPM's L_simple by default) and returns the loss as a device tensor (read it
//! synchronously natively, asynchronously on WebGPU).
//!
//! The randomness of step `k` comes from its own stream, seeded by `(seed, k, shard)`
//! ([`step_stream`]), so a run restored from a checkpoint at step `k` draws exactly what the
//! uninterrupted run would have. A batch is drawn as `shards` independent shards; with several
//! devices shard `i` runs on device `i` and burn's multi-device optimiser step sums their
//! gradients, so two devices give the run one device gives with `shards = 2`.

pub mod checkpoint;
pub mod data;
pub mod ema;
pub mod engine;
pub mod images;
pub mod options;
pub mod params;

use burn::prelude::*;
use rand::rngs::StdRng;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::model::{Mlp, MlpConfig, Parameterization};
use crate::noise;
use crate::process::ProcessConfig;
use crate::score::{Criterion, Objective};

pub use data::{DataSpec, TrainData};
pub use ema::Ema;
pub use engine::{step_stream, Engine, OptimConfig, TrainerState};
pub use options::{warmup_for, TrainOptions};
pub use params::ParamEntry;

/// Everything that determines a training run, seed included. Saved beside the weights. The
/// optimisation fields are [`OptimConfig`]'s, kept flat so that the cards already written (and
/// shipped with the page) still read; [`TrainConfig::optim`] gathers them.
#[derive(Config, Debug, PartialEq)]
pub struct TrainConfig {
    #[config(default = "MlpConfig::new()")]
    pub model: MlpConfig,
    /// The loss and the process whose levels it trains on (DDPM's L_simple on VP by default).
    #[config(default = "Objective::default()")]
    pub objective: Objective,
    /// Optimiser steps.
    #[config(default = 2000)]
    pub steps: usize,
    #[config(default = 256)]
    pub batch_size: usize,
    /// Peak Adam learning rate.
    #[config(default = 2e-3)]
    pub lr: f64,
    /// Linear warm-up steps, then cosine decay to `lr_min_ratio · lr` at `steps`.
    #[config(default = 100)]
    pub warmup: usize,
    #[config(default = 0.05)]
    pub lr_min_ratio: f64,
    /// The last steps, a linear decay of the rate to 0 (see [`OptimConfig::cooldown`]).
    #[config(default = 0)]
    pub cooldown: usize,
    /// Clip each parameter's gradient to this L2 norm (burn's `GradientClipping::Norm`).
    #[config(default = "None")]
    pub grad_clip: Option<f64>,
    /// Keep an exponential moving average of the weights with this decay; it is what is saved.
    #[config(default = "None")]
    pub ema_decay: Option<f64>,
    /// The batch is drawn as this many shards, one per device when training on several.
    #[config(default = 1)]
    pub shards: usize,
    #[config(default = 0)]
    pub seed: u64,
}

impl TrainConfig {
    pub fn validate(&self) -> Result<()> {
        self.model.validate()?;
        self.objective.validate()?;
        self.optim().validate()
    }

    /// Refuse a run whose weights, optimiser state and batch do not fit this machine.
    pub fn check_memory(&self) -> Result<()> {
        crate::budget::check(&crate::budget::mlp_training(
            &self.model,
            self.batch_size,
            &self.objective,
        ))
    }

    /// The optimisation settings.
    pub fn optim(&self) -> OptimConfig {
        OptimConfig {
            steps: self.steps,
            batch_size: self.batch_size,
            lr: self.lr,
            warmup: self.warmup,
            lr_min_ratio: self.lr_min_ratio,
            cooldown: self.cooldown,
            grad_clip: self.grad_clip,
            ema_decay: self.ema_decay,
            shards: self.shards,
            seed: self.seed,
        }
    }

    /// The learning rate at optimiser step `k` (0-based).
    pub fn lr_at(&self, k: usize) -> f64 {
        self.optim().lr_at(k)
    }
}

/// What is written as `config.json` beside `model.safetensors`: enough to rebuild and use the model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelCard {
    pub parameterization: Parameterization,
    pub train: TrainConfig,
    /// What the model was trained on (a mixture's parameters, a toy set's name, a point set's origin).
    pub data: DataSpec,
    /// Optimiser steps actually taken.
    pub trained_steps: usize,
    /// Mean training loss over the last steps.
    pub final_loss: Option<f64>,
    /// Whether the saved weights are the EMA of the training weights.
    #[serde(default)]
    pub ema: bool,
}

/// Trains an MLP on 2-D (or low-D) data with any [`Objective`].
pub struct Trainer {
    config: TrainConfig,
    data: TrainData,
    data_origin: String,
    criterion: Criterion,
    model: Option<Mlp>,
    engine: Engine<Mlp>,
}

impl Trainer {
    /// A fresh model on `device` (autodiff is switched on here).
    pub fn new(config: TrainConfig, data: impl Into<TrainData>, device: &Device) -> Result<Self> {
        Self::on_devices(config, data, std::slice::from_ref(device))
    }

    /// A fresh model trained data-parallel on `devices`, one shard each (`config.shards` must
    /// equal the number of devices when there are several).
    pub fn on_devices(
        config: TrainConfig,
        data: impl Into<TrainData>,
        devices: &[Device],
    ) -> Result<Self> {
        config.validate()?;
        config.check_memory()?;
        let first = devices
            .first()
            .ok_or_else(|| Error::invalid("no device to train on"))?;
        let device = first.clone().autodiff();
        device.seed(config.seed);
        let model = config.model.init(&device);
        Self::with_model_on_devices(config, data, model, devices)
    }

    /// Continue training `model` (fine-tuning a loaded model, for instance).
    pub fn with_model(
        config: TrainConfig,
        data: impl Into<TrainData>,
        model: Mlp,
        device: &Device,
    ) -> Result<Self> {
        Self::with_model_on_devices(config, data, model, std::slice::from_ref(device))
    }

    /// Continue training `model` data-parallel on `devices`.
    pub fn with_model_on_devices(
        config: TrainConfig,
        data: impl Into<TrainData>,
        model: Mlp,
        devices: &[Device],
    ) -> Result<Self> {
        config.validate()?;
        config.check_memory()?;
        let data = data.into();
        if data.dim() != config.model.dim {
            return Err(Error::invalid(format!(
                "the data is {}-dimensional but the model expects {}",
                data.dim(),
                config.model.dim
            )));
        }
        if config.objective.needs_target_score() && data.mixture().is_none() {
            return Err(Error::invalid(format!(
                "the {} objective needs the data's exact score, known only for Gaussian mixtures",
                config.objective.name()
            )));
        }
        let main = devices
            .first()
            .ok_or_else(|| Error::invalid("no device to train on"))?;
        // Place the model first: the EMA copies its parameters as they will be trained.
        let model = model.fork(&main.clone().autodiff());
        let engine = Engine::new(config.optim(), &model, devices)?;
        Ok(Self {
            criterion: config.objective.criterion()?,
            model: Some(model),
            engine,
            data,
            data_origin: "data".into(),
            config,
        })
    }

    /// Name the source of a point set in the card (a file name, "drawn points").
    pub fn with_data_origin(mut self, origin: impl Into<String>) -> Self {
        self.data_origin = origin.into();
        self
    }

    pub fn config(&self) -> &TrainConfig {
        &self.config
    }

    pub fn data(&self) -> &TrainData {
        &self.data
    }

    pub fn steps_done(&self) -> usize {
        self.engine.step()
    }

    /// The process whose chain the network's samplers reverse: none for one noise level.
    pub fn model_process(&self) -> Option<ProcessConfig> {
        self.config.objective.sampling_process()
    }

    /// The objective with its tables.
    pub fn criterion(&self) -> &Criterion {
        &self.criterion
    }

    /// One optimiser step; returns the batch loss (detached, on the device).
    pub fn step(&mut self) -> Tensor<1> {
        let model = self.model.take().expect("model present between steps");
        let (criterion, data) = (&self.criterion, &self.data);
        let (model, loss) = self
            .engine
            .train_step(model, |m, _shard, rows, rng, device| {
                batch_loss(criterion, data, rows, m, rng, device)
            });
        self.model = Some(model);
        loss
    }

    /// The objective's loss for the current model on a batch fixed by `seed` (no gradients): the
    /// same batch before and after training measures progress without batch-to-batch noise.
    pub fn eval_loss(&self, seed: u64) -> Tensor<1> {
        let device = self.engine.device().clone().without_autodiff();
        batch_loss(
            &self.criterion,
            &self.data,
            self.config.batch_size,
            &self.model(),
            &mut noise::rng(seed),
            &device,
        )
    }

    /// The current training weights, without autodiff.
    pub fn model(&self) -> Mlp {
        self.live().valid()
    }

    fn live(&self) -> &Mlp {
        self.model.as_ref().expect("model present between steps")
    }

    /// The weights to sample from and save: the EMA where one is kept, else the training weights.
    pub fn export_model(&self) -> Mlp {
        self.engine.export(self.live())
    }

    /// The card to save beside [`Trainer::export_model`]'s weights.
    pub fn card(&self, final_loss: Option<f64>) -> ModelCard {
        ModelCard {
            parameterization: self.config.objective.parameterization(),
            train: self.config.clone(),
            data: self.data.spec(&self.data_origin),
            trained_steps: self.steps_done(),
            final_loss,
            ema: self.engine.has_ema(),
        }
    }

    /// Everything needed to continue from here (reads the weights synchronously).
    pub fn state(&self) -> Result<TrainerState> {
        self.engine.state(self.live())
    }

    /// Continue from `state` (taken from a trainer with the same config).
    pub fn restore(&mut self, state: TrainerState) -> Result<()> {
        let model = self.live().clone();
        self.model = Some(self.engine.restore(model, state)?);
        Ok(())
    }
}

/// The objective's loss on `n` fresh data points drawn from `rng`.
fn batch_loss(
    criterion: &Criterion,
    data: &TrainData,
    n: usize,
    model: &Mlp,
    rng: &mut StdRng,
    device: &Device,
) -> Tensor<1> {
    let x0 = data.sample(n, rng);
    criterion
        .batch_loss(model, &x0, data.dim(), data.mixture(), rng, device)
        .expect("a validated objective on a non-empty batch of the data's dimension")
}
