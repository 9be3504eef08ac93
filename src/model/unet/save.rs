//! Writing a diffusers folder that `UNet2DModel.from_pretrained` reads: `config.json` and
//! `diffusion_pytorch_model.safetensors` (float32, PyTorch names and layouts, `format: pt`).

use std::collections::HashMap;
use std::path::Path;

use super::load::{CONFIG_FILE, WEIGHTS_FILE};
use super::params::{export, Named};
use super::unet2d::UNet2D;
use crate::error::{Error, Result};
use crate::io::weights::{self, NamedTensor};
use crate::io::write_atomic;

impl UNet2D {
    /// Every parameter under its diffusers name, in PyTorch layout.
    pub fn named_tensors(&self) -> Result<Vec<NamedTensor>> {
        let mut out = Vec::new();
        self.clone().visit_named("", &mut |name, layer| {
            out.extend(export(name, layer)?);
            Ok(())
        })?;
        Ok(out)
    }

    /// The two files' contents: safetensors bytes and config JSON.
    pub fn to_diffusers_bytes(&self) -> Result<(Vec<u8>, String)> {
        let host = weights::to_host(self.named_tensors()?)?;
        let meta = HashMap::from([("format".to_string(), "pt".to_string())]);
        Ok((
            weights::to_safetensors(&host, meta)?,
            self.config.to_json()?,
        ))
    }

    /// `save_pretrained(dir)` (float32 safetensors); the folder is created if needed.
    pub fn save_diffusers(&self, dir: impl AsRef<Path>) -> Result<()> {
        let dir = dir.as_ref();
        std::fs::create_dir_all(dir).map_err(|e| Error::write(dir, e))?;
        let (bytes, json) = self.to_diffusers_bytes()?;
        write_atomic(&dir.join(WEIGHTS_FILE), &bytes)?;
        write_atomic(&dir.join(CONFIG_FILE), json.as_bytes())
    }
}
