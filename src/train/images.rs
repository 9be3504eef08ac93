//! Training a diffusers-layout [`UNet2D`] as a DDPM ε-network on images: DDPM's L_simple
//! `E‖ε − ε_θ(√ᾱ_t x_0 + √(1−ᾱ_t) ε, t)‖²` (Ho et al. 2020, eq. 14) with pixels scaled to
//! `[-1, 1]`, on the same [`Engine`] (Adam, warm-up, clipping, EMA, checkpoints) as the 2-D
//! trainer.

use burn::prelude::*;
use rand::rngs::StdRng;
use serde::{Deserialize, Serialize};

use super::engine::{Engine, OptimConfig, TrainerState};
use crate::data::images::ImageSet;
use crate::error::{Error, Result};
use crate::model::unet::{UNet2D, UNet2DConfig};
use crate::model::OnImages;
use crate::noise;
use crate::process::{Process, VpProcess};
use crate::schedule::ScheduleConfig;
use crate::score::l_simple;

/// Everything that determines an image run. Saved beside the weights as `train.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageTrainConfig {
    /// The network, as diffusers' `config.json`.
    pub unet: UNet2DConfig,
    /// DDPM's β schedule (T steps).
    pub schedule: ScheduleConfig,
    pub optim: OptimConfig,
}

impl ImageTrainConfig {
    pub fn validate(&self) -> Result<()> {
        self.unet.validate()?;
        self.schedule.validate()?;
        self.optim.validate()
    }

    /// Check that images of `[c, h, w]` fit the network.
    pub fn check_images(&self, data: &ImageSet) -> Result<()> {
        if data.channels != self.unet.in_channels || data.channels != self.unet.out_channels {
            return Err(Error::invalid(format!(
                "the images have {} channels but the UNet takes {} and gives {}",
                data.channels, self.unet.in_channels, self.unet.out_channels
            )));
        }
        // Each down block but the last halves the resolution.
        let halvings = self.unet.block_out_channels.len().saturating_sub(1) as u32;
        let m = 1usize << halvings;
        if data.height % m != 0 || data.width % m != 0 {
            return Err(Error::invalid(format!(
                "{}×{} images do not halve {halvings} times (pad them to a multiple of {m})",
                data.height, data.width
            )));
        }
        Ok(())
    }
}

pub struct ImageTrainer {
    config: ImageTrainConfig,
    data: ImageSet,
    process: VpProcess,
    model: Option<UNet2D>,
    engine: Engine<UNet2D>,
}

impl ImageTrainer {
    /// A fresh network on `devices` (one shard each when there are several).
    pub fn new(config: ImageTrainConfig, data: ImageSet, devices: &[Device]) -> Result<Self> {
        config.validate()?;
        config.check_images(&data)?;
        let first = devices
            .first()
            .ok_or_else(|| Error::invalid("no device to train on"))?
            .clone()
            .autodiff();
        first.seed(config.optim.seed);
        let model = UNet2D::new(&config.unet, &first)?;
        let image = [data.channels, data.height, data.width];
        crate::budget::check(&crate::budget::unet_job(
            format!("training the UNet at batch {}", config.optim.batch_size),
            model.num_params() as u64,
            crate::model::unet::memory::largest_activation(&config.unet, image, 1).bytes,
            image.iter().product(),
            config.optim.batch_size,
            true,
        ))?;
        let engine = Engine::new(config.optim.clone(), &model, devices)?;
        Ok(Self {
            process: VpProcess::new(config.schedule)?,
            model: Some(model),
            engine,
            data,
            config,
        })
    }

    pub fn config(&self) -> &ImageTrainConfig {
        &self.config
    }

    pub fn data(&self) -> &ImageSet {
        &self.data
    }

    pub fn process(&self) -> &VpProcess {
        &self.process
    }

    pub fn steps_done(&self) -> usize {
        self.engine.step()
    }

    /// One optimiser step; returns the batch loss (detached, on the device).
    pub fn step(&mut self) -> Tensor<1> {
        let model = self.model.take().expect("model present between steps");
        let (process, data) = (&self.process, &self.data);
        let (model, loss) = self
            .engine
            .train_step(model, |m, _shard, rows, rng, device| {
                image_batch_loss(m, process, data, rows, rng, device)
            });
        self.model = Some(model);
        loss
    }

    fn live(&self) -> &UNet2D {
        self.model.as_ref().expect("model present between steps")
    }

    /// The weights to sample from and save: the EMA where one is kept.
    pub fn export_model(&self) -> UNet2D {
        self.engine.export(self.live())
    }

    pub fn state(&self) -> Result<TrainerState> {
        self.engine.state(self.live())
    }

    pub fn restore(&mut self, state: TrainerState) -> Result<()> {
        let model = self.live().clone();
        self.model = Some(self.engine.restore(model, state)?);
        Ok(())
    }
}

/// A batch of `n` images drawn from `data` with `rng`, with t ~ U{0..T-1} and ε ~ N(0, I), and
/// its [`l_simple`].
fn image_batch_loss(
    model: &UNet2D,
    process: &VpProcess,
    data: &ImageSet,
    n: usize,
    rng: &mut StdRng,
    device: &Device,
) -> Tensor<1> {
    let image = [data.channels, data.height, data.width];
    let d = image.iter().product();
    let x0 = Tensor::<2>::from_data(TensorData::new(data.sample(n, rng), [n, d]), device);
    let t = noise::uniform_steps(rng, n, process.num_steps());
    let eps = noise::normal(rng, [n, d], device);
    l_simple(&OnImages { net: model, image }, process, x0, &t, eps)
}
