//! Browser tests (wasm32): run with `./build.sh test`, or `wasm-pack test --headless --chrome`.
//! Statistics run on flex; WebGPU gets a few steps only (SwiftShader compiles each kernel slowly).
#![cfg(target_arch = "wasm32")]

use burn::prelude::*;
use diffusion_playground::bundle;
use diffusion_playground::data::GaussianMixture;
use diffusion_playground::process::VpProcess;
use diffusion_playground::sampler::{AncestralSampler, PosteriorVariance, Sampler};
use diffusion_playground::train::{TrainConfig, Trainer};
use diffusion_playground::web::{Backend, Playground};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[path = "web/science.rs"]
mod science;

#[path = "web/page_api.rs"]
mod page_api;

#[path = "web/images.rs"]
mod images;
#[path = "web/objectives.rs"]
mod objectives;

const WEIGHTS: &[u8] = include_bytes!("../www/weights/ddpm_mixture/model.safetensors");
const CONFIG: &str = include_str!("../www/weights/ddpm_mixture/config.json");
const MIXTURE: &str = include_str!("../data/mixture3.json");

thread_local! {
    static GPU: std::cell::RefCell<Option<Device>> = const { std::cell::RefCell::new(None) };
}

/// The page's one WebGPU device: initialised by the first test that asks, then shared (a second
/// `init_async` on the same page fails).
async fn gpu() -> Device {
    if let Some(d) = GPU.with(|g| g.borrow().clone()) {
        return d;
    }
    let d = Device::wgpu_options()
        .init_async()
        .await
        .expect("WebGPU adapter (Chromium needs --enable-unsafe-webgpu)");
    GPU.with(|g| *g.borrow_mut() = Some(d.clone()));
    d
}

/// Let the browser run its own tasks (a `setTimeout(0)`): a test that computes synchronously for
/// long on flex would otherwise keep the page from answering chromedriver, which gives up after
/// 30 s on a loaded machine.
async fn yield_to_browser() {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        let set_timeout: js_sys::Function =
            js_sys::Reflect::get(&js_sys::global(), &"setTimeout".into())
                .expect("setTimeout")
                .into();
        set_timeout
            .call2(&wasm_bindgen::JsValue::NULL, &resolve, &0.into())
            .expect("setTimeout(resolve, 0)");
    });
    wasm_bindgen_futures::JsFuture::from(promise)
        .await
        .expect("a timeout resolves");
}

async fn read<const D: usize>(x: Tensor<D>) -> Vec<f32> {
    x.into_data_async()
        .await
        .unwrap()
        .try_into_vec::<f32>()
        .unwrap()
}

/// Train on `device` and return the fixed-batch loss before and after `steps` steps.
async fn train_and_measure(device: &Device, steps: usize, lr: f64) -> (f32, f32) {
    let mix = GaussianMixture::from_json(MIXTURE, "mixture3.json").unwrap();
    let config = TrainConfig::new()
        .with_batch_size(256)
        .with_lr(lr)
        .with_warmup(1)
        .with_steps(steps)
        .with_seed(3);
    let mut trainer = Trainer::new(config, mix, device).unwrap();
    let before = read(trainer.eval_loss(42)).await[0];
    for _ in 0..steps {
        let _ = trainer.step();
    }
    let after = read(trainer.eval_loss(42)).await[0];
    (before, after)
}

#[wasm_bindgen_test]
async fn flex_training_lowers_the_loss() {
    let (before, after) = train_and_measure(&Device::flex(), 150, 2e-3).await;
    assert!(after < 0.8 * before, "flex: loss {before} -> {after}");
}

#[wasm_bindgen_test]
async fn webgpu_trains_and_agrees_with_flex() {
    let gpu = gpu().await;

    // Training: the loss on a fixed batch falls within a few steps.
    let (before, after) = train_and_measure(&gpu, 8, 1e-2).await;
    assert!(before.is_finite() && after.is_finite());
    assert!(after < 0.9 * before, "webgpu: loss {before} -> {after}");

    // Sampling: the same weights and the same host noise give the same reverse steps on both
    // backends (f32 kernels differ only in summation order: 1e-3 is far above that, far below a bug).
    let mut out = Vec::new();
    for device in [gpu.clone(), Device::flex()] {
        let (model, card) = bundle::from_bytes(WEIGHTS, CONFIG, &device).unwrap();
        let mut s = AncestralSampler::new(
            VpProcess::new(card.train.objective.schedule().unwrap()).unwrap(),
            PosteriorVariance::BetaTilde,
            None,
            5,
        );
        s.reset_from_prior(256, 2, &device);
        for _ in 0..5 {
            s.step(&model).unwrap();
        }
        out.push(read(s.current().unwrap().clone()).await);
    }
    let err = out[0]
        .iter()
        .zip(&out[1])
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    assert!(err < 1e-3, "webgpu vs flex after 5 steps: max |diff| {err}");
}

#[wasm_bindgen_test]
async fn playground_api_on_flex() {
    let mut pg = Playground::create(Backend::Flex).await;
    assert_eq!(pg.backend(), "flex");
    assert!(pg.notice().is_none());
    pg.load_model(WEIGHTS, CONFIG).unwrap();
    let t = pg.num_steps();
    assert_eq!(t, 1000);

    // At t = T the forward marginal is N(0, I) up to √ᾱ_T ≈ 0.006 of the data: mean within
    // 3 SE = 3/√n of 0 (plus 0.006·|E x₀| ≤ 0.02), variance within 3·√(2/n) of 1.
    let n = 4000;
    let x0 = pg.draw_data(n, 1).unwrap().to_vec();
    assert_eq!(x0.len(), 2 * n);
    let xt = pg.forward_at(t).await.unwrap().to_vec();
    for c in 0..2 {
        let m = xt.iter().skip(c).step_by(2).map(|v| *v as f64).sum::<f64>() / n as f64;
        let v = xt
            .iter()
            .skip(c)
            .step_by(2)
            .map(|v| (*v as f64 - m).powi(2))
            .sum::<f64>()
            / (n - 1) as f64;
        assert!(
            m.abs() < 3.0 / (n as f64).sqrt() + 0.02,
            "coord {c}: mean {m}"
        );
        assert!(
            (v - 1.0).abs() < 3.0 * (2.0 / n as f64).sqrt(),
            "coord {c}: var {v}"
        );
    }
    // Position 0 is the data itself.
    assert_eq!(pg.forward_at(0).await.unwrap().to_vec(), x0);
    assert!(pg.forward_at(t + 1).await.is_err());

    // The chain walks forward one step at a time.
    pg.chain_steps(10, 0).await.unwrap();
    assert_eq!(pg.chain_step(), 10);

    // Reverse sampling counts down to a finished sample.
    pg.start_sampling(500, 3).unwrap();
    let f = pg.sample_steps(400).await.unwrap();
    assert_eq!(f.remaining(), 600);
    let f = pg.sample_steps(1000).await.unwrap();
    assert_eq!(f.remaining(), 0);
    assert!(f.x().to_vec().iter().all(|v| v.is_finite()));

    // Bad input is an error, not a panic.
    assert!(pg.set_mixture("{\"weights\": [2]}").is_err());
    assert!(pg.load_model(b"nope", CONFIG).is_err());
}
