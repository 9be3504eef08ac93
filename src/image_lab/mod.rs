//! The image side of the playground, on any device: a diffusers UNet with its schedule, the
//! shipped digits, the forward marginal of one image, and one reverse walk at a time (a grid of
//! samples from `x_T`, or SDEdit from a guide image). `web::images` wraps it for the page's worker;
//! the native tests drive it directly.

use burn::prelude::*;

use crate::data::images::{idx_images_from_bytes, ImageSet};
use crate::error::{Error, Result};
use crate::model::guidance::{check_scale, Guidance};
use crate::model::unet::{conditioned, DeviceLimits, ImageModel};
use crate::noise;
use crate::process::{Process, VpProcess};
use crate::sampler::{SamplerSpec, StartAt, StepOutput};
use crate::schedule::ScheduleConfig;

/// The shape of the shipped digits, `[1, 28, 28]`.
pub const DIGIT_IMAGE: [usize; 3] = [1, 28, 28];

/// The two walks the page runs side by side: the sample grid and SDEdit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunSlot {
    /// `n` samples from `x_T` (the reverse panel's grid).
    Grid,
    /// SDEdit of a guide image (the SDEdit panel).
    Edit,
}

impl RunSlot {
    fn index(self) -> usize {
        self as usize
    }
}

/// The state of the page's image mode.
pub struct ImageLab {
    model: Option<ImageModel>,
    /// The model's process, or DDPM's (linear β, T = 1000) before any model is loaded.
    process: VpProcess,
    digits: Option<ImageSet>,
    limits: DeviceLimits,
    runs: [Option<Box<dyn StartAt>>; 2],
    /// A class-conditional model's label and guidance (unused by any other).
    guidance: Guidance,
}

impl Default for ImageLab {
    fn default() -> Self {
        Self {
            model: None,
            process: VpProcess::new(ScheduleConfig::default()).expect("DDPM's schedule is valid"),
            digits: None,
            limits: DeviceLimits::default(),
            runs: [None, None],
            guidance: Guidance::default(),
        }
    }
}

impl ImageLab {
    /// The per-buffer limits of the device the models run on.
    pub fn set_limits(&mut self, limits: DeviceLimits) {
        self.limits = limits;
    }

    pub fn limits(&self) -> &DeviceLimits {
        &self.limits
    }

    /// A class-conditional model's label and guidance from the next step on; checked against
    /// the model's labels when it is loaded.
    pub fn set_guidance(&mut self, guidance: Guidance) -> Result<()> {
        check_scale(guidance.scale)?;
        self.guidance = guidance;
        Ok(())
    }

    /// Whether the loaded model is class-conditional, and with how many labels.
    pub fn num_classes(&self) -> Option<usize> {
        self.model.as_ref().and_then(|m| m.net.num_classes())
    }

    /// Use `model` from now on; the running walks (of the previous model) end.
    pub fn set_model(&mut self, model: ImageModel) -> Result<()> {
        self.process = VpProcess::new(model.scheduler.schedule)?;
        self.model = Some(model);
        self.runs = [None, None];
        Ok(())
    }

    pub fn model(&self) -> Option<&ImageModel> {
        self.model.as_ref()
    }

    fn loaded(&self) -> Result<&ImageModel> {
        self.model
            .as_ref()
            .ok_or_else(|| Error::invalid("no image model is loaded"))
    }

    pub fn process(&self) -> &VpProcess {
        &self.process
    }

    /// The image shape the panels work in: the model's, else the digits'.
    pub fn image_shape(&self) -> [usize; 3] {
        self.model.as_ref().map_or(DIGIT_IMAGE, |m| m.image)
    }

    /// The digits from IDX bytes (gzipped or not); returns how many there are.
    pub fn load_digits(&mut self, bytes: &[u8], origin: &str) -> Result<usize> {
        let set = idx_images_from_bytes(bytes, origin)?;
        if [set.channels, set.height, set.width] != DIGIT_IMAGE {
            return Err(Error::format(
                origin,
                format!(
                    "digits are 28×28 one-channel images, these are {}×{}×{}",
                    set.channels, set.height, set.width
                ),
            ));
        }
        let n = set.len();
        self.digits = Some(set);
        Ok(n)
    }

    pub fn num_digits(&self) -> usize {
        self.digits.as_ref().map_or(0, ImageSet::len)
    }

    /// Digit `i`, scaled to `[-1, 1]` (`2p/255 - 1`, the training data's scaling).
    pub fn digit(&self, i: usize) -> Result<Vec<f32>> {
        let set = self
            .digits
            .as_ref()
            .ok_or_else(|| Error::invalid("the digits are not loaded"))?;
        if i >= set.len() {
            return Err(Error::invalid(format!(
                "digit {i} does not exist (0..{})",
                set.len()
            )));
        }
        Ok(set.image_f32(i))
    }

    /// One image's length `c·h·w`, checked against `x0`.
    fn check_image(&self, x0: &[f32]) -> Result<usize> {
        let d: usize = self.image_shape().iter().product();
        if x0.len() != d {
            return Err(Error::invalid(format!(
                "an image of {} values does not have the shape {:?} ({d} values)",
                x0.len(),
                self.image_shape()
            )));
        }
        if let Some(i) = x0.iter().position(|v| !v.is_finite()) {
            return Err(Error::invalid(format!("pixel {i} is not a finite number")));
        }
        Ok(d)
    }

    /// The forward marginal of one image at scrubber positions `k ∈ 0..=T`:
    /// `x_k = √ᾱ x₀ + √(1-ᾱ) ε` with ᾱ at table index `k-1` (`k = 0` is `x₀`), one ε drawn from
    /// `seed` for every position, so that the images change smoothly with k. `[positions, d]`.
    pub fn forward(
        &self,
        x0: &[f32],
        positions: &[usize],
        seed: u64,
        device: &Device,
    ) -> Result<Tensor<2>> {
        let d = self.check_image(x0)?;
        let steps = self.process.num_steps();
        if let Some(k) = positions.iter().find(|&&k| k > steps) {
            return Err(Error::invalid(format!("t = {k} is past T = {steps}")));
        }
        let m = positions.len();
        // Position 0 is x₀ itself (a = 1, s = 0); position k uses the marginal at step k-1.
        let (a, s): (Vec<f32>, Vec<f32>) = positions
            .iter()
            .map(|&k| match k {
                0 => (1.0, 0.0),
                k => {
                    let m = self.process.marginal(k - 1);
                    (m.mean_coef as f32, m.std as f32)
                }
            })
            .unzip();
        let column = |v: Vec<f32>| Tensor::<2>::from_data(TensorData::new(v, [m, 1]), device);
        let x0 = Tensor::<2>::from_data(TensorData::new(x0.to_vec(), [1, d]), device);
        let eps = noise::normal(&mut noise::rng(seed), [1, d], device);
        Ok(x0 * column(a) + eps * column(s))
    }

    /// Begin sampling `n` images from `x_T`: `init` (`[n, d]` row-major) or `N(0, I)` drawn from
    /// `seed`. Returns the number of steps to take.
    pub fn start(
        &mut self,
        spec: &SamplerSpec,
        n: usize,
        seed: u64,
        init: Option<&[f32]>,
        device: &Device,
    ) -> Result<usize> {
        let model = self.loaded()?;
        if n == 0 {
            return Err(Error::invalid("sample at least one image"));
        }
        model.check_batch(n, &self.limits)?;
        let d = model.dim();
        let mut sampler = spec
            .clone()
            .under_scheduler(model.scheduler.clip, model.scheduler.end)
            .build_start_at(&self.process.clone().into(), seed)?;
        match init {
            Some(x) if x.len() != n * d => {
                return Err(Error::invalid(format!(
                    "x_T has {} values, not {n} images of shape {:?}",
                    x.len(),
                    model.image
                )))
            }
            Some(x) => sampler.reset(Tensor::from_data(
                TensorData::new(x.to_vec(), [n, d]),
                device,
            )),
            None => sampler.reset_from_prior(n, d, device),
        }
        let total = sampler.remaining();
        self.runs[RunSlot::Grid.index()] = Some(sampler);
        Ok(total)
    }

    /// SDEdit (Meng et al. 2022, Algorithm 1): `n` copies of the guide `x0`, each noised with its
    /// own ε to `x(t₀) = √ᾱ_s x₀ + √(1-ᾱ_s) ε` at the sampler's first step `s ≤ t₀`, then the
    /// reverse walk from `s`. Returns `(steps to take, s)`.
    pub fn start_sdedit(
        &mut self,
        spec: &SamplerSpec,
        x0: &[f32],
        t0: usize,
        n: usize,
        seed: u64,
        device: &Device,
    ) -> Result<(usize, usize)> {
        let d = self.check_image(x0)?;
        let model = self.loaded()?;
        if n == 0 {
            return Err(Error::invalid("edit at least one copy"));
        }
        model.check_batch(n, &self.limits)?;
        let mut sampler = spec
            .clone()
            .under_scheduler(model.scheduler.clip, model.scheduler.end)
            .build_start_at(&self.process.clone().into(), seed)?;
        let s = sampler.start_step(t0)?;
        let mut rng = noise::rng(seed ^ 0x5ded_17ed);
        let x0 =
            Tensor::<2>::from_data(TensorData::new(x0.to_vec(), [1, d]), device).repeat_dim(0, n);
        let eps = noise::normal(&mut rng, [n, d], device);
        let x_s = self.process.q_sample(x0, &vec![s; n], eps);
        sampler.reset_at(x_s, s)?;
        let total = sampler.remaining();
        self.runs[RunSlot::Edit.index()] = Some(sampler);
        Ok((total, s))
    }

    /// Up to `k` steps of the walk in `slot`; `None` if it was already done (or `k = 0`).
    pub fn step(&mut self, slot: RunSlot, k: usize) -> Result<Option<StepOutput>> {
        let model = self
            .model
            .as_ref()
            .ok_or_else(|| Error::invalid("no image model is loaded"))?;
        let run = self.runs[slot.index()]
            .as_mut()
            .ok_or_else(|| Error::invalid("start sampling first"))?;
        let n = run.current().map_or(0, |x| x.dims()[0]);
        let g = self.guidance;
        let score = match model.net.num_classes() {
            Some(_) => conditioned(
                &model.net,
                model.image,
                &model.scheduler,
                Some(vec![g.label; n]),
                Some(g.scale),
                g.null_label,
            )?,
            None => conditioned(&model.net, model.image, &model.scheduler, None, None, None)?,
        };
        let mut last = None;
        for _ in 0..k {
            if run.done() {
                break;
            }
            last = Some(run.step(score.as_ref())?);
        }
        Ok(last)
    }

    /// The current images `[n, d]` of the walk in `slot`.
    pub fn current(&self, slot: RunSlot) -> Option<Tensor<2>> {
        self.runs[slot.index()]
            .as_ref()
            .and_then(|r| r.current().cloned())
    }

    /// Steps the walk in `slot` still has to take.
    pub fn remaining(&self, slot: RunSlot) -> usize {
        self.runs[slot.index()]
            .as_ref()
            .map_or(0, |s| s.remaining())
    }
}
