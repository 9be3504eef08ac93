//! The optimisation shared by every trainer: Adam with warm-up and cosine decay, optional
//! gradient clipping, an optional EMA of the weights, the per-step random streams, and the
//! state a checkpoint needs to continue exactly.

use burn::module::Module;
use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer, MultiGradientsParams};
use burn::prelude::*;
use burn::tensor::Bytes;
use rand::rngs::StdRng;

use super::ema::Ema;
use super::params::{self, ParamEntry};
use crate::error::{Error, Result};
use crate::noise;

/// The optimisation half of a run's config.
#[derive(Config, Debug, PartialEq)]
pub struct OptimConfig {
    /// Optimiser steps.
    #[config(default = 4000)]
    pub steps: usize,
    #[config(default = 512)]
    pub batch_size: usize,
    /// Peak Adam learning rate.
    #[config(default = 2e-3)]
    pub lr: f64,
    /// Linear warm-up steps, then cosine decay to `lr_min_ratio · lr` at `steps − cooldown`.
    #[config(default = 100)]
    pub warmup: usize,
    #[config(default = 0.05)]
    pub lr_min_ratio: f64,
    /// The last steps, in which the rate falls linearly from `lr_min_ratio · lr` to 0. With
    /// `lr_min_ratio = 1` this is warmup–stable–decay (Hägele et al. 2024): no step before the
    /// cooldown depends on the total, so a run can be extended and then cooled down.
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

impl OptimConfig {
    pub fn validate(&self) -> Result<()> {
        if self.steps == 0 || self.batch_size == 0 {
            return Err(Error::invalid("steps and batch size must be at least 1"));
        }
        if !(self.lr > 0.0 && self.lr.is_finite()) {
            return Err(Error::invalid(format!(
                "learning rate must be positive, got {}",
                self.lr
            )));
        }
        if self.cooldown > 0 && self.warmup + self.cooldown > self.steps {
            return Err(Error::invalid(format!(
                "warm-up ({}) and cooldown ({}) do not fit in {} steps",
                self.warmup, self.cooldown, self.steps
            )));
        }
        if !(0.0..=1.0).contains(&self.lr_min_ratio) {
            return Err(Error::invalid(format!(
                "lr_min_ratio must lie in [0, 1], got {}",
                self.lr_min_ratio
            )));
        }
        if let Some(c) = self.grad_clip {
            if !(c > 0.0 && c.is_finite()) {
                return Err(Error::invalid(format!(
                    "gradient clipping norm must be positive, got {c}"
                )));
            }
        }
        if let Some(d) = self.ema_decay {
            if !(0.0..1.0).contains(&d) {
                return Err(Error::invalid(format!(
                    "EMA decay must lie in [0, 1), got {d}"
                )));
            }
        }
        if self.shards == 0 || self.shards > self.batch_size {
            return Err(Error::invalid(format!(
                "shards must lie in 1..={} (the batch size), got {}",
                self.batch_size, self.shards
            )));
        }
        Ok(())
    }

    /// The learning rate at optimiser step `k` (0-based).
    pub fn lr_at(&self, k: usize) -> f64 {
        if k < self.warmup {
            return self.lr * (k + 1) as f64 / self.warmup as f64;
        }
        let floor = self.lr * self.lr_min_ratio;
        let stable_end = self.steps.saturating_sub(self.cooldown);
        if self.cooldown > 0 && k >= stable_end {
            return floor * self.steps.saturating_sub(k) as f64 / self.cooldown as f64;
        }
        let span = stable_end.saturating_sub(self.warmup).max(1);
        let p = ((k - self.warmup) as f64 / span as f64).min(1.0);
        floor + 0.5 * (self.lr - floor) * (1.0 + (std::f64::consts::PI * p).cos())
    }

    /// Rows of shard `i`: the batch split as evenly as it goes.
    pub fn shard_rows(&self, i: usize) -> usize {
        self.batch_size / self.shards + usize::from(i < self.batch_size % self.shards)
    }

    /// Adam, with the configured gradient clipping.
    pub fn optimizer(&self) -> ModuleOptimizer {
        AdamConfig::new()
            .with_grad_clipping(
                self.grad_clip
                    .map(|c| burn::grad_clipping::GradientClippingConfig::Norm(c as f32)),
            )
            .init()
    }
}

/// The random stream of shard `shard` at step `step`: SplitMix64 of the three, so streams of
/// neighbouring steps are unrelated and a resumed run draws what the uninterrupted one did.
pub fn step_stream(seed: u64, step: usize, shard: usize) -> StdRng {
    noise::rng(noise::stream_seed(seed, step as u64, shard as u64))
}

/// The trainer's full state at a step boundary: enough to continue exactly.
#[derive(Debug, Clone)]
pub struct TrainerState {
    pub step: usize,
    pub model: Vec<ParamEntry>,
    pub ema: Option<Vec<ParamEntry>>,
    /// Adam's moments, burn's burnpack bytes (keyed by the parameter ids in `model`).
    pub optimizer: Vec<u8>,
}

/// One optimiser with its schedule, EMA and step counter, for a model of type `M`.
pub struct Engine<M> {
    config: OptimConfig,
    optim: ModuleOptimizer,
    ema: Option<Ema<M>>,
    devices: Vec<Device>,
    step: usize,
}

impl<M: Module + Clone> Engine<M> {
    /// `devices` (autodiff is switched on here); several devices need one shard each.
    pub fn new(config: OptimConfig, model: &M, devices: &[Device]) -> Result<Self> {
        config.validate()?;
        if devices.is_empty() {
            return Err(Error::invalid("no device to train on"));
        }
        if devices.len() > 1 && devices.len() != config.shards {
            return Err(Error::invalid(format!(
                "{} devices need {} shards (one per device), got {}",
                devices.len(),
                devices.len(),
                config.shards
            )));
        }
        Ok(Self {
            optim: config.optimizer(),
            ema: config.ema_decay.map(|d| Ema::new(d, model)),
            devices: devices.iter().map(|d| d.clone().autodiff()).collect(),
            step: 0,
            config,
        })
    }

    pub fn config(&self) -> &OptimConfig {
        &self.config
    }

    pub fn step(&self) -> usize {
        self.step
    }

    /// The first (main) device, with autodiff.
    pub fn device(&self) -> &Device {
        &self.devices[0]
    }

    /// One optimiser step. `shard_loss(model, shard, rows, rng, device)` is the mean loss of a
    /// shard of `rows` points drawn from `rng`; the step minimises `Σ_i (n_i/n) L_i`, the mean
    /// over the whole batch. Returns the model and that loss (detached, on the main device).
    pub fn train_step<F>(&mut self, model: M, shard_loss: F) -> (M, Tensor<1>)
    where
        F: Fn(&M, usize, usize, &mut StdRng, &Device) -> Tensor<1>,
    {
        let lr = self.config.lr_at(self.step);
        let n = self.config.batch_size as f64;
        let weighted = |m: &M, i: usize, device: &Device| {
            let rows = self.config.shard_rows(i);
            let mut rng = step_stream(self.config.seed, self.step, i);
            shard_loss(m, i, rows, &mut rng, device) * (rows as f64 / n)
        };
        let (model, loss) = if self.devices.len() == 1 {
            // All shards in one graph on the one device.
            let device = self.devices[0].clone();
            let loss = (0..self.config.shards)
                .map(|i| weighted(&model, i, &device))
                .reduce(|a, b| a + b)
                .expect("at least one shard");
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            (self.optim.step(lr, model, grads), loss.detach())
        } else {
            // Data parallel: each device differentiates its shard's share of the mean loss and
            // burn's multi-device step sums the gradients (MultiGradientsParams).
            let mut multi = MultiGradientsParams::default();
            let mut total: Option<Tensor<1>> = None;
            for (i, device) in self.devices.iter().enumerate() {
                let replica = model.clone().fork(device);
                let l = weighted(&replica, i, device);
                multi.grads.push((
                    GradientsParams::from_grads(l.backward(), &replica),
                    device.clone(),
                ));
                let l = l.detach().to_device(&self.devices[0]);
                total = Some(match total {
                    Some(t) => t + l,
                    None => l,
                });
            }
            let model = self.optim.step_multi(lr, model, multi);
            (
                model.fork(&self.devices[0]),
                total.expect("at least one device"),
            )
        };
        if let Some(ema) = &mut self.ema {
            ema.update(&model, self.step);
        }
        self.step += 1;
        (model, loss)
    }

    /// The weights to sample from and save: the EMA where one is kept, else `live`.
    pub fn export(&self, live: &M) -> M {
        match &self.ema {
            Some(ema) => ema.model().clone(),
            None => live.valid(),
        }
    }

    pub fn has_ema(&self) -> bool {
        self.ema.is_some()
    }

    /// Everything needed to continue from here (reads the weights synchronously).
    pub fn state(&self, model: &M) -> Result<TrainerState> {
        let optimizer = self
            .optim
            .into_bytes()
            .map_err(|e| Error::invalid(format!("cannot serialise the optimiser: {e}")))?;
        Ok(TrainerState {
            step: self.step,
            model: params::collect(model)?,
            ema: self
                .ema
                .as_ref()
                .map(|e| params::collect(e.model()))
                .transpose()?,
            optimizer: optimizer.to_vec(),
        })
    }

    /// Continue from `state` (taken with the same config); returns the restored model.
    pub fn restore(&mut self, model: M, state: TrainerState) -> Result<M> {
        // A fork gives the loaded leaves a graph of their own on the training device.
        let model = params::apply(model, &state.model)?.fork(&self.devices[0]);
        let ema = match (self.config.ema_decay, state.ema) {
            (Some(d), Some(entries)) => Some(Ema::new(d, &params::apply(model.valid(), &entries)?)),
            (Some(_), None) => {
                return Err(Error::invalid(
                    "the config keeps an EMA but the saved state has none",
                ))
            }
            (None, Some(_)) => {
                return Err(Error::invalid(
                    "the saved state has an EMA but the config keeps none",
                ))
            }
            (None, None) => None,
        };
        self.optim = self
            .config
            .optimizer()
            .from_bytes(Bytes::from_bytes_vec(state.optimizer))
            .map_err(|e| Error::invalid(format!("cannot read the optimiser state: {e}")))?;
        self.ema = ema;
        self.step = state.step;
        Ok(model)
    }
}
