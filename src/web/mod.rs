//! The browser API: one [`Playground`] per page, driven by the page's Web Worker. It wraps the
//! plain-Rust [`Session`] (the 2-D panels' logic, tested natively) and image mode's
//! [`ImageLab`]: each export converts its arguments and results and no more.
//!
//! Rust computes, JS draws. Every long job is stepwise (`sample_steps(k)`, `train_steps(k)`), and
//! every read from the device is asynchronous: a synchronous read panics on WebGPU.

use burn::prelude::*;
use js_sys::{Float32Array, Uint8Array};
use wasm_bindgen::prelude::*;

use crate::error::Error;
use crate::image_lab::ImageLab;
use crate::session::Session;

mod bench;
mod images;
mod views;

pub use images::ImageRun;
pub use views::{Comparison, Frame, ScoreField};

/// The catalogue as JSON ([`crate::catalogue`]): the page builds its controls from it.
#[wasm_bindgen]
pub fn catalogue() -> String {
    crate::catalogue::catalogue_json()
}

#[wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
}

impl From<Error> for JsValue {
    fn from(e: Error) -> Self {
        JsError::new(&e.to_string()).into()
    }
}

/// Which compute backend to ask for.
#[wasm_bindgen]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// WebGPU when the browser offers an adapter, else the CPU.
    Auto = "auto",
    WebGpu = "webgpu",
    /// Pure-Rust CPU (burn's flex backend).
    Flex = "flex",
}

#[wasm_bindgen]
pub struct Playground {
    session: Session,
    backend: &'static str,
    notice: Option<String>,
    /// Image mode: a UNet, the digits and the running image walk.
    images: ImageLab,
}

fn has_webgpu() -> bool {
    let global = js_sys::global();
    js_sys::Reflect::get(&global, &"navigator".into())
        .and_then(|nav| js_sys::Reflect::get(&nav, &"gpu".into()))
        .map(|gpu| !gpu.is_undefined() && !gpu.is_null())
        .unwrap_or(false)
}

#[wasm_bindgen]
impl Playground {
    /// Start on `backend`. With `Auto` or `WebGpu`, a failed WebGPU start falls back to the CPU and
    /// [`Playground::notice`] says why. Call once per page: WebGPU initialises once.
    pub async fn create(backend: Backend) -> Playground {
        let (device, backend, notice) = match backend {
            Backend::Flex => (Device::flex(), "flex", None),
            _ if !has_webgpu() => (
                Device::flex(),
                "flex",
                Some("This browser has no WebGPU (navigator.gpu); running on the CPU.".to_string()),
            ),
            _ => match Device::wgpu_options().init_async().await {
                Ok(d) => (d, "webgpu", None),
                Err(e) => (
                    Device::flex(),
                    "flex",
                    Some(format!("WebGPU failed to start ({e}); running on the CPU.")),
                ),
            },
        };
        Playground {
            session: Session::new(device, backend == "webgpu"),
            backend,
            notice,
            images: ImageLab::default(),
        }
    }

    /// "webgpu" or "flex".
    #[wasm_bindgen(getter)]
    pub fn backend(&self) -> String {
        self.backend.to_string()
    }

    /// Why the page is not on the backend it asked for, if it is not.
    #[wasm_bindgen(getter)]
    pub fn notice(&self) -> Option<String> {
        self.notice.clone()
    }

    /// Load a model folder's two files as the pretrained model of its data set; its training data
    /// becomes the data unless a data set was chosen already.
    #[wasm_bindgen(js_name = loadModel)]
    pub fn load_model(&mut self, weights: &[u8], config_json: &str) -> Result<(), JsValue> {
        Ok(self.session.load_model(weights, config_json)?)
    }

    /// A 2-D model from `dplay train` or this page's download, dropped or picked: the folder's
    /// files by role (`names` lists every file offered, for messages), or `zip`, the archive.
    /// Like [`Session::load_model`] it becomes the pretrained source and brings its data set
    /// where the page shows another. Returns `{dataset, process}` as JSON: the named set it
    /// brought (or null) and the process it was trained on (or null for a noise-free score).
    #[wasm_bindgen(js_name = loadModelFiles)]
    pub fn load_model_files(
        &mut self,
        names: Vec<String>,
        config: Option<String>,
        weights: Option<Vec<u8>>,
        zip: Option<Vec<u8>>,
        origin: &str,
    ) -> Result<String, JsValue> {
        Ok(self
            .session
            .load_model_files(names, config, weights, zip, origin)?)
    }

    /// The pretrained model's config.json, as text.
    #[wasm_bindgen(js_name = modelCard)]
    pub fn model_card(&self) -> Option<String> {
        self.session.model_card()
    }

    /// Replace the data mixture (JSON as for `dplay train`). The loaded model stays.
    #[wasm_bindgen(js_name = setMixture)]
    pub fn set_mixture(&mut self, json: &str) -> Result<(), JsValue> {
        Ok(self.session.set_mixture(json)?)
    }

    /// Draw `n` data points (and fixed noise for the forward view). Returns x₀, `[n, d]`.
    #[wasm_bindgen(js_name = drawData)]
    pub fn draw_data(&mut self, n: usize, seed: u64) -> Result<Float32Array, JsValue> {
        Ok(Float32Array::from(&self.session.draw_data(n, seed)?[..]))
    }

    /// Begin reverse DDPM sampling of `n` points from `x_T ~ N(0, I)` with the pretrained model.
    #[wasm_bindgen(js_name = startSampling)]
    pub fn start_sampling(&mut self, n: usize, seed: u64) -> Result<(), JsValue> {
        Ok(self.session.start_sampling(n, seed)?)
    }

    /// Why `source` ("learned", "pretrained" or "oracle") cannot drive the sampler `spec` (a
    /// [`SamplerSpec`] as JSON) on the page's process; `None` when it can.
    #[wasm_bindgen(js_name = samplerSupport)]
    pub fn sampler_support(&self, spec: &str, source: &str) -> Result<Option<String>, JsValue> {
        Ok(self.session.sampler_support(spec, source)?)
    }

    /// Begin sampling `n` points with any sampler: `spec` is a [`SamplerSpec`] as JSON, `source`
    /// "learned", "pretrained" or "oracle". Returns the number of steps to take (DDIM takes at
    /// most the process's T). The oracle runs on the CPU.
    #[wasm_bindgen(js_name = startSampler)]
    pub fn start_sampler(
        &mut self,
        spec: &str,
        source: &str,
        n: usize,
        seed: u64,
    ) -> Result<usize, JsValue> {
        Ok(self.session.start_sampler(spec, source, n, seed)?)
    }

    /// Take up to `k` steps of the running sampler and return the sample.
    #[wasm_bindgen(js_name = sampleSteps)]
    pub async fn sample_steps(&mut self, k: usize) -> Result<Frame, JsValue> {
        Ok(Frame(self.session.sample_steps(k).await?))
    }

    /// The score field at scrubber position `k ∈ 1..=T` (table index k-1) of the page's process
    /// on a `size × size` grid over `[-half_width, half_width]²` ([`Grid`]): `source`'s score
    /// (a network through its parameterisation, or the exact one) and, where the data is a
    /// mixture, the exact `log p_t` and `∇log p_t` of the perturbed mixture and their distance
    /// (empty arrays otherwise). A source that cannot give a field here leaves its array empty
    /// and says why in `note`.
    #[wasm_bindgen(js_name = scoreField)]
    pub async fn score_field(
        &self,
        k: usize,
        size: usize,
        half_width: f64,
        source: &str,
    ) -> Result<ScoreField, JsValue> {
        Ok(ScoreField(
            self.session
                .score_field(k, size, half_width, source)
                .await?,
        ))
    }

    /// Show, train on and sample the process `config` (a [`ProcessConfig`] as JSON, e.g.
    /// `{"kind": "ve", "sigma_min": 0.1, "sigma_max": 20, "levels": 10}` or `{"kind": "vp",
    /// "schedule": {"kind": "cosine", "steps": 500, "beta_start": 0.0001, "beta_end": 0.02}}`).
    /// Returns its number of steps T (levels L for VE). The drawn data's noise and any running
    /// sampler are dropped.
    #[wasm_bindgen(js_name = setProcess)]
    pub fn set_process(&mut self, config: &str) -> Result<usize, JsValue> {
        Ok(self.session.set_process(config)?)
    }

    /// The page's process as JSON ([`ProcessConfig`]).
    #[wasm_bindgen(js_name = processConfig)]
    pub fn process_config(&self) -> String {
        self.session.process_config()
    }

    /// The page's process in words, e.g. "VP (linear β, T = 1000)".
    #[wasm_bindgen(js_name = processLabel)]
    pub fn process_label(&self) -> String {
        self.session.process_label()
    }

    /// T, the number of steps (levels) of the page's process.
    #[wasm_bindgen(js_name = numSteps)]
    pub fn num_steps(&self) -> usize {
        self.session.num_steps()
    }

    /// The process's tables for t = 0..T-1 as three rows `[3, T]` of its marginal
    /// `N(a_t x_0, s_t² I)`: the signal power a_t² (ᾱ_t for VP and sub-VP, 1 for VE),
    /// SNR_t = a_t²/s_t² and the std s_t (√(1-ᾱ_t), 1-ᾱ_t or σ_t).
    #[wasm_bindgen(js_name = forwardTables)]
    pub fn forward_tables(&self) -> Float32Array {
        Float32Array::from(&self.session.forward_tables()[..])
    }

    /// The forward marginal at scrubber position `k ∈ 0..=T`: `x_k = a x₀ + s ε` at table index
    /// k-1 (k = 0 is the data itself), using the noise fixed by `drawData`.
    #[wasm_bindgen(js_name = forwardAt)]
    pub async fn forward_at(&self, k: usize) -> Result<Float32Array, JsValue> {
        Ok(Float32Array::from(&self.session.forward_at(k).await?[..]))
    }

    /// Run the process's one-step chain (fresh noise each step; for VP DDPM's
    /// `x_t = √α_t x_{t-1} + √β_t ε`) `k` more steps from the drawn data; returns the current `x`
    /// and its step via `chainStep`.
    #[wasm_bindgen(js_name = chainSteps)]
    pub async fn chain_steps(&mut self, k: usize, seed: u64) -> Result<Float32Array, JsValue> {
        Ok(Float32Array::from(
            &self.session.chain_steps(k, seed).await?[..],
        ))
    }

    /// How many chain steps have been taken since `drawData`.
    #[wasm_bindgen(js_name = chainStep)]
    pub fn chain_step(&self) -> usize {
        self.session.chain_step()
    }

    /// Use a named data set: "mixture3", "seeds" or a 2-D toy set ("moons", "swiss-roll",
    /// "rings", "checkerboard", "8gaussians").
    #[wasm_bindgen(js_name = setDataset)]
    pub fn set_dataset(&mut self, name: &str) -> Result<(), JsValue> {
        Ok(self.session.set_dataset(name)?)
    }

    /// Use the user's points, `[n, 2]` row-major (a drawing): at least 2, all finite.
    #[wasm_bindgen(js_name = setPoints)]
    pub fn set_points(&mut self, values: Vec<f32>) -> Result<(), JsValue> {
        Ok(self.session.set_points(values)?)
    }

    /// Use the points of a CSV file (one `x, y` per line, an optional header). `origin` names the
    /// file in messages, which give the line of the first problem.
    #[wasm_bindgen(js_name = setCsv)]
    pub fn set_csv(&mut self, text: &str, origin: &str) -> Result<(), JsValue> {
        Ok(self.session.set_csv(text, origin)?)
    }

    /// The current data set as JSON ([`DataInfo`]).
    #[wasm_bindgen(js_name = dataInfo)]
    pub fn data_info(&self) -> Result<String, JsValue> {
        Ok(self.session.data_info()?)
    }

    /// The energy distance `2E‖X−Y‖ − E‖X−X′‖ − E‖Y−Y′‖` ([`metrics::energy_distance`]) between
    /// the first ≤1000 rows of `x` `[n, 2]` and the data: a point set itself (up to 1000 of its
    /// points), else 1000 draws from a fixed stream. 0 when the laws agree.
    #[wasm_bindgen(js_name = energyDistance)]
    pub fn energy_distance(&self, x: &[f32]) -> Result<f64, JsValue> {
        Ok(self.session.energy_distance(x)?)
    }

    /// The fraction of `x` (`[n, d]`) nearest each data component ([`metrics::component_weights`]).
    #[wasm_bindgen(js_name = componentWeights)]
    pub fn component_weights(&self, x: &[f32]) -> Result<Float32Array, JsValue> {
        Ok(Float32Array::from(&self.session.component_weights(x)?[..]))
    }

    /// Begin training a fresh MLP on the current data set. `config` is JSON:
    /// `{"hidden", "depth", "lr", "batch", "steps", "seed", "objective", "process"}`, `objective`
    /// one of "ddpm", "ncsn", "dsm", "ssm", "ism", "esm" (mixtures only), `process` a
    /// [`ProcessConfig`] (default: the page's).
    #[wasm_bindgen(js_name = startTraining)]
    pub fn start_training(&mut self, config: &str) -> Result<(), JsValue> {
        Ok(self.session.start_training(config)?)
    }

    /// Why `objective` cannot train on the current data, if it cannot (ESM needs the exact
    /// score of a mixture); `None` when it can.
    #[wasm_bindgen(js_name = objectiveSupport)]
    pub fn objective_support(&self, objective: &str) -> Result<Option<String>, JsValue> {
        Ok(self.session.objective_support(objective)?)
    }

    /// Optimiser steps taken by the current run.
    #[wasm_bindgen(js_name = trainedSteps)]
    pub fn trained_steps(&self) -> usize {
        self.session.trained_steps()
    }

    /// Take `k` optimiser steps; returns their mean batch loss (one device read for all `k`).
    #[wasm_bindgen(js_name = trainSteps)]
    pub async fn train_steps(&mut self, k: usize) -> Result<f32, JsValue> {
        Ok(self.session.train_steps(k).await?)
    }

    /// The loss of the current weights on a batch fixed by `seed` ([`Trainer::eval_loss`]): the
    /// same batch at every step, so its changes are the model's, not the batch's.
    #[wasm_bindgen(js_name = evalLoss)]
    pub async fn eval_loss(&self, seed: u64) -> Result<f32, JsValue> {
        Ok(self.session.eval_loss(seed).await?)
    }

    /// `n` samples from the network being trained: DDIM (η = 0, at most `steps` steps, leading
    /// spacing) from the prior on the process it trains on, `[n, d]`.
    #[wasm_bindgen(js_name = trainSamples)]
    pub async fn train_samples(
        &self,
        n: usize,
        steps: usize,
        seed: u64,
    ) -> Result<Float32Array, JsValue> {
        Ok(Float32Array::from(
            &self.session.train_samples(n, steps, seed).await?[..],
        ))
    }

    /// Everything the run made, as one zip ([`bundle::run_archive`], laid out as `dplay train`
    /// writes a run): the model folder (the weights to save: the EMA where one is kept, read back
    /// asynchronously and written on the CPU), `n` samples by DDIM in `steps` steps with `seed`
    /// as `.npy`, CSV and a figure over the data, and the loss log.
    #[wasm_bindgen(js_name = exportRun)]
    pub async fn export_run(
        &self,
        n: usize,
        steps: usize,
        seed: u64,
    ) -> Result<Uint8Array, JsValue> {
        Ok(Uint8Array::from(
            &self.session.export_run(n, steps, seed).await?[..],
        ))
    }

    /// The current training weights as safetensors bytes (burn module paths, parameter ids in the
    /// header: [`params::to_safetensors`]), read asynchronously (WebGPU forbids a blocking read).
    /// With [`Session::restore_training`] this carries a run across a lost GPU device.
    #[wasm_bindgen(js_name = trainWeights)]
    pub async fn train_weights(&self) -> Result<Uint8Array, JsValue> {
        Ok(Uint8Array::from(&self.session.train_weights().await?[..]))
    }

    /// Continue the run started by the last [`Session::start_training`] from `weights` (bytes
    /// from [`Session::train_weights`]) at optimiser step `step`: the learning-rate schedule and
    /// the batch stream resume there; Adam's moments restart from zero. On the CPU backend (it reads
    /// the new run's state synchronously).
    #[wasm_bindgen(js_name = restoreTraining)]
    pub fn restore_training(&mut self, weights: &[u8], step: usize) -> Result<(), JsValue> {
        Ok(self.session.restore_training(weights, step)?)
    }

    /// Begin the samplers `specs` (a JSON array of [`SamplerSpec`]s) side by side, each on `n`
    /// points from `seed`, all driven by the exact score of the page's mixture (on the CPU).
    /// Returns each one's number of steps.
    #[wasm_bindgen(js_name = startComparison)]
    pub fn start_comparison(
        &mut self,
        specs: &str,
        n: usize,
        seed: u64,
    ) -> Result<Vec<u32>, JsValue> {
        Ok(self.session.start_comparison(specs, n, seed)?)
    }

    /// Take up to `ks[i]` steps of compared sampler `i`; the last round carries the weights.
    #[wasm_bindgen(js_name = comparisonSteps)]
    pub async fn comparison_steps(&mut self, ks: &[u32]) -> Result<Comparison, JsValue> {
        Ok(Comparison(self.session.comparison_steps(ks).await?))
    }
}
