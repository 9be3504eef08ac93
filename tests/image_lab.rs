//! The page's image mode (`image_lab`) on flex: a UNet folder given as files, with one named
//! error per way it can be wrong (and too large for a device); the digits; the forward marginal of
//! one image; SDEdit's starting step; and diffusers' DDIM from the reference `x_T`.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::collections::HashMap;
use std::path::PathBuf;

use burn::prelude::*;
use diffusion_playground::image_lab::{ImageLab, RunSlot};
use diffusion_playground::io::npy;
use diffusion_playground::model::unet::{DeviceLimits, ImageModel, ModelFiles};
use diffusion_playground::model::Parameterization;
use diffusion_playground::process::{Process, VpProcess};
use diffusion_playground::sampler::{DdimEnd, SamplerSpec, TimestepSpacing};
use diffusion_playground::schedule::{BetaSchedule, ScheduleConfig};
use safetensors::tensor::TensorView;
use safetensors::SafeTensors;

fn reference() -> PathBuf {
    common::reference_dir().join("ref_small_unet")
}

struct Folder {
    names: Vec<String>,
    config: Option<String>,
    weights: Option<Vec<u8>>,
    scheduler: Option<String>,
}

impl Folder {
    fn reference() -> Self {
        let r = reference();
        Self {
            names: vec![
                "config.json".into(),
                "diffusion_pytorch_model.safetensors".into(),
            ],
            config: Some(std::fs::read_to_string(r.join("config.json")).unwrap()),
            weights: Some(std::fs::read(r.join("diffusion_pytorch_model.safetensors")).unwrap()),
            scheduler: None,
        }
    }

    /// The reference config with `key` set to `value` (JSON).
    fn with_config(mut self, key: &str, value: &str) -> Self {
        let mut v: serde_json::Value = serde_json::from_str(self.config.as_ref().unwrap()).unwrap();
        v[key] = serde_json::from_str(value).unwrap();
        self.config = Some(v.to_string());
        self
    }

    fn load_with(&self, limits: &DeviceLimits, batch: usize) -> Result<ImageModel, String> {
        let files = ModelFiles {
            names: &self.names,
            config: self.config.as_deref(),
            weights: self.weights.as_deref(),
            scheduler: self.scheduler.as_deref(),
        };
        ImageModel::from_files(&files, "dropped folder", limits, batch, &Device::flex())
            .map_err(|e| e.to_string())
    }

    fn load(&self) -> Result<ImageModel, String> {
        self.load_with(&DeviceLimits::default(), 16)
    }

    fn error(&self) -> String {
        self.load().expect_err("the folder should be refused")
    }
}

/// The reference weights without the tensor `drop`.
fn weights_without(drop: &str) -> Vec<u8> {
    let bytes = std::fs::read(reference().join("diffusion_pytorch_model.safetensors")).unwrap();
    let st = SafeTensors::deserialize(&bytes).unwrap();
    let kept: Vec<(String, TensorView<'_>)> = st
        .tensors()
        .into_iter()
        .filter(|(n, _)| n != drop)
        .collect();
    assert_eq!(kept.len() + 1, st.len(), "{drop} is not in the file");
    safetensors::serialize(kept, None::<HashMap<String, String>>).unwrap()
}

fn assert_contains(msg: &str, parts: &[&str]) {
    for p in parts {
        assert!(msg.contains(p), "'{msg}' should mention '{p}'");
    }
}

#[test]
fn the_reference_folder_loads_with_diffusers_defaults() {
    let m = Folder::reference().load().unwrap();
    assert_eq!(m.image, [1, 28, 28]);
    assert_eq!(m.scheduler.schedule, ScheduleConfig::default());
    assert_eq!(m.scheduler.clip, Some(1.0));
    // A scheduler config changes both.
    let mut f = Folder::reference();
    f.scheduler = Some(
        r#"{"num_train_timesteps": 500, "beta_schedule": "squaredcos_cap_v2", "clip_sample": false}"#
            .into(),
    );
    let m = f.load().unwrap();
    assert_eq!((m.scheduler.schedule.steps, m.scheduler.clip), (500, None));
    // A dropped folder's scheduler says what the network predicts and where DDIM ends, as
    // dplay sample reads it (tests/prediction_types.rs checks the samples).
    f.scheduler = Some(
        r#"{"prediction_type": "v_prediction", "beta_schedule": "scaled_linear", "beta_start": 0.00085, "beta_end": 0.012, "set_alpha_to_one": false}"#
            .into(),
    );
    let m = f.load().unwrap();
    assert_eq!(m.scheduler.prediction, Parameterization::V);
    assert_eq!(m.scheduler.end, DdimEnd::FirstStep);
    assert_eq!(m.scheduler.schedule.kind, BetaSchedule::ScaledLinear);
}

#[test]
fn each_bad_folder_gets_an_error_naming_its_problem() {
    let cases: Vec<(&str, Folder, Vec<&str>)> = vec![
        (
            "no config",
            Folder {
                config: None,
                names: vec![
                    "diffusion_pytorch_model.safetensors".into(),
                    "notes.txt".into(),
                ],
                ..Folder::reference()
            },
            vec!["no config.json", "notes.txt"],
        ),
        (
            "no weights",
            Folder {
                weights: None,
                names: vec!["config.json".into()],
                ..Folder::reference()
            },
            vec!["no diffusion_pytorch_model.safetensors"],
        ),
        (
            "bad JSON",
            Folder {
                config: Some("{\"in_channels\": 1,".into()),
                ..Folder::reference()
            },
            vec!["config.json", "not JSON"],
        ),
        (
            "unknown block type",
            Folder::reference().with_config(
                "down_block_types",
                r#"["DownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"]"#,
            ),
            vec![
                "config.json",
                "unknown down block type 'CrossAttnDownBlock2D'",
            ],
        ),
        (
            "no sample size",
            Folder::reference().with_config("sample_size", "null"),
            vec!["sample_size"],
        ),
        (
            "sample size the levels cannot halve",
            Folder::reference().with_config("sample_size", "30"),
            vec!["30×30 is not a multiple of 4"],
        ),
        (
            "truncated weights",
            Folder {
                weights: Some({
                    let w = Folder::reference().weights.unwrap();
                    w[..w.len() / 2].to_vec()
                }),
                ..Folder::reference()
            },
            vec![
                "diffusion_pytorch_model.safetensors",
                "truncated",
                "the tensors need",
            ],
        ),
        (
            "weights that are not safetensors",
            Folder {
                weights: Some(b"<html>404</html>".to_vec()),
                ..Folder::reference()
            },
            vec!["diffusion_pytorch_model.safetensors"],
        ),
        (
            "a missing tensor",
            Folder {
                weights: Some(weights_without("mid_block.attentions.0.to_k.weight")),
                ..Folder::reference()
            },
            vec!["tensor 'mid_block.attentions.0.to_k.weight' is missing"],
        ),
        (
            "a config with wider blocks than the weights",
            Folder::reference().with_config("block_out_channels", "[32, 64, 128]"),
            vec!["has shape", "the config expects"],
        ),
        (
            "a config with more layers than the weights",
            Folder::reference().with_config("layers_per_block", "2"),
            vec!["down_blocks.0.resnets.1", "is missing"],
        ),
        (
            "a config with no place for some weights",
            Folder::reference().with_config("mid_block_type", "null"),
            vec!["no place for", "mid_block."],
        ),
        (
            "an unsupported scheduler",
            Folder {
                scheduler: Some(r#"{"prediction_type": "flow_prediction"}"#.into()),
                ..Folder::reference()
            },
            vec!["scheduler_config.json", "flow_prediction", "v_prediction"],
        ),
        (
            "a 2-D model of this crate",
            Folder {
                config: Some(
                    std::fs::read_to_string(common::repo_path(
                        "www/weights/ddpm_moons/config.json",
                    ))
                    .unwrap(),
                ),
                ..Folder::reference()
            },
            vec!["2-D ε-MLP"],
        ),
    ];
    for (name, folder, parts) in cases {
        let msg = folder.error();
        assert!(!msg.contains("panicked"), "{name}: {msg}");
        for p in parts {
            assert!(msg.contains(p), "{name}: '{msg}' should mention '{p}'");
        }
    }
}

#[test]
fn a_model_too_large_for_the_device_names_the_buffer_and_the_limit() {
    // The reference network at 1024×1024: its attention at 512×512 scores 8 heads × 262144²
    // positions per image, far past the CPU backend's 1 GiB per tensor.
    let msg = Folder::reference()
        .with_config("sample_size", "1024")
        .error();
    assert_contains(
        &msg,
        &[
            "too large for this device",
            "attention scores of down_blocks.1",
            "8 heads × 262144² positions",
            "the CPU backend's cap per tensor (1 GiB)",
            "even one image is too large",
        ],
    );
    // A WebGPU adapter whose largest binding is 100 000 bytes cannot hold the widest weight
    // (an up block's 3×3 convolution, 64 × 128 × 3 × 3 floats = 288 KiB).
    let tiny = DeviceLimits::webgpu(100_000, 1 << 28);
    let msg = Folder::reference().load_with(&tiny, 1).unwrap_err();
    assert_contains(
        &msg,
        &[
            "the weight tensor 'up_blocks.",
            "64×128×3×3",
            "exceeds this adapter's maxStorageBufferBindingSize (97.7 KiB)",
        ],
    );
    // Activations grow with the batch: 64 images' attention scores at 14×14 (64 × 8 heads × 196²
    // × 4 bytes = 75 MiB) pass a 128 MiB binding limit but not a 64 MiB buffer limit; one image's
    // scores take 1 229 312 bytes, so ⌊64 MiB / 1 229 312⌋ = 54 images fit.
    let limits = DeviceLimits::webgpu(128 << 20, 64 << 20);
    let msg = Folder::reference().load_with(&limits, 64).unwrap_err();
    assert_contains(
        &msg,
        &[
            "attention scores of",
            "at batch 64",
            "exceeds this adapter's maxBufferSize (64 MiB)",
            "at most 54 images at once would fit",
        ],
    );
    let m = Folder::reference().load_with(&limits, 16).unwrap();
    assert!(m.check_batch(54, &limits).is_ok());
    assert!(m.check_batch(55, &limits).is_err());
}

fn digits_lab() -> ImageLab {
    let path = common::repo_path("www/data/digits-images.idx.gz");
    let bytes = std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; run ./build.sh setup (it writes the digits)",
            path.display()
        )
    });
    let mut lab = ImageLab::default();
    assert_eq!(lab.load_digits(&bytes, "digits").unwrap(), 10_000);
    lab
}

#[test]
fn digits_are_read_from_the_gzipped_idx() {
    let lab = digits_lab();
    let d = lab.digit(0).unwrap();
    assert_eq!(d.len(), 784);
    assert!(d.iter().all(|v| (-1.0..=1.0).contains(v)));
    // A digit is mostly background (-1) with some ink (> 0).
    let ink = d.iter().filter(|v| **v > 0.0).count();
    assert!((40..400).contains(&ink), "{ink} inked pixels");
    assert!(lab
        .digit(10_000)
        .unwrap_err()
        .to_string()
        .contains("0..10000"));
    let mut lab = ImageLab::default();
    assert!(lab.load_digits(b"\x1f\x8bnot gzip", "x").is_err());
}

/// The forward view of one image: position 0 is the image, and every other position uses the
/// same ε, so `(x_k - √ᾱ x₀)/√(1-ᾱ)` is one vector at every k. That ε has 784 N(0, 1) entries:
/// its mean is within 4/√784 = 0.14 of 0 and its variance within 4·√(2/783) = 0.20 of 1.
#[test]
fn forward_noising_of_one_image() {
    let lab = digits_lab();
    let device = Device::flex();
    let x0 = lab.digit(3).unwrap();
    let positions = [0usize, 1, 250, 999, 1000];
    let x = lab
        .forward(&x0, &positions, 5, &device)
        .unwrap()
        .into_data()
        .try_into_vec::<f32>()
        .unwrap();
    assert_eq!(x.len(), positions.len() * 784);
    assert_eq!(&x[..784], &x0[..]);
    let process = VpProcess::new(ScheduleConfig::default()).unwrap();
    let eps: Vec<Vec<f64>> = positions[1..]
        .iter()
        .enumerate()
        .map(|(j, &k)| {
            let m = process.marginal(k - 1);
            (0..784)
                .map(|i| (x[(j + 1) * 784 + i] as f64 - m.mean_coef * x0[i] as f64) / m.std)
                .collect()
        })
        .collect();
    for e in &eps[1..] {
        let gap = e
            .iter()
            .zip(&eps[0])
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        // float32 x_k = a x₀ + s ε: dividing by s = √β₀ = 0.01 at k = 1 amplifies its rounding.
        assert!(gap < 2e-3, "ε differs between positions by {gap}");
    }
    let e = &eps[2];
    let mean = e.iter().sum::<f64>() / 784.0;
    let var = e.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / 783.0;
    assert!(mean.abs() < 4.0 / 28.0, "ε mean {mean}");
    assert!(
        (var - 1.0).abs() < 4.0 * (2.0f64 / 783.0).sqrt(),
        "ε variance {var}"
    );
    // Another seed, another ε; bad input is refused.
    let other = lab.forward(&x0, &[500], 6, &device).unwrap();
    let same = lab.forward(&x0, &[500], 5, &device).unwrap();
    assert!(other.sub(same).abs().max().into_scalar::<f32>() > 0.1);
    assert!(lab.forward(&x0, &[1001], 5, &device).is_err());
    assert!(lab.forward(&x0[..700], &[5], 5, &device).is_err());
}

fn reference_lab() -> ImageLab {
    let mut lab = ImageLab::default();
    lab.set_model(Folder::reference().load().unwrap()).unwrap();
    lab
}

fn ddim(steps: usize) -> SamplerSpec {
    SamplerSpec::Ddim {
        steps,
        eta: 0.0,
        spacing: TimestepSpacing::Leading,
        clip: None,
        end: DdimEnd::Auto,
    }
}

/// SDEdit starts at the sampler's first step at or below t₀, from `√ᾱ_s x₀ + √(1-ᾱ_s) ε`: with
/// n = 4 copies of one image, the 3136 values `(x - √ᾱ_s x₀)/√(1-ᾱ_s)` are N(0, 1) (mean within
/// 4/√3136 = 0.071, variance within 4·√(2/3135) = 0.10 of 1).
#[test]
fn sdedit_starts_at_the_samplers_step_below_t0() {
    let device = Device::flex();
    let mut lab = reference_lab();
    let (x0, _) = npy::read_f32(reference().join("forward_x.npy")).unwrap();
    let guide = &x0[..784];
    let (total, start) = lab
        .start_sdedit(&ddim(10), guide, 430, 4, 9, &device)
        .unwrap();
    assert_eq!((total, start), (5, 400));
    let x = lab
        .current(RunSlot::Edit)
        .unwrap()
        .into_data()
        .try_into_vec::<f32>()
        .unwrap();
    let m = lab.process().marginal(400);
    let z: Vec<f64> = x
        .iter()
        .enumerate()
        .map(|(i, &v)| (v as f64 - m.mean_coef * guide[i % 784] as f64) / m.std)
        .collect();
    let mean = z.iter().sum::<f64>() / z.len() as f64;
    let var = z.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (z.len() - 1) as f64;
    assert!(mean.abs() < 4.0 / 56.0, "mean {mean}");
    assert!(
        (var - 1.0).abs() < 4.0 * (2.0f64 / 3135.0).sqrt(),
        "variance {var}"
    );
    let out = lab.step(RunSlot::Edit, 1).unwrap().unwrap();
    assert_eq!((out.t, lab.remaining(RunSlot::Edit)), (400, 4));
    let out = lab.step(RunSlot::Edit, 10).unwrap().unwrap();
    assert_eq!((out.t, lab.remaining(RunSlot::Edit)), (0, 0));
    // Ancestral sampling starts at t₀ itself.
    let spec = SamplerSpec::Ancestral {
        variance: Default::default(),
        clip: None,
    };
    let (total, start) = lab.start_sdedit(&spec, guide, 250, 2, 9, &device).unwrap();
    assert_eq!((total, start), (251, 250));
    assert_eq!(lab.step(RunSlot::Edit, 1).unwrap().unwrap().t, 250);
    assert!(lab.start_sdedit(&spec, guide, 1000, 2, 9, &device).is_err());
}

/// The page's DDIM (10 steps, η = 0, leading, x̂₀ clipped to [-1, 1] as diffusers' default
/// scheduler) from the reference x_T against `DDIMScheduler`. The bound is the CLI test's
/// (`tests/unet_reference.rs`): this random network's 10-step map amplifies float32 summation
/// differences to ~1e-3, measured 1.12e-3 there.
#[test]
fn ddim_from_the_reference_x_t_matches_diffusers() {
    let device = Device::flex();
    let mut lab = reference_lab();
    let (x_t, shape) = npy::read_f32(reference().join("ddim_xT.npy")).unwrap();
    assert_eq!(shape, vec![4, 1, 28, 28]);
    let (want, _) = npy::read_f32(reference().join("ddim10_x0.npy")).unwrap();
    assert_eq!(lab.start(&ddim(10), 4, 0, Some(&x_t), &device).unwrap(), 10);
    lab.step(RunSlot::Grid, 10).unwrap();
    let x = lab
        .current(RunSlot::Grid)
        .unwrap()
        .into_data()
        .try_into_vec::<f32>()
        .unwrap();
    let err = x
        .iter()
        .zip(&want)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    eprintln!("ImageLab DDIM 10 against diffusers: max |Δ| = {err:e}");
    assert!(err <= 2e-3, "max |Δ| = {err:e}");
    // Another sampler kind is refused by name.
    let langevin = SamplerSpec::Langevin {
        steps: 5,
        step_size: 0.1,
    };
    let msg = lab
        .start(&langevin, 4, 0, None, &device)
        .unwrap_err()
        .to_string();
    assert!(msg.contains("not langevin"), "{msg}");
    assert!(lab
        .start(&ddim(10), 4, 0, Some(&x_t[..10]), &device)
        .is_err());
}

/// Sampling embeds its timesteps on the host (`timestep_embedding_host`, sin and cos in float64
/// of PyTorch's float32 `t·ω`); training on the device (`timestep_embedding`). On flex, whose sin
/// is the host's, the two agree to float32 rounding (|sin| ≤ 1: 2 ulp = 2.4e-7, and the float64
/// evaluation differs from float32's by at most 1 ulp of the result).
#[test]
fn the_host_embedding_is_the_device_embedding() {
    use diffusion_playground::model::unet::embedding::{
        timestep_embedding, timestep_embedding_host,
    };
    let device = Device::flex();
    let t = [0.0f32, 1.0, 10.0, 499.0, 900.0, 999.0];
    for (dim, flip, shift) in [(32, true, 0.0), (128, false, 1.0), (33, true, 1.0)] {
        let host = timestep_embedding_host(&t, dim, flip, shift);
        let tt = Tensor::<1>::from_data(TensorData::new(t.to_vec(), [t.len()]), &device);
        let dev = timestep_embedding(tt, dim, flip, shift)
            .into_data()
            .try_into_vec::<f32>()
            .unwrap();
        assert_eq!(host.len(), dev.len());
        let err = host
            .iter()
            .zip(&dev)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        assert!(err <= 2.4e-7, "dim {dim}: max |Δ| = {err:e}");
    }
}
