//! The reverse walks an image model runs: DDPM ancestral (Ho et al. 2020, Algorithm 2) and DDIM
//! (Song et al. 2021, eq. 12), both able to start partway down the chain ([`StartAt`]), with the
//! scheduler's x̂₀ clipping.

use burn::prelude::*;

use crate::error::{Error, Result};
use crate::model::ScoreModel;
use crate::process::VpProcess;
use crate::sampler::{AncestralSampler, DdimSampler, SamplerSpec, StartAt, StepOutput};

/// Which walk, for captions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageSamplerKind {
    Ancestral,
    Ddim,
}

pub enum ImageSampler {
    Ancestral(AncestralSampler),
    Ddim(DdimSampler),
}

impl ImageSampler {
    /// The walk `spec` names, on `process`, clipping x̂₀ to `[-c, c]` with `clip`.
    pub fn new(
        spec: &SamplerSpec,
        process: &VpProcess,
        clip: Option<f64>,
        seed: u64,
    ) -> Result<Self> {
        Ok(match *spec {
            SamplerSpec::Ancestral { variance } => {
                Self::Ancestral(AncestralSampler::new(process.clone(), variance, clip, seed))
            }
            SamplerSpec::Ddim {
                steps,
                eta,
                spacing,
            } => Self::Ddim(DdimSampler::new(
                process.clone(),
                steps,
                spacing,
                eta,
                clip,
                seed,
            )?),
            ref other => {
                return Err(Error::invalid(format!(
                    "image models sample with DDPM ancestral or DDIM, not {}",
                    serde_json::to_value(other)
                        .ok()
                        .and_then(|v| v.get("kind").and_then(|k| k.as_str()).map(String::from))
                        .unwrap_or_else(|| "this sampler".into())
                )))
            }
        })
    }

    pub fn kind(&self) -> ImageSamplerKind {
        match self {
            Self::Ancestral(_) => ImageSamplerKind::Ancestral,
            Self::Ddim(_) => ImageSamplerKind::Ddim,
        }
    }

    fn inner(&self) -> &dyn StartAt {
        match self {
            Self::Ancestral(s) => s,
            Self::Ddim(s) => s,
        }
    }

    fn inner_mut(&mut self) -> &mut dyn StartAt {
        match self {
            Self::Ancestral(s) => s,
            Self::Ddim(s) => s,
        }
    }

    pub fn reset(&mut self, x_t: Tensor<2>) {
        self.inner_mut().reset(x_t)
    }

    pub fn reset_from_prior(&mut self, n: usize, d: usize, device: &Device) {
        self.inner_mut().reset_from_prior(n, d, device)
    }

    pub fn start_step(&self, t0: usize) -> Result<usize> {
        self.inner().start_step(t0)
    }

    pub fn reset_at(&mut self, x: Tensor<2>, t: usize) -> Result<()> {
        self.inner_mut().reset_at(x, t)
    }

    pub fn step(&mut self, model: &dyn ScoreModel) -> Result<StepOutput> {
        self.inner_mut().step(model)
    }

    pub fn done(&self) -> bool {
        self.inner().done()
    }

    pub fn remaining(&self) -> usize {
        self.inner().remaining()
    }

    pub fn current(&self) -> Option<&Tensor<2>> {
        self.inner().current()
    }
}
