//! The bench page's timings, in the page's worker: reverse sampling steps per second with the
//! pretrained model, and training steps per second of a fresh run. Each is timed after warm-up
//! steps (kernel compilation, allocation) and ends with a read-back, which waits for the queued
//! work.

use burn::prelude::*;
use wasm_bindgen::prelude::*;

use super::Playground;
use crate::error::Error;
use crate::model::NetworkScore;
use crate::process::Process;
use crate::sampler::{no_data, SamplerSpec, ScoreSource};
use crate::session::read;
use crate::train::Trainer;

/// Untimed steps first.
const WARMUP: usize = 3;

fn seconds_since(start: f64) -> f64 {
    (js_sys::Date::now() - start) / 1e3
}

#[wasm_bindgen]
impl Playground {
    /// Reverse DDPM steps per second for `n` points with the pretrained model on its own VP
    /// chain (after 3 warm-up steps).
    pub async fn bench(&mut self, n: usize, steps: usize) -> Result<f64, JsValue> {
        let (model, card) = self
            .session
            .pretrained()
            .cloned()
            .ok_or_else(|| Error::invalid("load a model first"))?;
        let schedule = card
            .train
            .objective
            .schedule()
            .ok_or_else(|| Error::invalid("the bench runs DDPM's chain: load a VP model"))?;
        let process = crate::process::VpProcess::new(schedule)?;
        let score = NetworkScore::new(&model, card.parameterization, process.num_steps());
        let mut s = SamplerSpec::default().build_on(
            &process.into(),
            ScoreSource::Pretrained,
            no_data,
            1,
        )?;
        s.reset_from_prior(n, card.train.model.dim, self.session.device());
        for _ in 0..WARMUP {
            s.step(&score)?;
        }
        read(s.current().cloned().expect("reset above")).await?;
        let start = js_sys::Date::now();
        for _ in 0..steps {
            s.step(&score)?;
        }
        read(s.current().cloned().expect("reset above")).await?;
        Ok(steps as f64 / seconds_since(start))
    }

    /// Optimiser steps per second of a fresh run with the page's training settings `config` (as
    /// for [`Playground::start_training`]) on the current data (after 3 warm-up steps). The run
    /// is not kept.
    #[wasm_bindgen(js_name = benchTrain)]
    pub async fn bench_train(&self, config: &str, steps: usize) -> Result<f64, JsValue> {
        if steps == 0 {
            return Err(Error::invalid("time at least one step").into());
        }
        let config = self.session.train_config(config)?;
        let mut trainer = Trainer::new(
            config,
            self.session.train_data()?.clone(),
            self.session.device(),
        )?;
        let mut run = |k: usize| {
            let mut sum: Tensor<1> = trainer.step();
            for _ in 1..k {
                sum = sum + trainer.step();
            }
            sum
        };
        let warm = run(WARMUP);
        warm.into_data_async()
            .await
            .map_err(|e| Error::Device(format!("{e:?}")))?;
        let start = js_sys::Date::now();
        let sum = run(steps);
        sum.into_data_async()
            .await
            .map_err(|e| Error::Device(format!("{e:?}")))?;
        Ok(steps as f64 / seconds_since(start))
    }
}
