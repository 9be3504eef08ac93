//! `dplay predict`: the raw output of a diffusers `UNet2DModel` folder, `model(x, t).sample`.

use std::path::{Path, PathBuf};

use burn::prelude::*;
use clap::Args;

use diffusion_playground::error::{Error, Result};
use diffusion_playground::io::npy::{self, NpyValues};
use diffusion_playground::model::unet::{is_diffusers_dir, UNet2D};

use super::{check_writable_file, device, DeviceArg};

#[derive(Args)]
pub(crate) struct PredictArgs {
    /// A diffusers UNet2DModel folder (config.json + diffusion_pytorch_model.safetensors).
    #[arg(long)]
    model: PathBuf,
    /// Input images, a float32 .npy [N, C, H, W].
    #[arg(long)]
    x: PathBuf,
    /// Timesteps, an int64 or float32 .npy [N].
    #[arg(long)]
    t: PathBuf,
    /// Output .npy (float32 [N, C_out, H, W]).
    #[arg(long)]
    out: PathBuf,
    #[arg(long, value_enum, default_value_t = DeviceArg::Flex)]
    device: DeviceArg,
}

/// A diffusers folder, or an error saying what `dir` is not.
pub(crate) fn load_unet(dir: &Path, device: &Device) -> Result<UNet2D> {
    if !is_diffusers_dir(dir) {
        return Err(Error::invalid(format!(
            "{} is not a diffusers UNet2DModel folder (no diffusion_pytorch_model.safetensors)",
            dir.display()
        )));
    }
    UNet2D::load_diffusers(dir, device)
}

/// `--x`: finite float32 `[N, C, H, W]` images.
pub(crate) fn read_images(flag: &str, path: &Path) -> Result<(Vec<f32>, [usize; 4])> {
    let (values, shape) = npy::read(path)?;
    let shown = path.display();
    let x = match values {
        NpyValues::F32(x) => x,
        other => {
            return Err(Error::invalid(format!(
                "{flag} {shown} holds {}; expected float32 [N, C, H, W]",
                other.descr()
            )))
        }
    };
    let dims: [usize; 4] = shape.as_slice().try_into().map_err(|_| {
        Error::invalid(format!(
            "{flag} {shown} has shape {shape:?}; expected float32 [N, C, H, W]"
        ))
    })?;
    if let Some(i) = x.iter().position(|v| !v.is_finite()) {
        return Err(Error::invalid(format!(
            "{flag} {shown} holds a non-finite value ({}) at flat index {i}",
            x[i]
        )));
    }
    Ok((x, dims))
}

/// `--t`: `n` timesteps, int64 or float32.
fn read_timesteps(path: &Path, n: usize) -> Result<Vec<f32>> {
    let (values, shape) = npy::read(path)?;
    let shown = path.display();
    if shape != [n] {
        return Err(Error::invalid(format!(
            "--t {shown} has shape {shape:?}; expected [{n}], one timestep per image of --x"
        )));
    }
    let t: Vec<f32> = match values {
        NpyValues::F32(t) => t,
        NpyValues::I64(t) => t.into_iter().map(|v| v as f32).collect(),
    };
    if let Some(v) = t.iter().find(|v| !v.is_finite()) {
        return Err(Error::invalid(format!(
            "--t {shown} holds a non-finite value ({v})"
        )));
    }
    Ok(t)
}

pub(crate) fn predict(a: PredictArgs) -> Result<()> {
    check_writable_file(&a.out)?;
    let (x, [n, c, h, w]) = read_images("--x", &a.x)?;
    let t = read_timesteps(&a.t, n)?;
    let device = device(a.device)?;
    let net = load_unet(&a.model, &device)?;
    let x = Tensor::<4>::from_data(TensorData::new(x, [n, c, h, w]), &device);
    let t = Tensor::<1>::from_data(TensorData::new(t, [n]), &device);
    let y = net.try_forward(x, t)?;
    let dims = y.dims();
    let values = y
        .into_data()
        .try_into_vec::<f32>()
        .map_err(|e| Error::Device(format!("{e:?}")))?;
    npy::write_f32(&a.out, &values, &dims)?;
    println!("wrote the UNet output {dims:?} to {}", a.out.display());
    Ok(())
}
