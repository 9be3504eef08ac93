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

/// Which of the dropped or picked files (their paths) play which role in a 2-D model, as JSON
/// `{zip, config, weights}` (indices or null): [`crate::bundle::Roles`].
#[wasm_bindgen(js_name = modelFileRoles)]
pub fn model_file_roles(paths: Vec<String>) -> String {
    serde_json::to_string(&crate::bundle::Roles::of(&paths)).expect("indices serialise")
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

    /// [`Session::load_model`].
    #[wasm_bindgen(js_name = loadModel)]
    pub fn load_model(&mut self, weights: &[u8], config_json: &str) -> Result<(), JsValue> {
        Ok(self.session.load_model(weights, config_json)?)
    }

    /// [`Session::load_model_files`].
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

    /// [`Session::model_card`].
    #[wasm_bindgen(js_name = modelCard)]
    pub fn model_card(&self) -> Option<String> {
        self.session.model_card()
    }

    /// [`Session::set_mixture`].
    #[wasm_bindgen(js_name = setMixture)]
    pub fn set_mixture(&mut self, json: &str) -> Result<(), JsValue> {
        Ok(self.session.set_mixture(json)?)
    }

    /// [`Session::draw_data`].
    #[wasm_bindgen(js_name = drawData)]
    pub fn draw_data(&mut self, n: usize, seed: u64) -> Result<Float32Array, JsValue> {
        Ok(Float32Array::from(&self.session.draw_data(n, seed)?[..]))
    }

    /// [`Session::start_sampling`].
    #[wasm_bindgen(js_name = startSampling)]
    pub fn start_sampling(&mut self, n: usize, seed: u64) -> Result<(), JsValue> {
        Ok(self.session.start_sampling(n, seed)?)
    }

    /// [`Session::sampler_support`].
    #[wasm_bindgen(js_name = samplerSupport)]
    pub fn sampler_support(&self, spec: &str, source: &str) -> Result<Option<String>, JsValue> {
        Ok(self.session.sampler_support(spec, source)?)
    }

    /// [`Session::start_sampler`].
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

    /// [`Session::sample_steps`].
    #[wasm_bindgen(js_name = sampleSteps)]
    pub async fn sample_steps(&mut self, k: usize) -> Result<Frame, JsValue> {
        Ok(Frame(self.session.sample_steps(k).await?))
    }

    /// [`Session::score_field`].
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

    /// [`Session::set_process`].
    #[wasm_bindgen(js_name = setProcess)]
    pub fn set_process(&mut self, config: &str) -> Result<usize, JsValue> {
        Ok(self.session.set_process(config)?)
    }

    /// [`Session::process_config`].
    #[wasm_bindgen(js_name = processConfig)]
    pub fn process_config(&self) -> String {
        self.session.process_config()
    }

    /// [`Session::process_label`].
    #[wasm_bindgen(js_name = processLabel)]
    pub fn process_label(&self) -> String {
        self.session.process_label()
    }

    /// [`Session::num_steps`].
    #[wasm_bindgen(js_name = numSteps)]
    pub fn num_steps(&self) -> usize {
        self.session.num_steps()
    }

    /// [`Session::forward_tables`].
    #[wasm_bindgen(js_name = forwardTables)]
    pub fn forward_tables(&self) -> Float32Array {
        Float32Array::from(&self.session.forward_tables()[..])
    }

    /// [`Session::forward_at`].
    #[wasm_bindgen(js_name = forwardAt)]
    pub async fn forward_at(&self, k: usize) -> Result<Float32Array, JsValue> {
        Ok(Float32Array::from(&self.session.forward_at(k).await?[..]))
    }

    /// [`Session::chain_steps`].
    #[wasm_bindgen(js_name = chainSteps)]
    pub async fn chain_steps(&mut self, k: usize, seed: u64) -> Result<Float32Array, JsValue> {
        Ok(Float32Array::from(
            &self.session.chain_steps(k, seed).await?[..],
        ))
    }

    /// [`Session::chain_step`].
    #[wasm_bindgen(js_name = chainStep)]
    pub fn chain_step(&self) -> usize {
        self.session.chain_step()
    }

    /// [`Session::set_dataset`].
    #[wasm_bindgen(js_name = setDataset)]
    pub fn set_dataset(&mut self, name: &str) -> Result<(), JsValue> {
        Ok(self.session.set_dataset(name)?)
    }

    /// [`Session::set_points`].
    #[wasm_bindgen(js_name = setPoints)]
    pub fn set_points(&mut self, values: Vec<f32>) -> Result<(), JsValue> {
        Ok(self.session.set_points(values)?)
    }

    /// [`Session::set_csv`].
    #[wasm_bindgen(js_name = setCsv)]
    pub fn set_csv(&mut self, text: &str, origin: &str) -> Result<(), JsValue> {
        Ok(self.session.set_csv(text, origin)?)
    }

    /// [`Session::data_info`].
    #[wasm_bindgen(js_name = dataInfo)]
    pub fn data_info(&self) -> Result<String, JsValue> {
        Ok(self.session.data_info()?)
    }

    /// [`Session::energy_distance`].
    #[wasm_bindgen(js_name = energyDistance)]
    pub fn energy_distance(&self, x: &[f32]) -> Result<f64, JsValue> {
        Ok(self.session.energy_distance(x)?)
    }

    /// [`Session::component_weights`].
    #[wasm_bindgen(js_name = componentWeights)]
    pub fn component_weights(&self, x: &[f32]) -> Result<Float32Array, JsValue> {
        Ok(Float32Array::from(&self.session.component_weights(x)?[..]))
    }

    /// [`Session::start_training`].
    #[wasm_bindgen(js_name = startTraining)]
    pub fn start_training(&mut self, config: &str) -> Result<(), JsValue> {
        Ok(self.session.start_training(config)?)
    }

    /// [`Session::objective_support`].
    #[wasm_bindgen(js_name = objectiveSupport)]
    pub fn objective_support(&self, objective: &str) -> Result<Option<String>, JsValue> {
        Ok(self.session.objective_support(objective)?)
    }

    /// [`Session::trained_steps`].
    #[wasm_bindgen(js_name = trainedSteps)]
    pub fn trained_steps(&self) -> usize {
        self.session.trained_steps()
    }

    /// [`Session::train_steps`].
    #[wasm_bindgen(js_name = trainSteps)]
    pub async fn train_steps(&mut self, k: usize) -> Result<f32, JsValue> {
        Ok(self.session.train_steps(k).await?)
    }

    /// [`Session::eval_loss`].
    #[wasm_bindgen(js_name = evalLoss)]
    pub async fn eval_loss(&self, seed: u64) -> Result<f32, JsValue> {
        Ok(self.session.eval_loss(seed).await?)
    }

    /// [`Session::train_samples`].
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

    /// [`Session::export_run`].
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

    /// [`Session::train_weights`].
    #[wasm_bindgen(js_name = trainWeights)]
    pub async fn train_weights(&self) -> Result<Uint8Array, JsValue> {
        Ok(Uint8Array::from(&self.session.train_weights().await?[..]))
    }

    /// [`Session::restore_training`].
    #[wasm_bindgen(js_name = restoreTraining)]
    pub fn restore_training(&mut self, weights: &[u8], step: usize) -> Result<(), JsValue> {
        Ok(self.session.restore_training(weights, step)?)
    }

    /// [`Session::start_comparison`].
    #[wasm_bindgen(js_name = startComparison)]
    pub fn start_comparison(
        &mut self,
        specs: &str,
        n: usize,
        seed: u64,
    ) -> Result<Vec<u32>, JsValue> {
        Ok(self.session.start_comparison(specs, n, seed)?)
    }

    /// [`Session::comparison_steps`].
    #[wasm_bindgen(js_name = comparisonSteps)]
    pub async fn comparison_steps(&mut self, ks: &[u32]) -> Result<Comparison, JsValue> {
        Ok(Comparison(self.session.comparison_steps(ks).await?))
    }
}
