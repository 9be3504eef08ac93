//! The page's image mode ([`crate::image_lab`]) for the worker: a UNet from a folder's files, the
//! digits, one image's forward marginal, a grid of samples and SDEdit, stepwise, on the page's one
//! device. Every read from the device is asynchronous.

use js_sys::Float32Array;
use serde::Serialize;
use wasm_bindgen::prelude::*;

use super::{Frame, Playground};
use crate::error::Error;
use crate::image_lab::RunSlot;
use crate::model::guidance::Guidance;
use crate::model::unet::{DeviceLimits, ImageModel, ModelFiles};
use crate::process::Process;
use crate::sampler::SamplerSpec;
use crate::session::{self, read};

/// Which of the page's two image walks a call is about.
#[wasm_bindgen]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImageRun {
    /// The reverse panel's grid of samples.
    Grid = "grid",
    /// The SDEdit panel's edit of a guide image.
    Edit = "edit",
}

impl From<ImageRun> for RunSlot {
    fn from(r: ImageRun) -> Self {
        match r {
            ImageRun::Edit => RunSlot::Edit,
            _ => RunSlot::Grid,
        }
    }
}

/// What the page shows about the image model in use.
#[derive(Serialize)]
struct ModelInfo<'a> {
    origin: &'a str,
    /// `[c, h, w]`.
    image: [usize; 3],
    params: usize,
    steps: usize,
    clip: Option<f64>,
    /// What the network predicts (ε, x̂₀ or v).
    prediction: &'static str,
    /// A class-conditional network's number of labels.
    classes: Option<usize>,
    block_out_channels: &'a [usize],
}

#[wasm_bindgen]
impl Playground {
    /// The device's per-buffer limits, from the adapter's `GPUSupportedLimits` on WebGPU; on the
    /// CPU backend both numbers are the cap the page chose per tensor.
    #[wasm_bindgen(js_name = setDeviceLimits)]
    pub fn set_device_limits(
        &mut self,
        max_storage_buffer_binding_size: f64,
        max_buffer_size: f64,
    ) {
        let limits = if self.backend == "webgpu" {
            DeviceLimits::webgpu(
                max_storage_buffer_binding_size as u64,
                max_buffer_size as u64,
            )
        } else {
            DeviceLimits::cpu(max_storage_buffer_binding_size.min(max_buffer_size) as u64)
        };
        self.images.set_limits(limits);
    }

    /// Load a UNet2DModel folder's files (`names` lists every file offered, for messages) if they
    /// are valid and a batch of `batch` images fits the device. A failure leaves the model in use.
    /// Returns [`ModelInfo`] as JSON.
    #[wasm_bindgen(js_name = loadImageModel)]
    pub fn load_image_model(
        &mut self,
        names: Vec<String>,
        config: Option<String>,
        weights: Option<Vec<u8>>,
        scheduler: Option<String>,
        origin: &str,
        batch: usize,
    ) -> Result<String, JsValue> {
        let files = ModelFiles {
            names: &names,
            config: config.as_deref(),
            weights: weights.as_deref(),
            scheduler: scheduler.as_deref(),
        };
        let model = ImageModel::from_files(
            &files,
            origin,
            self.images.limits(),
            batch,
            self.session.device(),
        )?;
        self.images.set_model(model)?;
        Ok(self.image_model_info().unwrap_or_default())
    }

    /// The image model in use as JSON ([`ModelInfo`]), if there is one.
    #[wasm_bindgen(js_name = imageModelInfo)]
    pub fn image_model_info(&self) -> Option<String> {
        let m = self.images.model()?;
        serde_json::to_string(&ModelInfo {
            origin: &m.origin,
            image: m.image,
            params: m.net.num_params(),
            steps: m.scheduler.schedule.steps,
            clip: m.scheduler.clip,
            prediction: m.scheduler.prediction.label(),
            classes: m.net.num_classes(),
            block_out_channels: &m.net.config.block_out_channels,
        })
        .ok()
    }

    /// `[c, h, w]` the image panels work in: the model's, else the digits'.
    #[wasm_bindgen(js_name = imageShape)]
    pub fn image_shape(&self) -> Vec<u32> {
        self.images.image_shape().map(|v| v as u32).to_vec()
    }

    /// The digits from the IDX bytes the page fetched (gzipped); returns their number.
    #[wasm_bindgen(js_name = loadDigits)]
    pub fn load_digits(&mut self, bytes: &[u8]) -> Result<usize, JsValue> {
        Ok(self.images.load_digits(bytes, "digits-images.idx.gz")?)
    }

    /// Digit `i` in `[-1, 1]`, `[28·28]`.
    pub fn digit(&self, i: usize) -> Result<Float32Array, JsValue> {
        Ok(Float32Array::from(&self.images.digit(i)?[..]))
    }

    /// T of the image process.
    #[wasm_bindgen(js_name = imageNumSteps)]
    pub fn image_num_steps(&self) -> usize {
        self.images.process().num_steps()
    }

    /// The image process's ᾱ_t, SNR_t and σ_t for t = 0..T-1, as `[3, T]` (see `forwardTables`).
    #[wasm_bindgen(js_name = imageTables)]
    pub fn image_tables(&self) -> Float32Array {
        Float32Array::from(&session::marginal_tables(self.images.process())[..])
    }

    /// One image `x0` noised to each scrubber position (`0..=T`, 0 being `x0`) with one ε from
    /// `seed`: `[positions, c·h·w]`.
    #[wasm_bindgen(js_name = imageForward)]
    pub async fn image_forward(
        &self,
        x0: Vec<f32>,
        positions: Vec<u32>,
        seed: u64,
    ) -> Result<Float32Array, JsValue> {
        let positions: Vec<usize> = positions.into_iter().map(|k| k as usize).collect();
        let x = self
            .images
            .forward(&x0, &positions, seed, self.session.device())?;
        Ok(Float32Array::from(&read(x).await?[..]))
    }

    /// A class-conditional model's label and guidance (a [`Guidance`]) for the runs started
    /// from now on.
    #[wasm_bindgen(js_name = setGuidance)]
    pub fn set_guidance(&mut self, guidance: &str) -> Result<(), JsValue> {
        let g: Guidance =
            serde_json::from_str(guidance).map_err(|e| Error::invalid(format!("guidance: {e}")))?;
        Ok(self.images.set_guidance(g)?)
    }

    /// Begin sampling `n` images with `spec` (a [`SamplerSpec`]: ancestral or DDIM) from `x_T`:
    /// `init` (`[n, c·h·w]`) or noise from `seed`. Returns the steps to take.
    #[wasm_bindgen(js_name = startImageSampler)]
    pub fn start_image_sampler(
        &mut self,
        spec: &str,
        n: usize,
        seed: u64,
        init: Option<Vec<f32>>,
    ) -> Result<usize, JsValue> {
        let spec = SamplerSpec::from_json(spec)?;
        Ok(self
            .images
            .start(&spec, n, seed, init.as_deref(), self.session.device())?)
    }

    /// SDEdit: `n` copies of the guide `x0` noised to the sampler's first step at or below `t0`,
    /// then denoised. Returns `[steps to take, the step it starts from]`.
    #[wasm_bindgen(js_name = startSdedit)]
    pub fn start_sdedit(
        &mut self,
        spec: &str,
        x0: Vec<f32>,
        t0: usize,
        n: usize,
        seed: u64,
    ) -> Result<Vec<u32>, JsValue> {
        let spec = SamplerSpec::from_json(spec)?;
        let (total, start) =
            self.images
                .start_sdedit(&spec, &x0, t0, n, seed, self.session.device())?;
        Ok(vec![total as u32, start as u32])
    }

    /// Up to `k` steps of the image walk `run` (0 returns its current images).
    #[wasm_bindgen(js_name = imageSteps)]
    pub async fn image_steps(&mut self, run: ImageRun, k: usize) -> Result<Frame, JsValue> {
        let slot = RunSlot::from(run);
        let out = self.images.step(slot, k)?;
        let remaining = self.images.remaining(slot);
        let current = self.images.current(slot);
        Ok(Frame(session::Frame::read(out, current, remaining).await?))
    }
}
