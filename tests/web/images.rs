//! The page's image-mode API (`Playground`, `src/web/images.rs`) in the browser: a small random
//! UNet saved as a diffusers folder and loaded from its bytes, its errors, the forward marginal of
//! one image, a grid and SDEdit read back asynchronously; and the same UNet on WebGPU against
//! flex.

use burn::prelude::*;
use diffusion_playground::model::unet::{UNet2D, UNet2DConfig};
use diffusion_playground::web::{Backend, ImageRun, Playground};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::*;

use super::{gpu, read};

/// 1×8×8 images, channels (8, 16), self-attention at 8×8 (2 heads of 4): small enough for
/// SwiftShader.
fn tiny_config() -> UNet2DConfig {
    serde_json::from_str(
        r#"{"sample_size": 8, "in_channels": 1, "out_channels": 1, "block_out_channels": [8, 16],
            "layers_per_block": 1, "norm_num_groups": 4, "attention_head_dim": 4,
            "down_block_types": ["AttnDownBlock2D", "DownBlock2D"],
            "up_block_types": ["UpBlock2D", "AttnUpBlock2D"]}"#,
    )
    .unwrap()
}

/// The tiny UNet's folder: (weights, config.json).
fn tiny_folder() -> (Vec<u8>, String) {
    UNet2D::new(&tiny_config(), &Device::flex())
        .unwrap()
        .to_diffusers_bytes()
        .unwrap()
}

fn message(e: JsValue) -> String {
    e.dyn_into::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .unwrap_or_else(|v| format!("{v:?}"))
}

fn names() -> Vec<String> {
    vec![
        "config.json".into(),
        "diffusion_pytorch_model.safetensors".into(),
    ]
}

#[wasm_bindgen_test]
async fn image_api_on_flex() {
    let mut pg = Playground::create(Backend::Flex).await;
    pg.set_device_limits(1e9, 1e9);
    let (weights, config) = tiny_folder();
    let info = pg
        .load_image_model(
            names(),
            Some(config.clone()),
            Some(weights.clone()),
            None,
            "tiny",
            4,
        )
        .unwrap();
    let info: serde_json::Value = serde_json::from_str(&info).unwrap();
    assert_eq!(info["image"], serde_json::json!([1, 8, 8]));
    assert_eq!(info["clip"], serde_json::json!(1.0));
    assert_eq!(pg.image_shape(), vec![1, 8, 8]);

    // Errors name the problem and leave the model in use.
    let cases = [
        (None, Some(weights.clone()), "no config.json"),
        (Some("{".to_string()), Some(weights.clone()), "not JSON"),
        (
            Some(config.clone()),
            Some(weights[..weights.len() - 10].to_vec()),
            "truncated",
        ),
        (
            Some(config.replace("\"sample_size\": 8", "\"sample_size\": 7")),
            Some(weights.clone()),
            "7×7 is not a multiple of 2",
        ),
    ];
    for (c, w, want) in cases {
        let m = message(
            pg.load_image_model(names(), c, w, None, "bad", 4)
                .unwrap_err(),
        );
        assert!(m.contains(want), "'{m}' should mention '{want}'");
    }
    // The CPU cap per tensor: 4 images' attention scores at 8×8 are 4 × 2 heads × 64² × 4 bytes
    // = 128 KiB; a cap of 100 000 bytes refuses them and says ⌊100 000 / 32 768⌋ = 3 images fit.
    pg.set_device_limits(100_000.0, 100_000.0);
    let m = message(
        pg.load_image_model(names(), Some(config), Some(weights), None, "tiny", 4)
            .unwrap_err(),
    );
    assert!(
        m.contains("attention scores") && m.contains("the CPU backend's cap per tensor"),
        "{m}"
    );
    assert!(m.contains("at most 3 images"), "{m}");
    pg.set_device_limits(1e9, 1e9);
    assert!(pg
        .image_model_info()
        .unwrap()
        .contains("\"origin\":\"tiny\""));

    // The forward marginal at T is √ᾱ_T x₀ + √(1-ᾱ_T) ε with one ε of 64 N(0, 1) values: mean
    // within 4/√64 = 0.5 of √ᾱ_T·mean(x₀) (≈ 0), variance within 4·√(2/63) = 0.71 of 1 (less the
    // x₀ part, √ᾱ_T² < 1e-4).
    let x0 = vec![0.5f32; 64];
    let x = pg
        .image_forward(x0.clone(), vec![0, 1000], 3)
        .await
        .unwrap()
        .to_vec();
    assert_eq!(&x[..64], &x0[..]);
    let xt = &x[64..];
    let mean = xt.iter().map(|v| *v as f64).sum::<f64>() / 64.0;
    let var = xt.iter().map(|v| (*v as f64 - mean).powi(2)).sum::<f64>() / 63.0;
    assert!(mean.abs() < 0.5 && (var - 1.0).abs() < 4.0 * (2.0f64 / 63.0).sqrt());

    // A grid of 4, three DDIM steps, read back asynchronously.
    let ddim = r#"{"kind": "ddim", "steps": 3, "eta": 0, "spacing": "leading"}"#;
    assert_eq!(pg.start_image_sampler(ddim, 4, 1, None).unwrap(), 3);
    let f = pg.image_steps(ImageRun::Grid, 0).await.unwrap();
    assert_eq!((f.remaining(), f.x().length()), (3, 4 * 64));
    let f = pg.image_steps(ImageRun::Grid, 5).await.unwrap();
    assert_eq!(f.remaining(), 0);
    let x = f.x().to_vec();
    assert!(x.iter().all(|v| v.is_finite()));

    // SDEdit from t₀ = 500: DDIM's leading steps are 666, 333, 0, so it starts at 333.
    let r = pg.start_sdedit(ddim, x0, 500, 2, 1).unwrap();
    assert_eq!(r, vec![2, 333]);
    let f = pg.image_steps(ImageRun::Edit, 1).await.unwrap();
    assert_eq!((f.t(), f.remaining()), (333, 1));
    // The grid's walk was not disturbed by the edit.
    let g = pg.image_steps(ImageRun::Grid, 0).await.unwrap();
    assert_eq!(g.x().to_vec(), x);
    let other = r#"{"kind": "langevin", "steps": 3, "step_size": 0.1}"#;
    assert!(message(pg.start_image_sampler(other, 4, 1, None).unwrap_err()).contains("langevin"));
}

/// The same weights and input on WebGPU and flex: float32 kernels that differ only in summation
/// order agree to ~1e-5 relative; 1e-3 of the output's scale is far above that and far below a
/// wrong kernel (a dropped attention head or a swapped axis moves outputs by O(1)).
#[wasm_bindgen_test]
async fn the_unet_agrees_on_webgpu_and_flex() {
    let (weights, _) = tiny_folder();
    let x: Vec<f32> = (0..2 * 64)
        .map(|i| ((i * 37) % 17) as f32 / 8.5 - 1.0)
        .collect();
    let mut out = Vec::new();
    for device in [gpu().await, Device::flex()] {
        let net = UNet2D::from_diffusers_bytes(tiny_config(), &weights, "tiny", &device).unwrap();
        let xt = Tensor::<4>::from_data(TensorData::new(x.clone(), [2, 1, 8, 8]), &device);
        let t = Tensor::<1>::from_data(TensorData::new(vec![10.0f32, 900.0], [2]), &device);
        out.push(read(net.forward(xt, t)).await);
    }
    let scale = out[1].iter().fold(0.0f32, |m, v| m.max(v.abs()));
    let err = out[0]
        .iter()
        .zip(&out[1])
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    assert!(scale > 0.01, "output scale {scale}");
    assert!(
        err < 1e-3 * scale,
        "webgpu vs flex: max |Δ| {err} at scale {scale}"
    );
}
