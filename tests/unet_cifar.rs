//! DDPM's CIFAR-10 network (Ho et al. 2020; diffusers' `google/ddpm-cifar10-32`, 35.7M
//! parameters) builds from its config and runs.
#![cfg(not(target_arch = "wasm32"))]

use burn::prelude::*;
use burn::tensor::Distribution;

use diffusion_playground::model::unet::{UNet2D, UNet2DConfig};

#[test]
fn ddpm_cifar10_has_35_7m_parameters_and_runs() {
    let dev = Device::flex();
    let config = UNet2DConfig::ddpm_cifar10();
    let net = UNet2D::new(&config, &dev).unwrap();
    let n = net.num_params();
    assert!(
        (35_600_000..=35_800_000).contains(&n),
        "{n} parameters, expected 35.7M ± 0.1M"
    );
    // The names the saver would write cover every parameter exactly once.
    let named: usize = net
        .named_tensors()
        .unwrap()
        .iter()
        .map(|t| t.shape.iter().product::<usize>())
        .sum();
    assert_eq!(named, n);
    let x = Tensor::<4>::random([1, 3, 32, 32], Distribution::Normal(0.0, 1.0), &dev);
    let t = Tensor::<1>::from_data(TensorData::new(vec![500.0f32], [1]), &dev);
    let y = net.try_forward(x, t).unwrap();
    assert_eq!(y.dims(), [1, 3, 32, 32]);
    let v = y.into_data().try_into_vec::<f32>().unwrap();
    assert!(v.iter().all(|v| v.is_finite()));
    assert!(v.iter().any(|v| *v != 0.0));
}
