//! Reading a diffusers folder (`save_pretrained` of a `UNet2DModel`): `config.json` and
//! `diffusion_pytorch_model.safetensors`, every tensor by its PyTorch name, float32.

use std::collections::BTreeSet;
use std::path::Path;

use burn::prelude::*;

use super::config::{UNet2DConfig, CLASS_NAME};
use super::params::{import, Named};
use super::unet2d::UNet2D;
use crate::error::{Error, Result};
use crate::io::weights::WeightFile;

pub const WEIGHTS_FILE: &str = "diffusion_pytorch_model.safetensors";
pub const CONFIG_FILE: &str = "config.json";

/// Whether `dir` holds a diffusers model rather than this crate's own bundle: its weights file
/// is present, or its `config.json` names `UNet2DModel`.
pub fn is_diffusers_dir(dir: &Path) -> bool {
    if dir.join(WEIGHTS_FILE).is_file() {
        return true;
    }
    std::fs::read_to_string(dir.join(CONFIG_FILE))
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .and_then(|v| {
            v.get("_class_name")
                .and_then(|c| c.as_str())
                .map(|c| c == CLASS_NAME)
        })
        .unwrap_or(false)
}

impl UNet2D {
    /// Build the network from the two files' contents; `origin` names the weights in errors.
    /// Every tensor the config implies must be present with its shape and dtype F32, and the
    /// file may hold no tensor the config has no place for.
    pub fn from_diffusers_bytes(
        config: UNet2DConfig,
        weights: &[u8],
        origin: &str,
        device: &Device,
    ) -> Result<Self> {
        let file = WeightFile::parse(weights, origin)?;
        let mut net = UNet2D::new(&config, device)?;
        let mut used = BTreeSet::new();
        let mut lookup = |name: &str, shape: &[usize]| {
            used.insert(name.to_string());
            file.get(name, shape)
        };
        net.visit_named("", &mut |name, layer| {
            import(name, layer, &mut lookup, device)
        })?;
        let extra: Vec<String> = file
            .names()
            .into_iter()
            .filter(|n| !used.contains(n))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        if let Some(first) = extra.first() {
            return Err(Error::format(
                origin,
                format!(
                    "the config has no place for {} tensor(s), first '{first}' (does config.json describe these weights?)",
                    extra.len()
                ),
            ));
        }
        Ok(net)
    }

    /// `UNet2DModel.from_pretrained(dir)`, for float32 weights.
    pub fn load_diffusers(dir: impl AsRef<Path>, device: &Device) -> Result<Self> {
        let dir = dir.as_ref();
        let cpath = dir.join(CONFIG_FILE);
        let wpath = dir.join(WEIGHTS_FILE);
        let text = std::fs::read_to_string(&cpath).map_err(|e| Error::read(&cpath, e))?;
        let config = UNet2DConfig::from_json(&text).map_err(|e| Error::format(&cpath, e))?;
        let bytes = std::fs::read(&wpath).map_err(|e| Error::read(&wpath, e))?;
        Self::from_diffusers_bytes(config, &bytes, &wpath.display().to_string(), device)
    }
}
