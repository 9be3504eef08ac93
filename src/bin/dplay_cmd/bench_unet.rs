//! `dplay bench --unet`: DDPM's CIFAR-10 UNet (35.7M parameters, 32×32×3), forward passes per
//! second without gradients and L_simple training steps per second (forward, backward, Adam).

use std::time::Instant;

use burn::optim::{AdamConfig, GradientsParams};
use burn::prelude::*;
use burn::tensor::Distribution;

use diffusion_playground::budget;
use diffusion_playground::error::{Error, Result};
use diffusion_playground::model::unet::memory::largest_activation;
use diffusion_playground::model::unet::{UNet2D, UNet2DConfig};
use diffusion_playground::noise;
use diffusion_playground::process::{Process, VpProcess};
use diffusion_playground::schedule::ScheduleConfig;

/// Wait for every queued kernel by reading a value back.
fn sync(t: Tensor<1>) -> Result<()> {
    t.into_data()
        .try_into_vec::<f32>()
        .map(|_| ())
        .map_err(|e| Error::Device(format!("{e:?}")))
}

/// One L_simple loss (Ho et al. 2020, eq. 14) on random images at uniform random steps.
fn loss(net: &UNet2D, process: &VpProcess, batch: usize, seed: u64, dev: &Device) -> Tensor<1> {
    let mut rng = noise::rng(seed);
    let t = noise::uniform_steps(&mut rng, batch, process.num_steps());
    let d = 3 * 32 * 32;
    let x0 = noise::normal(&mut rng, [batch, d], dev).clamp(-1.0, 1.0);
    let eps = noise::normal(&mut rng, [batch, d], dev);
    let xt = process.q_sample(x0, &t, eps.clone());
    let tf: Vec<f32> = t.iter().map(|&t| t as f32).collect();
    let tt = Tensor::<1>::from_data(TensorData::new(tf, [batch]), dev);
    let pred = net.forward(xt.reshape([batch, 3, 32, 32]), tt);
    (pred.reshape([batch, d]) - eps).square().mean()
}

/// Refuse batches whose forward passes or training steps do not fit, before any bench runs.
pub(crate) fn check_unet(fwd_batch: usize, train_batch: usize) -> Result<()> {
    let config = UNet2DConfig::ddpm_cifar10();
    let image = [3, 32, 32];
    let largest = largest_activation(&config, image, 1).bytes;
    let params = UNet2D::new(&config, &Device::flex())?.num_params() as u64;
    for (what, batch, training) in [
        ("forward passes", fwd_batch, false),
        ("training steps", train_batch, true),
    ] {
        let knob = if training {
            "--unet-batch"
        } else {
            "--unet-forward-batch"
        };
        budget::check(
            &budget::unet_job(
                format!("UNet {what} at batch {batch}"),
                params,
                largest,
                3 * 32 * 32,
                batch,
                training,
            )
            .with_knob(knob),
        )?;
    }
    Ok(())
}

/// Prints forward/s at `fwd_batch` and train steps/s at `train_batch` on `dev`.
pub(crate) fn bench_unet(
    name: &str,
    dev: &Device,
    fwd_batch: usize,
    train_batch: usize,
    steps: usize,
) -> Result<()> {
    let config = UNet2DConfig::ddpm_cifar10();
    let process = VpProcess::new(ScheduleConfig::default())?;
    let net = UNet2D::new(&config, dev)?;
    let x = Tensor::<4>::random([fwd_batch, 3, 32, 32], Distribution::Normal(0.0, 1.0), dev);
    let t = Tensor::<1>::from_data(TensorData::new(vec![500.0f32; fwd_batch], [fwd_batch]), dev);
    sync(net.forward(x.clone(), t.clone()).sum())?;
    let start = Instant::now();
    for _ in 0..steps {
        sync(net.forward(x.clone(), t.clone()).sum())?;
    }
    let secs = start.elapsed().as_secs_f64() / steps as f64;
    println!(
        "{name}: UNet forward, batch {fwd_batch}: {:.3} forwards/s ({:.1} images/s)",
        1.0 / secs,
        fwd_batch as f64 / secs
    );

    let ad = dev.clone().autodiff();
    let mut net = Some(UNet2D::new(&config, &ad)?);
    let mut optim = AdamConfig::new().init();
    let mut step = |k: usize| -> Result<()> {
        let model = net.take().expect("model present between steps");
        let l = loss(&model, &process, train_batch, k as u64, &ad);
        let grads = GradientsParams::from_grads(l.backward(), &model);
        net = Some(optim.step(1e-4, model, grads));
        sync(l.detach())
    };
    step(0)?;
    let start = Instant::now();
    for k in 1..=steps {
        step(k)?;
    }
    let secs = start.elapsed().as_secs_f64() / steps as f64;
    println!(
        "{name}: UNet train step (L_simple + Adam), batch {train_batch}: {:.3} steps/s ({:.2} s/step)",
        1.0 / secs,
        secs
    );
    Ok(())
}
