//! A trained model folder: `model.safetensors` (PyTorch names and layouts) and `config.json`
//! (a [`ModelCard`]). The CLI writes it; the CLI and the page read it.

use std::collections::HashMap;
use std::path::Path;

use burn::prelude::*;

use crate::error::{Error, Result};
use crate::io::weights::{self, WeightFile};
use crate::io::write_atomic;
use crate::model::Mlp;
use crate::train::ModelCard;

pub const WEIGHTS_FILE: &str = "model.safetensors";
pub const CONFIG_FILE: &str = "config.json";

/// Rebuild a model from the two files' contents.
pub fn from_bytes(weights: &[u8], config_json: &str, device: &Device) -> Result<(Mlp, ModelCard)> {
    let card = parse_card(config_json)?;
    let file = WeightFile::parse(weights, WEIGHTS_FILE)?;
    let model = Mlp::from_named(
        &card.train.model,
        |name, shape| file.get(name, shape),
        device,
    )?;
    Ok((model, card))
}

/// Parse a card. Training options added after a card was written (gradient clipping, EMA,
/// shards) take their defaults, which are what such a run used.
pub fn parse_card(config_json: &str) -> Result<ModelCard> {
    let bad = |e: serde_json::Error| Error::format(CONFIG_FILE, format!("not a model config: {e}"));
    let mut value: serde_json::Value = serde_json::from_str(config_json).map_err(bad)?;
    if let Some(train) = value.get_mut("train").and_then(|t| t.as_object_mut()) {
        let defaults = serde_json::to_value(crate::train::TrainConfig::new())
            .map_err(|e| Error::invalid(e.to_string()))?;
        for (k, v) in defaults.as_object().into_iter().flatten() {
            train.entry(k.clone()).or_insert_with(|| v.clone());
        }
    }
    serde_json::from_value(value).map_err(bad)
}

/// Load `dir/model.safetensors` and `dir/config.json`.
pub fn load(dir: impl AsRef<Path>, device: &Device) -> Result<(Mlp, ModelCard)> {
    let dir = dir.as_ref();
    let wpath = dir.join(WEIGHTS_FILE);
    let cpath = dir.join(CONFIG_FILE);
    let weights = std::fs::read(&wpath).map_err(|e| Error::read(&wpath, e))?;
    let config = std::fs::read_to_string(&cpath).map_err(|e| Error::read(&cpath, e))?;
    from_bytes(&weights, &config, device).map_err(|e| match e {
        Error::Format { path, message } if path == WEIGHTS_FILE => Error::format(&wpath, message),
        Error::Format { path, message } if path == CONFIG_FILE => Error::format(&cpath, message),
        other => other,
    })
}

/// The two files' contents for `model` and `card`.
pub fn to_bytes(model: &Mlp, card: &ModelCard) -> Result<(Vec<u8>, String)> {
    let host = weights::to_host(model.named_tensors())?;
    let meta = HashMap::from([("format".to_string(), "pt".to_string())]);
    let bytes = weights::to_safetensors(&host, meta)?;
    let json = serde_json::to_string_pretty(card).map_err(|e| Error::invalid(e.to_string()))?;
    Ok((bytes, json))
}

/// Write the folder (created if needed); each file is written atomically.
pub fn save(dir: impl AsRef<Path>, model: &Mlp, card: &ModelCard) -> Result<()> {
    let dir = dir.as_ref();
    std::fs::create_dir_all(dir).map_err(|e| Error::write(dir, e))?;
    let (bytes, json) = to_bytes(model, card)?;
    write_atomic(&dir.join(WEIGHTS_FILE), &bytes)?;
    write_atomic(&dir.join(CONFIG_FILE), json.as_bytes())
}
