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
/// A diffusers UNet's weights: a folder holding them is an image model, not a points model.
const UNET_WEIGHTS_FILE: &str = "diffusion_pytorch_model.safetensors";

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
/// shards) take their defaults, which are what such a run used; an objective written before it
/// carried its process is upgraded ([`crate::score::objective::upgrade_card`]).
pub fn parse_card(config_json: &str) -> Result<ModelCard> {
    let bad = |e: serde_json::Error| Error::format(CONFIG_FILE, format!("not a model config: {e}"));
    let mut value: serde_json::Value = serde_json::from_str(config_json).map_err(bad)?;
    if let Some(train) = value.get_mut("train").and_then(|t| t.as_object_mut()) {
        crate::score::objective::upgrade_card(train)
            .map_err(|e| Error::format(CONFIG_FILE, e.to_string()))?;
        let defaults = serde_json::to_value(crate::train::TrainConfig::new())
            .map_err(|e| Error::invalid(e.to_string()))?;
        for (k, v) in defaults.as_object().into_iter().flatten() {
            train.entry(k.clone()).or_insert_with(|| v.clone());
        }
    }
    serde_json::from_value(value).map_err(bad)
}

/// The files of a model folder dropped or picked on the page (`names` lists every file offered,
/// for messages), by role; `origin` names them in errors.
pub fn from_files(
    names: &[String],
    config: Option<&str>,
    weights: Option<&[u8]>,
    origin: &str,
    device: &Device,
) -> Result<(Mlp, ModelCard)> {
    let missing = |file: &str| {
        let hint = if names.iter().any(|n| n.ends_with(UNET_WEIGHTS_FILE)) {
            "; these are a diffusers UNet2DModel's, an image model: choose the digits data set and drop it there"
        } else {
            ""
        };
        Error::invalid(format!(
            "{origin}: no {file} among the files ({}); a model folder from dplay train or the page's download holds {CONFIG_FILE} and {WEIGHTS_FILE}{hint}",
            crate::model::unet::folder::listing(names)
        ))
    };
    let config = config.ok_or_else(|| missing(CONFIG_FILE))?;
    let weights = weights.ok_or_else(|| missing(WEIGHTS_FILE))?;
    from_bytes(weights, config, device).map_err(|e| Error::invalid(format!("{origin}: {e}")))
}

/// Which of the offered files (paths, `folder/config.json`) play which role in a model: a `.zip`
/// archive whole, else the shallowest `config.json` and `model.safetensors`. The page reads only
/// these (the rest are named in messages).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Roles {
    pub zip: Option<usize>,
    pub config: Option<usize>,
    pub weights: Option<usize>,
}

impl Roles {
    pub fn of(paths: &[String]) -> Self {
        let zip = paths
            .iter()
            .position(|p| p.to_lowercase().ends_with(".zip"));
        match zip {
            Some(_) => Self {
                zip,
                ..Self::default()
            },
            None => Self {
                zip,
                config: shallowest(paths, CONFIG_FILE),
                weights: shallowest(paths, WEIGHTS_FILE),
            },
        }
    }
}

/// The index of the shallowest path whose file is `name`.
fn shallowest(paths: &[String], name: &str) -> Option<usize> {
    paths
        .iter()
        .enumerate()
        .filter(|(_, p)| p.rsplit('/').next() == Some(name))
        .min_by_key(|(_, p)| p.matches('/').count())
        .map(|(i, _)| i)
}

/// A model archive (the page's download, [`run_archive`]): the model folder's two files at the
/// archive's root or in one folder of it.
pub fn from_zip(bytes: &[u8], origin: &str, device: &Device) -> Result<(Mlp, ModelCard)> {
    let files = crate::io::archive::read_zip(bytes, origin)?;
    let names: Vec<String> = files.iter().map(|(n, _)| n.clone()).collect();
    let pick = |name: &str| shallowest(&names, name).map(|i| files[i].1.as_slice());
    let config = pick(CONFIG_FILE)
        .map(|b| {
            std::str::from_utf8(b)
                .map_err(|_| Error::format(origin, format!("{CONFIG_FILE} is not UTF-8 text")))
        })
        .transpose()?;
    from_files(&names, config, pick(WEIGHTS_FILE), origin, device)
}

/// What the page's download of a run holds, laid out as `dplay train` writes a run: the model
/// folder's two files at the root (so the archive, or the folder it unpacks to, is a `--model`),
/// the samples `[n, d]` as `samples.npy` and `samples.csv`, their figure over `data` (2-D only,
/// `samples.png`), and `loss.csv` (`step,loss`).
pub fn run_archive(
    model: &Mlp,
    card: &ModelCard,
    samples: &[f32],
    data: &[f32],
    d: usize,
    losses: &[(usize, f32)],
) -> Result<Vec<u8>> {
    if d == 0 || samples.len() % d != 0 {
        return Err(Error::invalid(format!(
            "{} values are not {d}-dimensional samples",
            samples.len()
        )));
    }
    let (weights, config) = to_bytes(model, card)?;
    let npy = crate::io::npy::encode_f32(samples, &[samples.len() / d, d]);
    let mut csv: String = (0..d)
        .map(|j| format!("x{j}"))
        .collect::<Vec<_>>()
        .join(",")
        + "\n";
    for row in samples.chunks_exact(d) {
        let cells: Vec<String> = row.iter().map(|v| format!("{v:e}")).collect();
        csv.push_str(&cells.join(","));
        csv.push('\n');
    }
    let mut loss = String::from("step,loss\n");
    for (step, l) in losses {
        loss.push_str(&format!("{step},{l:e}\n"));
    }
    let figure = match d {
        2 => Some(crate::io::figures::scatter_png(data, samples, 512)?),
        _ => None,
    };
    let mut files: Vec<(&str, &[u8])> = vec![
        (CONFIG_FILE, config.as_bytes()),
        (WEIGHTS_FILE, &weights),
        ("samples.npy", &npy),
        ("samples.csv", csv.as_bytes()),
        ("loss.csv", loss.as_bytes()),
    ];
    if let Some(png) = &figure {
        files.push(("samples.png", png));
    }
    crate::io::archive::write_zip(&files)
}

/// Load `dir/model.safetensors` and `dir/config.json`, or the same two files from a `.zip`
/// archive (the page's download).
pub fn load(dir: impl AsRef<Path>, device: &Device) -> Result<(Mlp, ModelCard)> {
    let dir = dir.as_ref();
    if dir.is_file()
        && dir
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("zip"))
    {
        let bytes = std::fs::read(dir).map_err(|e| Error::read(dir, e))?;
        return from_zip(&bytes, &dir.display().to_string(), device);
    }
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
