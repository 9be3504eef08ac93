//! diffusers' `UNet2DModel`, parameter for parameter: the same `config.json`, the same tensor
//! names in `diffusion_pytorch_model.safetensors`, the same forward pass, so checkpoints move
//! between this crate and PyTorch.

pub mod attention;
pub mod blocks;
pub mod config;
pub mod embedding;
pub mod folder;
pub mod load;
pub mod memory;
pub mod params;
pub mod resnet;
pub mod sampling;
pub mod save;
pub mod scheduler;
pub mod score;
pub mod unet2d;

pub use config::UNet2DConfig;
pub use folder::{ImageModel, ModelFiles};
pub use load::{is_diffusers_dir, CONFIG_FILE, WEIGHTS_FILE};
pub use memory::{DeviceLimits, LimitSource};
pub use score::{conditioned, UNetScore};
pub use unet2d::UNet2D;
