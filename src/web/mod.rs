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
use crate::process::{DiscreteProcess, NoiseLevel, Process, ProcessConfig};
use crate::sampler::{Sampler, SamplerSpec, ScoreSource};
use crate::train::{DataSpec, ModelCard, TrainData, Trainer};

mod bench;
mod checkpoint;
mod compare;
mod data;
mod images;
mod process;
mod sources;
mod train;

pub use compare::Comparison;
pub use images::ImageRun;

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

/// One reverse step's result for drawing: the 2-D panel's points, or image mode's grid (each row
/// an image, `c·h·w` wide).
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
    note: Option<String>,
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
    /// Why the chosen source has no field here (then `learnedScore` is empty).
    #[wasm_bindgen(getter)]
    pub fn note(&self) -> Option<String> {
        self.note.clone()
    }
    /// The chosen source's score (a network through its parameterisation), `[size², 2]`.
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
    /// The shipped model of a named data set (the "pretrained" score source).
    pretrained: Option<(Mlp, ModelCard)>,
    /// The forward process the panels show, train on and sample.
    process: DiscreteProcess,
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
    /// The score panel's samplers side by side (empty when none runs), on the oracle.
    comparison: Vec<Box<dyn Sampler>>,
    /// The CPU device the oracle score runs on: its math is host f64, reading x back
    /// synchronously, which WebGPU forbids.
    host: Device,
    /// The network being trained (the "learned" score source).
    trainer: Option<Trainer>,
    /// The training run's `(step, mean batch loss)` after each `trainSteps`, for its download.
    train_log: Vec<(usize, f32)>,
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
            pretrained: None,
            process: ProcessConfig::default()
                .build()
                .expect("DDPM's schedule is valid"),
            data: None,
            dataset: None,
            data_origin: String::new(),
            x0: None,
            chain: None,
            sampler: None,
            comparison: Vec::new(),
            host: Device::flex(),
            trainer: None,
            train_log: Vec::new(),
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
        let (model, card) = bundle::from_bytes(weights, config_json, &self.device)?;
        self.adopt_model(model, card)?;
        Ok(())
    }

    /// A 2-D model from `dplay train` or this page's download, dropped or picked: the folder's
    /// files by role (`names` lists every file offered, for messages), or `zip`, the archive.
    /// Like [`Playground::load_model`] it becomes the pretrained source and brings its data set
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
        let (model, card) = match zip {
            Some(bytes) => bundle::from_zip(&bytes, origin, &self.device)?,
            None => bundle::from_files(
                &names,
                config.as_deref(),
                weights.as_deref(),
                origin,
                &self.device,
            )?,
        };
        let process = card.train.objective.sampling_process();
        let dataset = self.adopt_model(model, card)?;
        Ok(serde_json::json!({ "dataset": dataset, "process": process }).to_string())
    }

    /// Make `model` the pretrained source. Its data comes with it where the page has none or
    /// shows another that the page can rebuild (a named set); returns that set's name.
    fn adopt_model(&mut self, model: Mlp, card: ModelCard) -> Result<Option<&'static str>, Error> {
        let shown = self
            .dataset
            .as_ref()
            .is_some_and(|d| d.spec(&self.data_origin) == card.data);
        let own: Option<(&'static str, TrainData)> = match (shown, &card.data) {
            (true, _) => None,
            (false, spec) => match (data::named_for(spec), &self.dataset, spec) {
                (Some(named), _, _) => Some(named),
                (None, None, DataSpec::Mixture(m)) => {
                    Some(("", GaussianMixture::new(m.clone())?.into()))
                }
                (None, None, DataSpec::Toy { toy }) => Some(("", (*toy).into())),
                (None, _, other) => {
                    return Err(Error::invalid(format!(
                        "the model was trained on {}; choose its data first",
                        other.describe()
                    )))
                }
            },
        };
        self.pretrained = Some((model, card));
        let brought = own.map(|(name, data)| {
            self.set_train_data(
                data,
                if name.is_empty() {
                    "the model's data"
                } else {
                    name
                },
            );
            name
        });
        self.sampler = None;
        Ok(brought.filter(|n| !n.is_empty()))
    }

    /// The pretrained model's config.json, as text.
    #[wasm_bindgen(js_name = modelCard)]
    pub fn model_card(&self) -> Option<String> {
        self.pretrained
            .as_ref()
            .and_then(|(_, c)| serde_json::to_string(c).ok())
    }

    /// Replace the data mixture (JSON as for `dplay train`). The loaded model stays.
    #[wasm_bindgen(js_name = setMixture)]
    pub fn set_mixture(&mut self, json: &str) -> Result<(), JsValue> {
        let data = GaussianMixture::from_json(json, "mixture")?;
        self.set_train_data(data.into(), "mixture");
        Ok(())
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

    /// Begin reverse DDPM sampling of `n` points from `x_T ~ N(0, I)` with the pretrained model.
    #[wasm_bindgen(js_name = startSampling)]
    pub fn start_sampling(&mut self, n: usize, seed: u64) -> Result<(), JsValue> {
        self.start_sampler(
            "{\"kind\": \"ancestral\", \"variance\": \"beta_tilde\"}",
            "pretrained",
            n,
            seed,
        )
        .map(|_| ())
    }

    /// Why `source` ("learned", "pretrained" or "oracle") cannot drive the sampler `spec` (a
    /// [`SamplerSpec`] as JSON) on the page's process; `None` when it can.
    #[wasm_bindgen(js_name = samplerSupport)]
    pub fn sampler_support(&self, spec: &str, source: &str) -> Result<Option<String>, JsValue> {
        let spec = SamplerSpec::from_json(spec)?;
        let source = sources::parse(source)?;
        // What the sampler needs of the process first: it binds every source.
        Ok(spec
            .support(&self.process.config(), source)
            .and_then(|()| self.source_support(source))
            .err()
            .map(|e| e.to_string()))
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
        let source = sources::parse(source)?;
        let spec = SamplerSpec::from_json(spec)?;
        let data = self.train_data()?;
        if n == 0 {
            return Err(Error::invalid("sample at least one point").into());
        }
        spec.support(&self.process.config(), source)?;
        self.source_support(source)?;
        let points = || Ok((data.sample(2000, &mut noise::rng(seed)), data.dim()));
        let mut sampler = spec.build_on(&self.process, source, points, seed)?;
        let device = match source {
            ScoreSource::Oracle => &self.host,
            _ => &self.device,
        };
        sampler.reset_from_prior(n, data.dim(), device);
        let total = sampler.remaining();
        self.sampler = Some((sampler, source));
        Ok(total)
    }

    /// Take up to `k` steps of the running sampler and return the sample.
    #[wasm_bindgen(js_name = sampleSteps)]
    pub async fn sample_steps(&mut self, k: usize) -> Result<Frame, JsValue> {
        let source = self
            .sampler
            .as_ref()
            .ok_or_else(|| Error::invalid("call startSampler first"))?
            .1;
        let oracle;
        let network;
        let net;
        let model: &dyn ScoreModel = match source {
            ScoreSource::Oracle => {
                oracle = self.oracle()?;
                &oracle
            }
            _ => {
                net = self.network(source)?;
                network = NetworkScore::new(&net.0, net.1, net.2);
                &network
            }
        };
        let (sampler, _) = self.sampler.as_mut().expect("checked above");
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
        let source = sources::parse(source)?;
        let steps = self.process.num_steps();
        if k == 0 || k > steps {
            return Err(Error::invalid(format!(
                "the score field needs t in 1..={steps} (a network has no score at t = 0), got {k}"
            ))
            .into());
        }
        let grid = Grid::new(size, half_width)?;
        let level = NoiseLevel::step(&self.process, k - 1);
        let points = grid.points();
        // The exact field exists where the data is a mixture.
        let exact = match self.data.clone() {
            Some(data) => Some(oracle_field(
                &MixtureScore::new(data),
                &grid,
                level.marginal,
            )?),
            None => None,
        };
        let (learned, note) = match self.source_support(source) {
            Err(e) => (Vec::new(), Some(e.to_string())),
            Ok(()) if source == ScoreSource::Oracle => (
                exact.as_ref().map(|(_, s)| to_f32(s)).unwrap_or_default(),
                None,
            ),
            Ok(()) => {
                let (net, param, train_steps) = self.network(source)?;
                let x = Tensor::<2>::from_data(
                    TensorData::new(points.clone(), [grid.len(), 2]),
                    &self.device,
                );
                let s = NetworkScore::new(&net, param, train_steps).score(x, &level)?;
                (read(s).await?, None)
            }
        };
        let (log_p, true_score, error) = match exact {
            Some((log_p, exact)) => {
                let error = if learned.is_empty() {
                    Vec::new()
                } else {
                    to_f32(&row_distance(&learned, &exact, 2)?)
                };
                (to_f32(&log_p), to_f32(&exact), error)
            }
            None => (Vec::new(), Vec::new(), Vec::new()),
        };
        Ok(ScoreField {
            points,
            log_p,
            true_score,
            learned_score: learned,
            error,
            note,
        })
    }
}
