//! Training in the page: a fresh MLP on the current data set, a few optimiser steps per call, a
//! fixed-batch evaluation loss, samples from the network being trained, and the weights as
//! safetensors bytes, read without blocking so the page can rebuild the run on the CPU if the
//! GPU device is lost.

use std::path::Path;

use js_sys::{Float32Array, Uint8Array};
use serde::Deserialize;
use wasm_bindgen::prelude::*;

use super::{checkpoint, device_err, read, Playground};
use crate::error::Error;
use crate::model::{MlpConfig, NetworkScore};
use crate::sampler::{DdimSampler, Sampler, TimestepSpacing};
use crate::score::Objective;
use crate::train::{params, TrainConfig, Trainer};

/// The training settings the page exposes (its URL hash), as JSON.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PageTrainConfig {
    /// Hidden width and number of residual blocks of the ε-MLP.
    hidden: usize,
    depth: usize,
    lr: f64,
    batch: usize,
    /// Optimiser steps the learning-rate schedule spans (warm-up, then cosine decay).
    steps: usize,
    seed: u64,
    objective: String,
}

impl PageTrainConfig {
    fn build(self, schedule: crate::schedule::ScheduleConfig) -> Result<TrainConfig, Error> {
        let objective = match self.objective.as_str() {
            "ddpm" => Objective::Ddpm,
            other => {
                return Err(Error::invalid(format!(
                    "the page trains the ε-network with DDPM's L_simple (objective 'ddpm'), not '{other}'"
                )))
            }
        };
        if !(1..=1024).contains(&self.hidden) || !(1..=16).contains(&self.depth) {
            return Err(Error::invalid(format!(
                "width {} and depth {} must lie in 1..=1024 and 1..=16",
                self.hidden, self.depth
            )));
        }
        Ok(TrainConfig::new()
            .with_model(
                MlpConfig::new()
                    .with_hidden(self.hidden)
                    .with_depth(self.depth),
            )
            .with_schedule(schedule)
            .with_objective(objective)
            .with_steps(self.steps)
            .with_batch_size(self.batch)
            .with_lr(self.lr)
            // A tenth of the run warms up, at most DDPM-style 100 steps.
            .with_warmup((self.steps / 10).clamp(1, 100))
            .with_seed(self.seed))
    }
}

impl Playground {
    fn trainer(&self) -> Result<&Trainer, Error> {
        self.trainer
            .as_ref()
            .ok_or_else(|| Error::invalid("start training first"))
    }
}

#[wasm_bindgen]
impl Playground {
    /// Begin training a fresh ε-MLP on the current data set. `config` is JSON:
    /// `{"hidden", "depth", "lr", "batch", "steps", "seed", "objective": "ddpm"}`.
    #[wasm_bindgen(js_name = startTraining)]
    pub fn start_training(&mut self, config: &str) -> Result<(), JsValue> {
        let page: PageTrainConfig = serde_json::from_str(config)
            .map_err(|e| Error::invalid(format!("not a training config: {e}")))?;
        let schedule = self
            .process
            .as_ref()
            .map(|p| p.schedule().config)
            .unwrap_or_default();
        let config = page.build(schedule)?;
        let data = self.train_data()?.clone();
        let trainer =
            Trainer::new(config, data, &self.device)?.with_data_origin(self.data_origin.clone());
        self.trainer = Some(trainer);
        self.trained_in_use = false;
        Ok(())
    }

    /// Optimiser steps taken by the current run.
    #[wasm_bindgen(js_name = trainedSteps)]
    pub fn trained_steps(&self) -> usize {
        self.trainer.as_ref().map_or(0, Trainer::steps_done)
    }

    /// Take `k` optimiser steps; returns their mean batch loss (one device read for all `k`).
    #[wasm_bindgen(js_name = trainSteps)]
    pub async fn train_steps(&mut self, k: usize) -> Result<f32, JsValue> {
        let trainer = self
            .trainer
            .as_mut()
            .ok_or_else(|| Error::invalid("start training first"))?;
        if k == 0 {
            return Err(Error::invalid("take at least one step").into());
        }
        let mut sum = trainer.step();
        for _ in 1..k {
            sum = sum + trainer.step();
        }
        let total = sum
            .into_data_async()
            .await
            .map_err(device_err)?
            .try_into_vec::<f32>()
            .map_err(device_err)?;
        if self.trained_in_use {
            self.model = Some(trainer.model());
        }
        Ok(total[0] / k as f32)
    }

    /// The loss of the current weights on a batch fixed by `seed` ([`Trainer::eval_loss`]): the
    /// same batch at every step, so its changes are the model's, not the batch's.
    #[wasm_bindgen(js_name = evalLoss)]
    pub async fn eval_loss(&self, seed: u64) -> Result<f32, JsValue> {
        let loss = self.trainer()?.eval_loss(seed);
        let v = loss
            .into_data_async()
            .await
            .map_err(device_err)?
            .try_into_vec::<f32>()
            .map_err(device_err)?;
        Ok(v[0])
    }

    /// `n` samples from the network being trained: DDIM (η = 0, `steps` steps, leading spacing) from
    /// `x_T ~ N(0, I)` on its schedule, `[n, 2]`.
    #[wasm_bindgen(js_name = trainSamples)]
    pub async fn train_samples(
        &self,
        n: usize,
        steps: usize,
        seed: u64,
    ) -> Result<Float32Array, JsValue> {
        let trainer = self.trainer()?;
        if n == 0 {
            return Err(Error::invalid("sample at least one point").into());
        }
        let net = trainer.model();
        let config = trainer.config();
        let model = NetworkScore::new(
            &net,
            config.objective.parameterization(),
            config.schedule.steps,
        );
        let mut sampler = DdimSampler::new(
            trainer.process().clone(),
            steps,
            TimestepSpacing::Leading,
            0.0,
            None,
            seed,
        )?;
        sampler.reset_from_prior(n, config.model.dim, &self.device);
        let x = sampler.run(&model)?;
        Ok(Float32Array::from(&read(x).await?[..]))
    }

    /// The score and reverse panels sample from the network being trained from now on.
    #[wasm_bindgen(js_name = useTrainedModel)]
    pub fn use_trained_model(&mut self) -> Result<(), JsValue> {
        let trainer = self.trainer()?;
        let (card, model, process) = (
            trainer.card(None),
            trainer.model(),
            trainer.process().clone(),
        );
        self.model = Some(model);
        self.process = Some(process);
        self.card = Some(card);
        self.sampler = None;
        self.trained_in_use = true;
        Ok(())
    }

    /// The current training weights as safetensors bytes (burn module paths, parameter ids in the
    /// header: [`params::to_safetensors`]), read asynchronously (WebGPU forbids a blocking read).
    /// With [`Playground::restore_training`] this carries a run across a lost GPU device.
    #[wasm_bindgen(js_name = trainWeights)]
    pub async fn train_weights(&self) -> Result<Uint8Array, JsValue> {
        let net = self.trainer()?.model();
        let entries = checkpoint::collect_async(&net).await?;
        Ok(Uint8Array::from(&params::to_safetensors(&entries)?[..]))
    }

    /// Continue the run started by the last [`Playground::start_training`] from `weights` (bytes
    /// from [`Playground::train_weights`]) at optimiser step `step`: the learning-rate schedule and
    /// the batch stream resume there; Adam's moments restart from zero. On the CPU backend (it reads
    /// the new run's state synchronously).
    #[wasm_bindgen(js_name = restoreTraining)]
    pub fn restore_training(&mut self, weights: &[u8], step: usize) -> Result<(), JsValue> {
        if self.backend == "webgpu" {
            return Err(Error::invalid(
                "restoring a run reads its state synchronously: do it on the CPU backend",
            )
            .into());
        }
        let trainer = self
            .trainer
            .as_mut()
            .ok_or_else(|| Error::invalid("start training before restoring weights"))?;
        let entries = params::from_safetensors(weights, Path::new("training weights"))?;
        // The fresh run's own state (its optimiser has no moments yet), with the saved weights
        // and step.
        let mut state = trainer.state()?;
        state.model = entries;
        state.step = step;
        trainer.restore(state)?;
        if self.trained_in_use {
            self.model = Some(trainer.model());
        }
        Ok(())
    }
}
