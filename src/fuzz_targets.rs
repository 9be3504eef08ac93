//! Every parser of untrusted bytes, by fuzz target name: what `fuzz/fuzz_targets/*.rs` run under
//! libFuzzer (`./build.sh fuzz SECONDS`) and what `tests/fuzz_corpus.rs` replays from the committed
//! corpus. Each must return, with a value or an error, whatever the bytes: a panic, an abort or
//! an allocation the input did not pay for is a finding.

use crate::data::images::idx::idx_images_from_bytes;
use crate::data::images::{cifar::parse_cifar10, png_dir::decode_png};
use crate::data::points::PointSet;
use crate::data::GaussianMixture;
use crate::io::npy;
use crate::model::unet::config::UNet2DConfig;
use crate::model::unet::scheduler::SchedulerSettings;
use crate::process::ProcessConfig;
use crate::sampler::SamplerSpec;
use crate::train::TrainOptions;

/// The targets, one per format: `.npy`; an MLP's model folder (its card, a NUL byte, then its
/// safetensors weights); a model card (`config.json`); a run downloaded from the page (`.zip`); a checkpoint's
/// weights; the mixture JSON; IDX images (gzipped or not); CIFAR-10 batches; one PNG; CSV
/// points; a diffusers UNet config and scheduler config; and the page's state as it reaches
/// Rust from the URL hash: a sampler spec, a process spec and the training options.
pub const TARGETS: [&str; 15] = [
    "npy",
    "safetensors_mlp",
    "model_card",
    "run_zip",
    "checkpoint_params",
    "mixture_json",
    "idx",
    "cifar",
    "png",
    "csv_points",
    "unet_config",
    "scheduler_config",
    "sampler_spec",
    "process_spec",
    "train_options",
];

/// Run `target` on `bytes`; an unknown target is the caller's error.
pub fn run(target: &str, bytes: &[u8]) -> Result<(), UnknownTarget> {
    let text = || String::from_utf8_lossy(bytes).into_owned();
    let o = "fuzz input";
    let device = || burn::prelude::Device::flex();
    // The outcome is the point: an Ok or an Err, not which.
    match target {
        "npy" => drop(npy::decode(bytes, o)),
        "safetensors_mlp" => {
            let cut = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
            let card = String::from_utf8_lossy(&bytes[..cut]);
            let weights = bytes.get(cut + 1..).unwrap_or_default();
            drop(crate::bundle::from_bytes(weights, &card, &device()))
        }
        "model_card" => drop(crate::bundle::parse_card(&text())),
        "run_zip" => drop(crate::bundle::from_zip(bytes, o, &device())),
        "checkpoint_params" => drop(crate::train::params::from_safetensors(
            bytes,
            std::path::Path::new(o),
        )),
        "mixture_json" => drop(GaussianMixture::from_json(&text(), o)),
        "idx" => drop(idx_images_from_bytes(bytes, o)),
        "cifar" => drop(parse_cifar10(bytes, o)),
        "png" => drop(decode_png(bytes, o)),
        "csv_points" => drop(PointSet::from_csv(&text(), o)),
        "unet_config" => drop(UNet2DConfig::from_json(&text()).and_then(|c| c.validate())),
        "scheduler_config" => drop(SchedulerSettings::parse(&text(), o)),
        "sampler_spec" => drop(SamplerSpec::from_json(&text()).and_then(|s| {
            let p = ProcessConfig::default();
            p.validate()?;
            s.support(&p, crate::sampler::ScoreSource::Oracle)
        })),
        "process_spec" => drop(
            serde_json::from_str::<ProcessConfig>(&text())
                .map_err(|e| crate::Error::invalid(e.to_string()))
                .and_then(|p| p.validate()),
        ),
        "train_options" => drop(
            serde_json::from_str::<TrainOptions>(&text())
                .map_err(|e| crate::Error::invalid(e.to_string()))
                .and_then(|t| t.validate()),
        ),
        _ => return Err(UnknownTarget(target.to_string())),
    }
    Ok(())
}

/// A target name not in [`TARGETS`].
#[derive(Debug)]
pub struct UnknownTarget(pub String);
