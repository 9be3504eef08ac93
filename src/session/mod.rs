//! The page's logic in plain Rust: one [`Session`] holds the data, the process, the score
//! sources, the training run and the sampling runs, and keeps their reset rules in one place
//! ([`Session::changed`]). The wasm class (`crate::web::Playground`) wraps it thinly; native
//! tests drive the same `Session` (`tests/session.rs`), so the page's logic is tested without a
//! browser.
//!
//! Every long job is stepwise (`sample_steps(k)`, `train_steps(k)`), and every read from the
//! device is asynchronous (`into_data_async`): a synchronous read panics on WebGPU. Natively the
//! futures are ready at once (any executor, `futures_lite::future::block_on` in the tests).

use burn::prelude::*;

use crate::bundle;
use crate::data::{oracle_field, row_distance, GaussianMixture, Grid, MixtureScore};
use crate::error::Error;
use crate::model::{Mlp, NetworkScore, ScoreModel};
use crate::noise;
use crate::process::{DiscreteProcess, NoiseLevel, Process, ProcessConfig};
use crate::sampler::{Sampler, SamplerSpec, ScoreSource, StepOutput};
use crate::train::{DataSpec, ModelCard, TrainData, Trainer};

mod checkpoint;
mod compare;
mod data;
mod process;
mod sources;
mod train;

pub use compare::Comparison;
pub use data::named_for;
pub use process::marginal_tables;

fn device_err(e: impl std::fmt::Debug) -> Error {
    Error::Device(format!("{e:?}"))
}

/// A one-element loss on the host, read without blocking.
pub async fn read_scalar(x: Tensor<1>) -> Result<f32, Error> {
    let v = x
        .into_data_async()
        .await
        .map_err(device_err)?
        .try_into_vec::<f32>()
        .map_err(device_err)?;
    v.first()
        .copied()
        .ok_or_else(|| Error::Device("an empty loss".into()))
}

/// `x` on the host, read without blocking.
pub async fn read(x: Tensor<2>) -> Result<Vec<f32>, Error> {
    x.into_data_async()
        .await
        .map_err(device_err)?
        .try_into_vec::<f32>()
        .map_err(device_err)
}

fn to_f32(v: &[f64]) -> Vec<f32> {
    v.iter().map(|&x| x as f32).collect()
}

/// One reverse step's result for drawing: the 2-D panel's points, or image mode's grid (each row
/// an image, `c·h·w` wide).
#[derive(Debug, Clone)]
pub struct Frame {
    pub x: Vec<f32>,
    /// The sampler's estimate of the clean sample x̂₀ (`x` itself where it has none).
    pub x0_pred: Vec<f32>,
    /// The step just taken.
    pub t: usize,
    pub remaining: usize,
}

impl Frame {
    /// The frame after a round of steps: the last step's output, or where none was taken (the
    /// walk is done, or `k` was 0) the current sample `current`.
    pub async fn read(
        last: Option<StepOutput>,
        current: Option<Tensor<2>>,
        remaining: usize,
    ) -> Result<Self, Error> {
        Ok(match last {
            Some(out) => Frame {
                x: read(out.x).await?,
                x0_pred: read(out.x0_pred).await?,
                t: out.t,
                remaining,
            },
            None => {
                let x =
                    read(current.ok_or_else(|| Error::invalid("start sampling first"))?).await?;
                Frame {
                    x0_pred: x.clone(),
                    x,
                    t: 0,
                    remaining,
                }
            }
        })
    }
}

/// The score panel's field on a grid ([`Session::score_field`]).
#[derive(Debug, Clone)]
pub struct ScoreField {
    pub points: Vec<f32>,
    /// The exact `log p_t` and `∇log p_t` where the data is a mixture (else empty).
    pub log_p: Vec<f32>,
    pub true_score: Vec<f32>,
    /// The source's score (empty when it cannot give one here: `note` says why).
    pub learned_score: Vec<f32>,
    /// `‖learned − true‖` per point, where both exist.
    pub error: Vec<f32>,
    pub note: Option<String>,
}

/// What changed, for [`Session::changed`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// Another data set: the drawn points, the chain and every sampling run go.
    Data,
    /// Another process: the chain restarts from the drawn points; the sampling runs go.
    Process,
    /// Another pretrained model: the running sampler goes (it may have used the old one).
    Model,
    /// A new training run: its loss log restarts.
    Training,
}

/// The page's state: what it shows, trains and samples, on one device.
pub struct Session {
    device: Device,
    /// Whether the device forbids synchronous reads (WebGPU).
    async_only: bool,
    /// The shipped model of a named data set, or a dropped one (the "pretrained" score source).
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
    /// The training run's `(step, mean batch loss)` after each `train_steps`, for its download.
    train_log: Vec<(usize, f32)>,
}

impl Session {
    /// A session on `device`, showing DDPM's process and no data yet. `async_only`: the device
    /// forbids synchronous reads (WebGPU), so what needs one ([`Session::restore_training`]) is
    /// refused.
    pub fn new(device: Device, async_only: bool) -> Self {
        Self {
            device,
            async_only,
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
        }
    }

    pub fn device(&self) -> &Device {
        &self.device
    }

    /// The pretrained model and its card, where one is loaded.
    pub fn pretrained(&self) -> Option<&(Mlp, ModelCard)> {
        self.pretrained.as_ref()
    }

    /// Every reset rule: what each change drops.
    fn changed(&mut self, change: Change) {
        match change {
            Change::Data => {
                self.x0 = None;
                self.chain = None;
                self.sampler = None;
                self.comparison.clear();
            }
            Change::Process => {
                self.chain = self.x0.as_ref().map(|(x0, _)| (x0.clone(), 0));
                self.sampler = None;
                self.comparison.clear();
            }
            Change::Model => self.sampler = None,
            Change::Training => self.train_log.clear(),
        }
    }

    /// Load a model folder's two files as the pretrained model of its data set; its training data
    /// becomes the data unless a data set was chosen already.
    pub fn load_model(&mut self, weights: &[u8], config_json: &str) -> Result<(), Error> {
        let (model, card) = bundle::from_bytes(weights, config_json, &self.device)?;
        self.adopt_model(model, card)?;
        Ok(())
    }

    /// A 2-D model from `dplay train` or this page's download, dropped or picked: the folder's
    /// files by role (`names` lists every file offered, for messages), or `zip`, the archive.
    /// Like [`Session::load_model`] it becomes the pretrained source and brings its data set
    /// where the page shows another. Returns `{dataset, process}` as JSON: the named set it
    /// brought (or null) and the process it was trained on (or null for a noise-free score).
    pub fn load_model_files(
        &mut self,
        names: Vec<String>,
        config: Option<String>,
        weights: Option<Vec<u8>>,
        zip: Option<Vec<u8>>,
        origin: &str,
    ) -> Result<String, Error> {
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
        self.changed(Change::Model);
        Ok(brought.filter(|n| !n.is_empty()))
    }

    /// The pretrained model's config.json, as text.
    pub fn model_card(&self) -> Option<String> {
        self.pretrained
            .as_ref()
            .and_then(|(_, c)| serde_json::to_string(c).ok())
    }

    /// Replace the data mixture (JSON as for `dplay train`). The loaded model stays.
    pub fn set_mixture(&mut self, json: &str) -> Result<(), Error> {
        let data = GaussianMixture::from_json(json, "mixture")?;
        self.set_train_data(data.into(), "mixture");
        Ok(())
    }

    /// Draw `n` data points (and fixed noise for the forward view). Returns x₀, `[n, d]`.
    pub fn draw_data(&mut self, n: usize, seed: u64) -> Result<Vec<f32>, Error> {
        let data = self.train_data()?;
        let d = data.dim();
        let mut rng = noise::rng(seed);
        let x0 = data.sample(n, &mut rng);
        let out = x0.clone();
        let x0 = Tensor::<2>::from_data(TensorData::new(x0, [n, d]), &self.device);
        let eps = noise::normal(&mut rng, [n, d], &self.device);
        self.chain = Some((x0.clone(), 0));
        self.x0 = Some((x0, eps));
        Ok(out)
    }

    /// Begin reverse DDPM sampling of `n` points from `x_T ~ N(0, I)` with the pretrained model.
    pub fn start_sampling(&mut self, n: usize, seed: u64) -> Result<(), Error> {
        let spec = serde_json::to_string(&SamplerSpec::default_of("ancestral")?)
            .map_err(|e| Error::invalid(e.to_string()))?;
        self.start_sampler(&spec, "pretrained", n, seed).map(|_| ())
    }

    /// Why `source` ("learned", "pretrained" or "oracle") cannot drive the sampler `spec` (a
    /// [`SamplerSpec`] as JSON) on the page's process; `None` when it can.
    pub fn sampler_support(&self, spec: &str, source: &str) -> Result<Option<String>, Error> {
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
    pub fn start_sampler(
        &mut self,
        spec: &str,
        source: &str,
        n: usize,
        seed: u64,
    ) -> Result<usize, Error> {
        let source = sources::parse(source)?;
        let spec = SamplerSpec::from_json(spec)?;
        let data = self.train_data()?;
        if n == 0 {
            return Err(Error::invalid("sample at least one point"));
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
    pub async fn sample_steps(&mut self, k: usize) -> Result<Frame, Error> {
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
        Frame::read(last, sampler.current().cloned(), sampler.remaining()).await
    }

    /// The score field at scrubber position `k ∈ 1..=T` (table index k-1) of the page's process
    /// on a `size × size` grid over `[-half_width, half_width]²` ([`Grid`]): `source`'s score
    /// (a network through its parameterisation, or the exact one) and, where the data is a
    /// mixture, the exact `log p_t` and `∇log p_t` of the perturbed mixture and their distance
    /// (empty arrays otherwise). A source that cannot give a field here leaves its array empty
    /// and says why in `note`.
    pub async fn score_field(
        &self,
        k: usize,
        size: usize,
        half_width: f64,
        source: &str,
    ) -> Result<ScoreField, Error> {
        let source = sources::parse(source)?;
        let steps = self.process.num_steps();
        if k == 0 || k > steps {
            return Err(Error::invalid(format!(
                "the score field needs t in 1..={steps} (a network has no score at t = 0), got {k}"
            )));
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
