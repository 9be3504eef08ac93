//! # Diffusion Playground
//!
//! Score-based generative models and DDPM in one crate that runs natively (CLI, training) and in
//! the browser (WebAssembly on WebGPU). See `DESIGN.md` for the map; every module cites the
//! equations it implements.
//!
//! - [`schedule`]: β tables (linear, cosine), computed once in f64.
//! - [`process`]: forward processes: discrete ([`process::Process`]: [`process::VpProcess`] is
//!   DDPM's chain, [`process::VeProcess`] NCSN's levels) and continuous ([`process::Sde`]: VP, VE,
//!   sub-VP, flow's linear path).
//! - [`model`]: networks, their [`model::Parameterization`], and the [`model::ScoreModel`] every
//!   sampler runs; [`model::unet`] is diffusers' `UNet2DModel`, read from and written to
//!   diffusers folders.
//! - [`score`]: objectives ([`score::l_simple`]).
//! - [`sampler`]: stepwise samplers behind [`sampler::Sampler`]: Langevin, annealed Langevin,
//!   DDPM ancestral, DDIM, Euler–Maruyama, predictor–corrector, probability-flow ODE.
//! - [`likelihood`]: exact log-likelihoods by the probability-flow ODE and its divergence,
//!   integrated by Dormand–Prince.
//! - [`data`]: toy data with exact densities ([`data::GaussianMixture`]) and the exact score of
//!   every perturbed marginal ([`data::MixtureScore`]).
//! - [`metrics`]: sample quality (weights, per-component moments, energy distance).
//! - [`experiments`]: the seeds' experiments.
//! - [`train`]: the one training loop, stepwise.
//! - [`io`]: safetensors weights, `.npy`, atomic writes.
//! - [`image_lab`]: the page's image mode on any device: a UNet, the digits, forward noising,
//!   grid sampling and SDEdit.
//! - [`budget`]: the memory a job needs, checked before it starts.
//! - `fuzz_targets`: every parser of untrusted bytes by name, for `fuzz/` and the corpus replay.
//! - [`bundle`]: a trained model folder (`model.safetensors` + `config.json`).
//! - [`catalogue`]: every process, objective, source and sampler with its options, as JSON for
//!   both faces.
//! - `web` (wasm32 only): the `Playground` class the page's worker drives.

pub mod budget;
pub mod bundle;
pub mod catalogue;
pub mod data;
pub mod error;
pub mod experiments;
#[doc(hidden)]
pub mod fuzz_targets;
pub mod image_lab;
pub mod io;
pub mod likelihood;
pub mod metrics;
pub mod model;
pub mod noise;
pub mod process;
pub mod sampler;
pub mod schedule;
pub mod score;
pub mod session;
pub mod train;

#[cfg(target_arch = "wasm32")]
pub mod web;

pub use error::{Error, Result};
