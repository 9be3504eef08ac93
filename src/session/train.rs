//! Training in the page: a fresh MLP on the current data set with any objective at every level of
//! the chosen process ([`crate::score::levels`]), a few optimiser steps per call, a fixed-batch
//! evaluation loss, samples from the network being trained, and the weights as safetensors bytes,
//! read without blocking so the page can rebuild the run on the CPU if the GPU device is lost.

use std::path::Path;

use serde::Deserialize;

use super::{checkpoint, read, read_scalar, Change, Session};
use crate::error::Error;
use crate::model::NetworkScore;
use crate::process::{Process, ProcessConfig};
use crate::sampler::{no_data, DdimEnd, SamplerSpec, ScoreSource, TimestepSpacing};
use crate::score::{Loss, Objective, Slicing};
use crate::train::{params, TrainConfig, TrainOptions, Trainer};

/// The page's training request, as JSON: the run's [`TrainOptions`] (each missing one at its
/// default), the loss, its process and SSM's projections.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PageTrainConfig {
    #[serde(default)]
    options: TrainOptions,
    /// The loss at each level: "ddpm", "ncsn", "dsm", "ssm", "ism" or "esm".
    objective: String,
    /// The process whose levels it trains on; the page's process when absent.
    #[serde(default)]
    process: Option<ProcessConfig>,
    /// SSM's projections (the catalogue's `ssm` options); one Rademacher v when absent.
    #[serde(default)]
    slicing: Option<Slicing>,
}

impl PageTrainConfig {
    fn build(self, shown: ProcessConfig, dim: usize) -> Result<TrainConfig, Error> {
        let objective: Loss = self.objective.parse()?;
        let process = self.process.unwrap_or(shown);
        process.validate()?;
        self.options.config(
            dim,
            Objective::new(objective, process).with_slicing(self.slicing.unwrap_or_default()),
        )
    }
}

impl Session {
    /// The page's training settings as a run's config (see [`Session::start_training`]).
    pub fn train_config(&self, config: &str) -> Result<TrainConfig, Error> {
        let page: PageTrainConfig = serde_json::from_str(config)
            .map_err(|e| Error::invalid(format!("not a training config: {e}")))?;
        page.build(self.process.config(), self.train_data()?.dim())
    }

    fn trainer(&self) -> Result<&Trainer, Error> {
        self.trainer
            .as_ref()
            .ok_or_else(|| Error::invalid("start training first"))
    }
}

impl Session {
    /// Begin training a fresh MLP on the current data set. `config` is JSON:
    /// `{"options": TrainOptions, "objective", "process", "slicing"}`, `objective` one of "ddpm",
    /// "ncsn", "dsm", "ssm", "ism", "esm" (mixtures only), `process` a [`ProcessConfig`]
    /// (default: the page's).
    pub fn start_training(&mut self, config: &str) -> Result<(), Error> {
        let config = self.train_config(config)?;
        let data = self.train_data()?.clone();
        let trainer =
            Trainer::new(config, data, &self.device)?.with_data_origin(self.data_origin.clone());
        self.trainer = Some(trainer);
        self.changed(Change::Training);
        Ok(())
    }

    /// Why `objective` cannot train on the current data, if it cannot (ESM needs the exact
    /// score of a mixture); `None` when it can.
    pub fn objective_support(&self, objective: &str) -> Result<Option<String>, Error> {
        let objective: Loss = objective.parse()?;
        let mixture = self.train_data()?.mixture().is_some();
        Ok((objective.needs_exact_score() && !mixture).then(|| {
            format!(
                "ESM regresses on the exact score ∇log p_t, known only for the Gaussian mixtures, not for {}: choose another objective",
                self.data_info_label().unwrap_or_else(|| "this data".into())
            )
        }))
    }

    /// Optimiser steps taken by the current run.
    pub fn trained_steps(&self) -> usize {
        self.trainer.as_ref().map_or(0, Trainer::steps_done)
    }

    /// Take `k` optimiser steps; returns their mean batch loss (one device read for all `k`).
    pub async fn train_steps(&mut self, k: usize) -> Result<f32, Error> {
        let trainer = self
            .trainer
            .as_mut()
            .ok_or_else(|| Error::invalid("start training first"))?;
        if k == 0 {
            return Err(Error::invalid("take at least one step"));
        }
        let mut sum = trainer.step();
        for _ in 1..k {
            sum = sum + trainer.step();
        }
        let mean = read_scalar(sum).await? / k as f32;
        self.train_log.push((trainer.steps_done(), mean));
        Ok(mean)
    }

    /// The loss of the current weights on a batch fixed by `seed` ([`Trainer::eval_loss`]): the
    /// same batch at every step, so its changes are the model's, not the batch's.
    pub async fn eval_loss(&self, seed: u64) -> Result<f32, Error> {
        read_scalar(self.trainer()?.eval_loss(seed)).await
    }

    /// `n` samples from the network being trained: DDIM (η = 0, at most `steps` steps, leading
    /// spacing) from the prior on the process it trains on, `[n, d]`.
    pub async fn train_samples(
        &self,
        n: usize,
        steps: usize,
        seed: u64,
    ) -> Result<Vec<f32>, Error> {
        let net = self.trainer()?.model();
        self.samples_of(&net, n, steps, seed).await
    }

    /// Everything the run made, as one zip ([`bundle::run_archive`], laid out as `dplay train`
    /// writes a run): the model folder (the weights to save: the EMA where one is kept, read back
    /// asynchronously and written on the CPU), `n` samples by DDIM in `steps` steps with `seed`
    /// as `.npy`, CSV and a figure over the data, and the loss log.
    pub async fn export_run(&self, n: usize, steps: usize, seed: u64) -> Result<Vec<u8>, Error> {
        let trainer = self.trainer()?;
        let net = trainer.export_model();
        let samples = self.samples_of(&net, n, steps, seed).await?;
        let entries = checkpoint::collect_async(&net).await?;
        let host = params::apply(trainer.config().model.init(&self.host), &entries)?;
        let tail = &self.train_log[self.train_log.len().saturating_sub(10)..];
        let final_loss = (!tail.is_empty())
            .then(|| tail.iter().map(|&(_, l)| l as f64).sum::<f64>() / tail.len() as f64);
        let card = trainer.card(final_loss);
        let data = self.train_data()?;
        let points = data.sample(n, &mut crate::noise::rng(seed));
        let bytes = crate::bundle::run_archive(
            &host,
            &card,
            &samples,
            &points,
            data.dim(),
            &self.train_log,
        )?;
        Ok(bytes)
    }

    /// `n` samples of `net` (the run's network) by DDIM, η = 0, leading spacing, in at most
    /// `steps` steps, from the prior on the process it trains on, `[n, d]`.
    async fn samples_of(
        &self,
        net: &crate::model::Mlp,
        n: usize,
        steps: usize,
        seed: u64,
    ) -> Result<Vec<f32>, Error> {
        let trainer = self.trainer()?;
        if n == 0 {
            return Err(Error::invalid("sample at least one point"));
        }
        let process = trainer
            .model_process()
            .ok_or_else(|| Error::invalid("this run learns no process's levels"))?
            .build()?;
        let config = trainer.config();
        let model = NetworkScore::new(
            net,
            config.objective.parameterization(),
            process.num_steps(),
        );
        let spec = SamplerSpec::Ddim {
            steps,
            eta: 0.0,
            spacing: TimestepSpacing::Leading,
            clip: None,
            end: DdimEnd::Data,
        };
        let mut sampler = spec.build_on(&process, ScoreSource::Learned, no_data, seed)?;
        sampler.reset_from_prior(n, config.model.dim, &self.device);
        read(sampler.run(&model)?).await
    }

    /// The current training weights as safetensors bytes (burn module paths, parameter ids in the
    /// header: [`params::to_safetensors`]), read asynchronously (WebGPU forbids a blocking read).
    /// With [`Session::restore_training`] this carries a run across a lost GPU device.
    pub async fn train_weights(&self) -> Result<Vec<u8>, Error> {
        let net = self.trainer()?.model();
        let entries = checkpoint::collect_async(&net).await?;
        params::to_safetensors(&entries)
    }

    /// Continue the run started by the last [`Session::start_training`] from `weights` (bytes
    /// from [`Session::train_weights`]) at optimiser step `step`: the learning-rate schedule and
    /// the batch stream resume there; Adam's moments restart from zero. On the CPU backend (it reads
    /// the new run's state synchronously).
    pub fn restore_training(&mut self, weights: &[u8], step: usize) -> Result<(), Error> {
        if self.async_only {
            return Err(Error::invalid(
                "restoring a run reads its state synchronously: do it on the CPU backend",
            ));
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
        Ok(())
    }
}
