//! A UNet model folder handed over as files (a browser's dropped folder): `config.json`,
//! `diffusion_pytorch_model.safetensors` and an optional `scheduler_config.json`, checked in the
//! order a person would fix them, each failure naming the file and the problem, and nothing
//! allocated on the device until the model is known to fit it ([`super::memory`]).

use burn::prelude::*;
use serde_json::Value;

use super::config::UNet2DConfig;
use super::load::{CONFIG_FILE, WEIGHTS_FILE};
use super::memory::{self, Allocation, DeviceLimits};
use super::scheduler::{SchedulerSettings, SCHEDULER_FILE};
use super::unet2d::UNet2D;
use crate::error::{Error, Result};
use crate::io::weights::WeightFile;

/// The files of a folder, by role. `names` lists every file offered, for messages.
#[derive(Debug, Clone, Copy, Default)]
pub struct ModelFiles<'a> {
    pub names: &'a [String],
    pub config: Option<&'a str>,
    pub weights: Option<&'a [u8]>,
    pub scheduler: Option<&'a str>,
}

/// A diffusers `UNet2DModel` with what sampling it needs: the image shape and its scheduler's
/// settings (DDPM's defaults without `scheduler_config.json`).
#[derive(Debug)]
pub struct ImageModel {
    pub net: UNet2D,
    /// `[c, h, w]` of one sample: `in_channels` and `sample_size`.
    pub image: [usize; 3],
    pub scheduler: SchedulerSettings,
    /// Where it came from (a folder name, "the default digit model").
    pub origin: String,
    /// Its largest weight tensor, for the memory check of every later batch size.
    pub largest_weight: Option<Allocation>,
}

pub(crate) fn listing(names: &[String]) -> String {
    if names.is_empty() {
        "no files".to_string()
    } else {
        names.join(", ")
    }
}

/// The image shape a config promises: `in_channels` × `sample_size`, a multiple of the down
/// path's factor.
pub fn image_shape(config: &UNet2DConfig) -> Result<[usize; 3]> {
    let [h, w] = config
        .sample_hw()
        .filter(|[h, w]| *h > 0 && *w > 0)
        .ok_or_else(|| {
            Error::format(
                CONFIG_FILE,
                "no usable sample_size (an int or [height, width]): the image size is unknown",
            )
        })?;
    let f = config.downsample_factor();
    if h % f != 0 || w % f != 0 {
        return Err(Error::format(
            CONFIG_FILE,
            format!(
                "sample_size {h}×{w} is not a multiple of {f}, which the {} levels of block_out_channels need",
                config.block_out_channels.len()
            ),
        ));
    }
    Ok([config.in_channels, h, w])
}

/// `config.json` as a UNet2DModel config; a 2-D ε-MLP card of this crate is told apart.
fn parse_config(text: &str) -> Result<UNet2DConfig> {
    let v: Value = serde_json::from_str(text)
        .map_err(|e| Error::format(CONFIG_FILE, format!("not JSON: {e}")))?;
    if v.get("parameterization").is_some() && v.get("train").is_some() {
        return Err(Error::format(
            CONFIG_FILE,
            "this is a 2-D ε-MLP of this playground (model.safetensors), not an image model; \
             choose a 2-D data set to use it",
        ));
    }
    UNet2DConfig::from_json(text).map_err(|e| Error::format(CONFIG_FILE, e))
}

impl ImageModel {
    /// Validate `files` and build the network on `device`, if its largest weight and the
    /// activations of a batch of `batch` images fit `limits`.
    pub fn from_files(
        files: &ModelFiles<'_>,
        origin: &str,
        limits: &DeviceLimits,
        batch: usize,
        device: &Device,
    ) -> Result<Self> {
        let missing = |file: &str, what: &str| {
            Error::invalid(format!(
                "{origin}: no {file} among the files ({}); a diffusers UNet2DModel folder holds {what}",
                listing(files.names)
            ))
        };
        let text = files.config.ok_or_else(|| {
            missing(
                CONFIG_FILE,
                "config.json and diffusion_pytorch_model.safetensors",
            )
        })?;
        let config = parse_config(text)?;
        let image = image_shape(&config)?;
        let scheduler = match files.scheduler {
            Some(t) => SchedulerSettings::parse(t, SCHEDULER_FILE)?,
            None => SchedulerSettings::default(),
        };
        let bytes = files.weights.ok_or_else(|| {
            missing(
                WEIGHTS_FILE,
                "its weights as diffusion_pytorch_model.safetensors",
            )
        })?;
        let file = WeightFile::parse(bytes, WEIGHTS_FILE)?;
        let largest_weight = memory::largest_weight(&file.shapes());
        let activation = memory::largest_activation(&config, image, batch.max(1));
        let mut need: Vec<&Allocation> = largest_weight.iter().collect();
        need.push(&activation);
        memory::check(&need, limits)?;
        drop(file);
        let net = UNet2D::from_diffusers_bytes(config, bytes, WEIGHTS_FILE, device)?;
        Ok(Self {
            net,
            image,
            scheduler,
            origin: origin.to_string(),
            largest_weight,
        })
    }

    /// `c·h·w`, the length of one flat sample.
    pub fn dim(&self) -> usize {
        self.image.iter().product()
    }

    /// Whether a batch of `batch` images fits `limits` (the weights were checked at loading).
    pub fn check_batch(&self, batch: usize, limits: &DeviceLimits) -> Result<()> {
        let a = memory::largest_activation(&self.net.config, self.image, batch);
        let mut need: Vec<&Allocation> = self.largest_weight.iter().collect();
        need.push(&a);
        memory::check(&need, limits)
    }
}
