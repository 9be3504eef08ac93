//! The training engine: two devices with one shard each give the run one device gives with two
//! shards (burn's multi-device optimiser step sums the shards' gradients); a restored state
//! continues exactly; the EMA follows its formula; the rate's warm-up, decay and cooldown.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use burn::prelude::*;
use diffusion_playground::data::{GaussianMixture, Toy2d};
use diffusion_playground::model::MlpConfig;
use diffusion_playground::train::params::{apply, collect};
use diffusion_playground::train::{Ema, TrainConfig, Trainer};

fn config() -> TrainConfig {
    TrainConfig::new()
        .with_model(MlpConfig::new().with_hidden(16).with_depth(1))
        .with_steps(20)
        .with_batch_size(48)
        .with_warmup(2)
        .with_ema_decay(Some(0.9))
        .with_grad_clip(Some(1.0))
        .with_seed(3)
}

/// One set of initial weights, and fresh models holding them (tests run in parallel and share
/// the device's seed, so initialising twice would not give the same weights).
fn initial() -> Vec<diffusion_playground::train::ParamEntry> {
    collect(&config().model.init(&Device::flex())).unwrap()
}

fn fresh(init: &[diffusion_playground::train::ParamEntry]) -> diffusion_playground::model::Mlp {
    apply(config().model.init(&Device::flex().autodiff()), init).unwrap()
}

fn max_diff(a: &Trainer, b: &Trainer) -> f32 {
    let (pa, pb) = (collect(&a.model()).unwrap(), collect(&b.model()).unwrap());
    assert_eq!(pa.len(), pb.len());
    pa.iter()
        .zip(&pb)
        .flat_map(|(x, y)| {
            assert_eq!(x.path, y.path);
            x.values.iter().zip(&y.values).map(|(p, q)| (p - q).abs())
        })
        .fold(0.0, f32::max)
}

#[test]
fn two_devices_match_one_device_with_two_shards() {
    let cfg = config().with_shards(2);
    let flex = Device::flex();
    // One initial model for every run (tests run in parallel and share the device's seed).
    let init = initial();
    let mut one = Trainer::with_model(cfg.clone(), Toy2d::Moons, fresh(&init), &flex).unwrap();
    let mut two =
        Trainer::with_model_on_devices(cfg, Toy2d::Moons, fresh(&init), &[flex.clone(), flex])
            .unwrap();
    for _ in 0..5 {
        let (a, b): (f32, f32) = (one.step().into_scalar(), two.step().into_scalar());
        assert!((a - b).abs() <= 1e-5 * a.abs(), "losses {a} vs {b}");
    }
    // Float sums in a different order: equal to rounding, far below one Adam step (lr 2e-3).
    let d = max_diff(&one, &two);
    assert!(d < 1e-5, "weights differ by {d}");
    // And a different shard count is a different run, which the comparison would notice.
    let mut other = Trainer::with_model(
        config().with_shards(3),
        Toy2d::Moons,
        fresh(&init),
        &Device::flex(),
    )
    .unwrap();
    for _ in 0..5 {
        other.step();
    }
    assert!(max_diff(&one, &other) > 1e-4);
}

#[test]
fn several_devices_need_one_shard_each() {
    let flex = Device::flex();
    let err = Trainer::on_devices(config(), Toy2d::Moons, &[flex.clone(), flex])
        .err()
        .expect("2 devices with 1 shard");
    assert!(err.to_string().contains("one per device"), "{err}");
}

#[test]
fn a_restored_state_continues_exactly() {
    let mix = GaussianMixture::from_file(common::repo_path("data/mixture3.json")).unwrap();
    let flex = Device::flex();
    let init = initial();
    let mut straight = Trainer::with_model(config(), mix.clone(), fresh(&init), &flex).unwrap();
    for _ in 0..6 {
        straight.step();
    }
    let mut first = Trainer::with_model(config(), mix.clone(), fresh(&init), &flex).unwrap();
    for _ in 0..3 {
        first.step();
    }
    let state = first.state().unwrap();
    // As in a new process: a fresh trainer, other parameter ids, no Adam moments.
    let mut resumed_same = Trainer::new(config(), mix, &flex).unwrap();
    resumed_same.restore(state).unwrap();
    assert_eq!(resumed_same.steps_done(), 3);
    for _ in 0..3 {
        resumed_same.step();
    }
    let d = max_diff(&straight, &resumed_same);
    assert!(d < 1e-6, "resumed weights differ by {d}");
    // The EMA came back too.
    let ea = collect(&straight.export_model()).unwrap();
    let eb = collect(&resumed_same.export_model()).unwrap();
    for (x, y) in ea.iter().zip(&eb) {
        for (p, q) in x.values.iter().zip(&y.values) {
            assert!((p - q).abs() < 1e-6, "EMA {} differs", x.path);
        }
    }
}

#[test]
fn ema_follows_its_formula() {
    let device = Device::flex();
    let a = MlpConfig::new().with_hidden(4).with_depth(1).init(&device);
    let b = MlpConfig::new().with_hidden(4).with_depth(1).init(&device);
    let mut ema = Ema::new(0.999, &a);
    // Step 0 uses min(0.999, 1/10) = 0.1: θ̄ = 0.1 a + 0.9 b.
    assert!((ema.decay_at(0) - 0.1).abs() < 1e-12);
    assert!((ema.decay_at(100_000) - 0.999).abs() < 1e-12);
    ema.update(&b, 0);
    let (pa, pb, pe) = (
        collect(&a).unwrap(),
        collect(&b).unwrap(),
        collect(ema.model()).unwrap(),
    );
    for ((x, y), z) in pa.iter().zip(&pb).zip(&pe) {
        for ((p, q), r) in x.values.iter().zip(&y.values).zip(&z.values) {
            assert!((0.1 * p + 0.9 * q - r).abs() < 1e-6, "{}", z.path);
        }
    }
}

#[test]
fn the_rate_warms_up_holds_or_decays_then_cools_down_to_zero() {
    use diffusion_playground::train::OptimConfig;
    let wsd = OptimConfig::new()
        .with_steps(100)
        .with_lr(1e-3)
        .with_warmup(10)
        .with_lr_min_ratio(1.0)
        .with_cooldown(20);
    wsd.validate().unwrap();
    let close = |a: f64, b: f64| (a - b).abs() < 1e-12;
    // Linear warm-up to lr at step 9, constant to step 79, then lr · (100 − k)/20.
    assert!(close(wsd.lr_at(0), 1e-4) && close(wsd.lr_at(9), 1e-3));
    assert!((10..80).all(|k| close(wsd.lr_at(k), 1e-3)));
    assert!(close(wsd.lr_at(80), 1e-3) && close(wsd.lr_at(90), 5e-4) && close(wsd.lr_at(99), 5e-5));
    // No step before the cooldown depends on the total.
    let longer = wsd.clone().with_steps(300);
    assert!((0..80).all(|k| close(wsd.lr_at(k), longer.lr_at(k))));
    // Under a cosine decay the cooldown starts from the floor the cosine reached.
    let cosine = wsd.clone().with_lr_min_ratio(0.1);
    assert!(close(cosine.lr_at(80), 1e-4) && close(cosine.lr_at(90), 5e-5));
    assert!(cosine.lr_at(40) < 1e-3 && cosine.lr_at(40) > 1e-4);
    // Warm-up and cooldown must fit.
    assert!(wsd.clone().with_cooldown(95).validate().is_err());
}
