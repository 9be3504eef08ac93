//! The browser API: one [`Playground`] per page, driven by the page's Web Worker.
//!
//! Rust computes, JS draws. Every long job is stepwise (`sample_steps(k)`, `train_steps(k)`), and
//! every read from the device is asynchronous: a synchronous read panics on WebGPU.

use burn::prelude::*;
use js_sys::Float32Array;
use wasm_bindgen::prelude::*;

use crate::bundle;
use crate::data::{oracle_field, row_distance, GaussianMixture, Grid, MixtureScore};
use crate::error::Error;
use crate::image_lab::ImageLab;
use crate::model::{Mlp, NetworkScore, ScoreModel};
use crate::noise;
use crate::process::{NoiseLevel, Process, VpProcess};
use crate::sampler::{AncestralSampler, PosteriorVariance, Sampler, SamplerSpec, ScoreSource};
use crate::train::{DataSpec, ModelCard, TrainData, Trainer};

mod checkpoint;
mod data;
mod images;
mod train;

pub use images::{ImageFrame, ImageRun};

#[wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
}

impl From<Error> for JsValue {
    fn from(e: Error) -> Self {
        JsError::new(&e.to_string()).into()
    }
}

fn device_err(e: impl std::fmt::Debug) -> JsValue {
    Error::Device(format!("{e:?}")).into()
}

async fn read(x: Tensor<2>) -> Result<Vec<f32>, JsValue> {
    x.into_data_async()
        .await
        .map_err(device_err)?
        .try_into_vec::<f32>()
        .map_err(device_err)
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

/// One reverse step's result for drawing.
#[wasm_bindgen]
pub struct Frame {
    x: Vec<f32>,
    x0_pred: Vec<f32>,
    t: usize,
    remaining: usize,
}

#[wasm_bindgen]
impl Frame {
    /// The current sample, `[n, d]` row-major.
    #[wasm_bindgen(getter)]
    pub fn x(&self) -> Float32Array {
        Float32Array::from(&self.x[..])
    }
    /// The model's x̂₀ at the last step.
    #[wasm_bindgen(getter, js_name = x0Pred)]
    pub fn x0_pred(&self) -> Float32Array {
        Float32Array::from(&self.x0_pred[..])
    }
    /// The table index of the step just taken.
    #[wasm_bindgen(getter)]
    pub fn t(&self) -> usize {
        self.t
    }
    /// Reverse steps still to go (0 when x is a finished sample).
    #[wasm_bindgen(getter)]
    pub fn remaining(&self) -> usize {
        self.remaining
    }
}

/// The score field on a grid at one t (see [`Playground::score_field`]).
#[wasm_bindgen]
pub struct ScoreField {
    points: Vec<f32>,
    log_p: Vec<f32>,
    true_score: Vec<f32>,
    learned_score: Vec<f32>,
    error: Vec<f32>,
}

#[wasm_bindgen]
impl ScoreField {
    /// The grid points, `[size², 2]`, x fastest, from the bottom-left corner.
    #[wasm_bindgen(getter)]
    pub fn points(&self) -> Float32Array {
        Float32Array::from(&self.points[..])
    }
    /// `log p_t` per grid point, `[size²]`.
    #[wasm_bindgen(getter, js_name = logP)]
    pub fn log_p(&self) -> Float32Array {
        Float32Array::from(&self.log_p[..])
    }
    /// The exact `∇log p_t`, `[size², 2]`.
    #[wasm_bindgen(getter, js_name = trueScore)]
    pub fn true_score(&self) -> Float32Array {
        Float32Array::from(&self.true_score[..])
    }
    /// The network's score through its parameterisation, `[size², 2]`.
    #[wasm_bindgen(getter, js_name = learnedScore)]
    pub fn learned_score(&self) -> Float32Array {
        Float32Array::from(&self.learned_score[..])
    }
    /// `‖s_θ - ∇log p_t‖` per grid point, `[size²]`.
    #[wasm_bindgen(getter)]
    pub fn error(&self) -> Float32Array {
        Float32Array::from(&self.error[..])
    }
}

fn to_f32(v: &[f64]) -> Vec<f32> {
    v.iter().map(|&x| x as f32).collect()
}

#[wasm_bindgen]
pub struct Playground {
    device: Device,
    backend: &'static str,
    notice: Option<String>,
    model: Option<Mlp>,
    card: Option<ModelCard>,
    process: Option<VpProcess>,
    /// The data's mixture where it is one: the oracle score and the recovered weights need it.
    data: Option<GaussianMixture>,
    /// What the page shows and trains on (a mixture, a toy set, the user's points).
    dataset: Option<TrainData>,
    /// Names a point set's source in the model card ("drawn points", a file name).
    data_origin: String,
    /// The drawn data x₀ and one fixed ε per point, so the forward view is smooth in t.
    x0: Option<(Tensor<2>, Tensor<2>)>,
    chain: Option<(Tensor<2>, usize)>,
    /// The running sampler and the score source it was started with.
    sampler: Option<(Box<dyn Sampler>, ScoreSource)>,
    /// The CPU device the oracle score runs on: its math is host f64, reading x back
    /// synchronously, which WebGPU forbids.
    host: Device,
    trainer: Option<Trainer>,
    /// Whether the score and reverse panels use the network being trained.
    trained_in_use: bool,
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
            device,
            backend,
            notice,
            model: None,
            card: None,
            process: None,
            data: None,
            dataset: None,
            data_origin: String::new(),
            x0: None,
            chain: None,
            sampler: None,
            host: Device::flex(),
            trainer: None,
            trained_in_use: false,
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

    /// Load a model folder's two files; its training mixture becomes the data unless a data set
    /// was chosen already.
    #[wasm_bindgen(js_name = loadModel)]
    pub fn load_model(&mut self, weights: &[u8], config_json: &str) -> Result<(), JsValue> {
        let (model, card) = bundle::from_bytes(weights, config_json, &self.device)?;
        // The model's own data, where the page has none yet: a mixture or a toy set.
        let own: Option<TrainData> = match (&self.dataset, &card.data) {
            (Some(_), _) => None,
            (None, DataSpec::Mixture(m)) => Some(GaussianMixture::new(m.clone())?.into()),
            (None, DataSpec::Toy { toy }) => Some((*toy).into()),
            (None, other) => {
                return Err(Error::invalid(format!(
                    "the model was trained on {}; choose its data first",
                    other.describe()
                ))
                .into())
            }
        };
        self.process = Some(VpProcess::new(card.train.schedule)?);
        self.model = Some(model);
        self.card = Some(card);
        self.trained_in_use = false;
        if let Some(data) = own {
            self.set_train_data(data, "the model's data");
        }
        self.x0 = None;
        self.chain = None;
        self.sampler = None;
        Ok(())
    }

    /// The loaded model's config.json, as text.
    #[wasm_bindgen(js_name = modelCard)]
    pub fn model_card(&self) -> Option<String> {
        self.card
            .as_ref()
            .and_then(|c| serde_json::to_string(c).ok())
    }

    /// Replace the data mixture (JSON as for `dplay train`). The loaded model stays.
    #[wasm_bindgen(js_name = setMixture)]
    pub fn set_mixture(&mut self, json: &str) -> Result<(), JsValue> {
        let data = GaussianMixture::from_json(json, "mixture")?;
        self.set_train_data(data.into(), "mixture");
        Ok(())
    }

    /// T, the number of diffusion steps of the loaded model.
    #[wasm_bindgen(js_name = numSteps)]
    pub fn num_steps(&self) -> usize {
        self.process.as_ref().map(|p| p.num_steps()).unwrap_or(0)
    }

    /// Draw `n` data points (and fixed noise for the forward view). Returns x₀, `[n, d]`.
    #[wasm_bindgen(js_name = drawData)]
    pub fn draw_data(&mut self, n: usize, seed: u64) -> Result<Float32Array, JsValue> {
        let data = self.train_data()?;
        let d = data.dim();
        let mut rng = noise::rng(seed);
        let x0 = data.sample(n, &mut rng);
        let out = Float32Array::from(&x0[..]);
        let x0 = Tensor::<2>::from_data(TensorData::new(x0, [n, d]), &self.device);
        let eps = noise::normal(&mut rng, [n, d], &self.device);
        self.chain = Some((x0.clone(), 0));
        self.x0 = Some((x0, eps));
        Ok(out)
    }

    /// The forward marginal at scrubber position `k ∈ 0..=T`: `x_k = √ᾱ x₀ + √(1-ᾱ) ε` with ᾱ at
    /// table index k-1 (k = 0 is the data itself), using the noise fixed by `drawData`.
    #[wasm_bindgen(js_name = forwardAt)]
    pub async fn forward_at(&self, k: usize) -> Result<Float32Array, JsValue> {
        let process = self
            .process
            .as_ref()
            .ok_or_else(|| Error::invalid("load a model first"))?;
        let (x0, eps) = self
            .x0
            .clone()
            .ok_or_else(|| Error::invalid("call drawData first"))?;
        if k > process.num_steps() {
            return Err(
                Error::invalid(format!("t = {k} is past T = {}", process.num_steps())).into(),
            );
        }
        let x = if k == 0 {
            x0
        } else {
            let n = x0.dims()[0];
            process.q_sample(x0, &vec![k - 1; n], eps)
        };
        Ok(Float32Array::from(&read(x).await?[..]))
    }

    /// Run the one-step chain `x_t = √α_t x_{t-1} + √β_t ε` (fresh ε each step) `k` more steps from
    /// the drawn data; returns the current `x` and its step via `chainStep`.
    #[wasm_bindgen(js_name = chainSteps)]
    pub async fn chain_steps(&mut self, k: usize, seed: u64) -> Result<Float32Array, JsValue> {
        let process = self
            .process
            .as_ref()
            .ok_or_else(|| Error::invalid("load a model first"))?;
        let (mut x, mut t) = self
            .chain
            .take()
            .ok_or_else(|| Error::invalid("call drawData first"))?;
        let [n, d] = x.dims();
        let mut rng = noise::rng(seed ^ (t as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        for _ in 0..k.min(process.num_steps() - t) {
            x = process.q_step(x, t, noise::normal(&mut rng, [n, d], &self.device));
            t += 1;
        }
        self.chain = Some((x.clone(), t));
        Ok(Float32Array::from(&read(x).await?[..]))
    }

    /// How many chain steps have been taken since `drawData`.
    #[wasm_bindgen(js_name = chainStep)]
    pub fn chain_step(&self) -> usize {
        self.chain.as_ref().map(|c| c.1).unwrap_or(0)
    }

    /// Begin reverse DDPM sampling of `n` points from `x_T ~ N(0, I)` with the loaded model.
    #[wasm_bindgen(js_name = startSampling)]
    pub fn start_sampling(&mut self, n: usize, seed: u64) -> Result<(), JsValue> {
        self.start_sampler(
            "{\"kind\": \"ancestral\", \"variance\": \"beta_tilde\"}",
            "learned",
            n,
            seed,
        )
        .map(|_| ())
    }

    /// Begin sampling `n` points with any sampler: `spec` is a [`SamplerSpec`] as JSON, `source`
    /// "learned" or "oracle". Returns the number of steps to take. The oracle runs on the CPU.
    #[wasm_bindgen(js_name = startSampler)]
    pub fn start_sampler(
        &mut self,
        spec: &str,
        source: &str,
        n: usize,
        seed: u64,
    ) -> Result<usize, JsValue> {
        let process = self
            .process
            .as_ref()
            .ok_or_else(|| Error::invalid("load a model first"))?;
        let data = self.train_data()?;
        let source: ScoreSource = serde_json::from_value(source.into()).map_err(|_| {
            Error::invalid(format!(
                "unknown score source '{source}' (learned or oracle)"
            ))
        })?;
        if n == 0 {
            return Err(Error::invalid("sample at least one point").into());
        }
        if source == ScoreSource::Oracle && self.data.is_none() {
            return Err(Error::invalid(
                "the exact (oracle) score is known only for Gaussian mixtures; use the learned score",
            )
            .into());
        }
        let points = || Ok((data.sample(2000, &mut noise::rng(seed)), data.dim()));
        let mut sampler =
            SamplerSpec::from_json(spec)?.build_with(process, source, points, seed)?;
        let device = match source {
            ScoreSource::Learned => &self.device,
            ScoreSource::Oracle => &self.host,
        };
        sampler.reset_from_prior(n, data.dim(), device);
        let total = sampler.remaining();
        self.sampler = Some((sampler, source));
        Ok(total)
    }

    /// Take up to `k` steps of the running sampler and return the sample.
    #[wasm_bindgen(js_name = sampleSteps)]
    pub async fn sample_steps(&mut self, k: usize) -> Result<Frame, JsValue> {
        let (sampler, source) = self
            .sampler
            .as_mut()
            .ok_or_else(|| Error::invalid("call startSampler first"))?;
        let oracle;
        let network;
        let model: &dyn ScoreModel = match source {
            ScoreSource::Oracle => {
                let data = self.data.clone().ok_or_else(|| {
                    Error::invalid("the exact score is known only for Gaussian mixtures")
                })?;
                oracle = MixtureScore::new(data);
                &oracle
            }
            ScoreSource::Learned => {
                let (net, card) = self
                    .model
                    .as_ref()
                    .zip(self.card.as_ref())
                    .ok_or_else(|| Error::invalid("load a model first"))?;
                network = NetworkScore::new(net, card.parameterization, card.train.schedule.steps);
                &network
            }
        };
        let mut last = None;
        for _ in 0..k {
            if sampler.done() {
                break;
            }
            last = Some(sampler.step(model)?);
        }
        let remaining = sampler.remaining();
        match last {
            Some(out) => Ok(Frame {
                x: read(out.x).await?,
                x0_pred: read(out.x0_pred).await?,
                t: out.t,
                remaining,
            }),
            None => {
                let x = read(
                    sampler
                        .current()
                        .cloned()
                        .ok_or_else(|| Error::invalid("no sample"))?,
                )
                .await?;
                Ok(Frame {
                    x0_pred: x.clone(),
                    x,
                    t: 0,
                    remaining,
                })
            }
        }
    }

    /// The loaded process's tables for t = 0..T-1 as three rows `[3, T]`: ᾱ_t, SNR_t = ᾱ_t/(1-ᾱ_t)
    /// and σ_t = √(1-ᾱ_t), the std of `q(x_t|x_0)`.
    #[wasm_bindgen(js_name = forwardTables)]
    pub fn forward_tables(&self) -> Result<Float32Array, JsValue> {
        let process = self
            .process
            .as_ref()
            .ok_or_else(|| Error::invalid("load a model first"))?;
        let m: Vec<_> = (0..process.num_steps())
            .map(|t| process.marginal(t))
            .collect();
        let rows: Vec<f32> = m
            .iter()
            .map(|m| m.mean_coef * m.mean_coef)
            .chain(m.iter().map(|m| m.snr()))
            .chain(m.iter().map(|m| m.std))
            .map(|v| v as f32)
            .collect();
        Ok(Float32Array::from(&rows[..]))
    }

    /// The score field at scrubber position `k ∈ 1..=T` (table index k-1) on a `size × size` grid
    /// over `[-half_width, half_width]²` ([`Grid`]): the network's score through its
    /// parameterisation and, where the data is a mixture, the exact `log p_t` and `∇log p_t` of the
    /// perturbed mixture and their distance (empty arrays otherwise).
    #[wasm_bindgen(js_name = scoreField)]
    pub async fn score_field(
        &self,
        k: usize,
        size: usize,
        half_width: f64,
    ) -> Result<ScoreField, JsValue> {
        let (process, (net, card)) = self
            .process
            .as_ref()
            .zip(self.model.as_ref().zip(self.card.as_ref()))
            .ok_or_else(|| Error::invalid("load a model first"))?;
        let steps = process.num_steps();
        if k == 0 || k > steps {
            return Err(Error::invalid(format!(
                "the score field needs t in 1..={steps} (a network has no score at t = 0), got {k}"
            ))
            .into());
        }
        let grid = Grid::new(size, half_width)?;
        let level = NoiseLevel::step(process, k - 1);
        let points = grid.points();
        let x = Tensor::<2>::from_data(
            TensorData::new(points.clone(), [grid.len(), 2]),
            &self.device,
        );
        let learned = NetworkScore::new(net, card.parameterization, card.train.schedule.steps)
            .score(x, &level)?;
        let learned = read(learned).await?;
        // The exact field exists where the data is a mixture; elsewhere only the network's.
        let (log_p, exact, error) = match self.data.clone() {
            Some(data) => {
                let (log_p, exact) = oracle_field(&MixtureScore::new(data), &grid, level.marginal)?;
                let error = row_distance(&learned, &exact, 2)?;
                (to_f32(&log_p), to_f32(&exact), to_f32(&error))
            }
            None => (Vec::new(), Vec::new(), Vec::new()),
        };
        Ok(ScoreField {
            points,
            log_p,
            true_score: exact,
            learned_score: learned,
            error,
        })
    }

    /// Reverse DDPM steps per second for `n` points with the loaded model (after 3 warm-up steps).
    pub async fn bench(&mut self, n: usize, steps: usize) -> Result<f64, JsValue> {
        let model = self
            .model
            .clone()
            .ok_or_else(|| Error::invalid("load a model first"))?;
        let process = self
            .process
            .clone()
            .ok_or_else(|| Error::invalid("load a model first"))?;
        let mut s = AncestralSampler::new(process, PosteriorVariance::BetaTilde, None, 1);
        s.reset_from_prior(n, 2, &self.device);
        for _ in 0..3 {
            s.step(&model)?;
        }
        read(s.current().cloned().expect("reset")).await?;
        let start = js_sys::Date::now();
        for _ in 0..steps {
            s.step(&model)?;
        }
        read(s.current().cloned().expect("reset")).await?;
        Ok(steps as f64 / ((js_sys::Date::now() - start) / 1e3))
    }
}
