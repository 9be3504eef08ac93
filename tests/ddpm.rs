//! DDPM end to end on flex: L_simple training lowers the loss, weights survive a save/load round
//! trip, and the shipped page model's ancestral samples reproduce its mixture.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use burn::prelude::*;
use diffusion_playground::bundle;
use diffusion_playground::data::GaussianMixture;
use diffusion_playground::noise;
use diffusion_playground::process::VpProcess;
use diffusion_playground::sampler::{AncestralSampler, PosteriorVariance, Sampler};
use diffusion_playground::train::{TrainConfig, Trainer};

fn scalar(x: Tensor<1>) -> f32 {
    x.into_scalar()
}

#[test]
fn training_lowers_the_loss_on_a_fixed_batch() {
    let device = Device::flex();
    let mix = GaussianMixture::from_file(common::repo_path("data/mixture3.json")).unwrap();
    let config = TrainConfig::new()
        .with_steps(300)
        .with_batch_size(256)
        .with_seed(7);
    let mut trainer = Trainer::new(config, mix, &device).unwrap();
    let before = scalar(trainer.eval_loss(99));
    for _ in 0..300 {
        let l = scalar(trainer.step());
        assert!(l.is_finite());
    }
    let after = scalar(trainer.eval_loss(99));
    // An untrained net scores ≥ 1 (predicting 0 scores E‖ε‖²/d = 1); a useful one well below.
    assert!(before > 0.9, "untrained loss {before}");
    assert!(after < 0.75 * before, "loss {before} -> {after}");
}

#[test]
fn weights_round_trip_through_safetensors() {
    let device = Device::flex();
    let mix = GaussianMixture::from_file(common::repo_path("data/mixture3.json")).unwrap();
    let mut trainer = Trainer::new(TrainConfig::new().with_batch_size(32), mix, &device).unwrap();
    trainer.step();
    let model = trainer.model();
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("roundtrip_model");
    bundle::save(&dir, &model, &trainer.card(Some(0.5))).unwrap();
    let (loaded, card) = bundle::load(&dir, &device).unwrap();
    assert_eq!(card.train, *trainer.config());
    let x = noise::normal(&mut noise::rng(0), [64, 2], &device);
    let t = Tensor::<1>::from_data(
        TensorData::new((0..64).map(|i| (i * 15) as f32).collect::<Vec<_>>(), [64]),
        &device,
    );
    let a = model
        .forward(x.clone(), t.clone())
        .into_data()
        .try_into_vec::<f32>()
        .unwrap();
    let b = loaded
        .forward(x, t)
        .into_data()
        .try_into_vec::<f32>()
        .unwrap();
    assert_eq!(a, b, "a reloaded model must give bit-identical outputs");
}

#[test]
fn shipped_model_samples_reproduce_the_mixture() {
    // The page's default model, sampled with DDPM ancestral steps from N(0, I).
    let device = Device::flex();
    let (model, card) =
        bundle::load(common::repo_path("www/weights/ddpm_mixture"), &device).unwrap();
    let mix = card.data.require_mixture("this test").unwrap();
    let n = 4000;
    let mut s = AncestralSampler::new(
        VpProcess::new(card.train.objective.schedule().unwrap()).unwrap(),
        PosteriorVariance::BetaTilde,
        None,
        11,
    );
    s.reset_from_prior(n, 2, &device);
    while !s.done() {
        s.step(&model).unwrap();
    }
    let x = s
        .current()
        .unwrap()
        .clone()
        .into_data()
        .try_into_vec::<f32>()
        .unwrap();
    let mut count = vec![0usize; mix.num_components()];
    let mut sums = vec![[0.0f64; 2]; mix.num_components()];
    for p in x.chunks(2) {
        let k = mix.nearest_component(&[p[0] as f64, p[1] as f64]);
        count[k] += 1;
        sums[k][0] += p[0] as f64;
        sums[k][1] += p[1] as f64;
    }
    for k in 0..mix.num_components() {
        let w = count[k] as f64 / n as f64;
        // A proportion's SE is √(π(1-π)/n) ≤ 0.0079 at n = 4000; 3 SE = 0.024, plus 0.016 for the
        // model's own error (a 4000-step MLP) gives 0.04.
        assert!(
            (w - mix.weights()[k]).abs() < 0.04,
            "component {k}: weight {w} vs {}",
            mix.weights()[k]
        );
        // A component mean's SE is √(Σ_ii/n_k) ≤ √(0.8/800) ≈ 0.032; 3 SE ≈ 0.1, plus 0.1 for the model.
        for (c, (sum, want)) in sums[k].iter().zip(&mix.means()[k]).enumerate() {
            let m = sum / count[k] as f64;
            assert!(
                (m - *want).abs() < 0.2,
                "component {k} coord {c}: mean {m} vs {want}"
            );
        }
    }
}
