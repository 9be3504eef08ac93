//! Diffusers folders in and out: a bit-exact round trip, and every bad input ending in a one-line
//! error naming the problem (library and `dplay predict`), never a panic.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use burn::prelude::*;
use safetensors::tensor::{Dtype, TensorView};
use safetensors::SafeTensors;

use common::{assert_clean_error, dplay, path_arg as s};
use diffusion_playground::io::npy;
use diffusion_playground::io::weights::to_host;
use diffusion_playground::model::unet::{UNet2D, CONFIG_FILE, WEIGHTS_FILE};

fn reference() -> PathBuf {
    common::reference_dir().join("ref_small_unet")
}

type Tensors = BTreeMap<String, (Dtype, Vec<usize>, Vec<u8>)>;

fn read_tensors(path: &Path) -> Tensors {
    let bytes = std::fs::read(path).unwrap();
    let st = SafeTensors::deserialize(&bytes).unwrap();
    st.tensors()
        .into_iter()
        .map(|(n, v)| (n, (v.dtype(), v.shape().to_vec(), v.data().to_vec())))
        .collect()
}

fn write_tensors(path: &Path, t: &Tensors) {
    let views: Vec<(String, TensorView<'_>)> = t
        .iter()
        .map(|(n, (dt, sh, b))| (n.clone(), TensorView::new(*dt, sh.clone(), b).unwrap()))
        .collect();
    std::fs::write(path, safetensors::serialize(views, None).unwrap()).unwrap();
}

/// A copy of the reference folder in a scratch dir, with the weights and config edited.
fn variant(
    name: &str,
    edit_tensors: impl FnOnce(&mut Tensors),
    edit_config: impl FnOnce(&mut serde_json::Value),
) -> PathBuf {
    let d = common::scratch("unet_io", name);
    let mut t = read_tensors(&reference().join(WEIGHTS_FILE));
    edit_tensors(&mut t);
    write_tensors(&d.join(WEIGHTS_FILE), &t);
    let mut c: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(reference().join(CONFIG_FILE)).unwrap())
            .unwrap();
    edit_config(&mut c);
    std::fs::write(d.join(CONFIG_FILE), c.to_string()).unwrap();
    d
}

fn load_err(dir: &Path) -> String {
    match UNet2D::load_diffusers(dir, &Device::flex()) {
        Ok(_) => panic!("{} loaded, expected an error", dir.display()),
        Err(e) => e.to_string(),
    }
}

/// `dplay predict` on the reference inputs with the model in `dir`.
fn predict_with(dir: &Path, x: &Path, t: &Path) -> std::process::Output {
    let out = dir.join("y.npy");
    dplay(&[
        "predict",
        "--model",
        &s(dir),
        "--x",
        &s(x),
        "--t",
        &s(t),
        "--out",
        &s(&out),
    ])
}

fn ref_x() -> PathBuf {
    reference().join("forward_x.npy")
}
fn ref_t() -> PathBuf {
    reference().join("forward_t.npy")
}

/// A bad model folder fails in the library and in the CLI with `needles` in the message.
fn assert_bad_model(dir: &Path, needles: &[&str]) {
    let msg = load_err(dir);
    for n in needles {
        assert!(msg.contains(n), "'{msg}' should mention '{n}'");
    }
    assert_clean_error(&predict_with(dir, &ref_x(), &ref_t()), needles[0]);
}

#[test]
fn round_trip_is_bit_identical() {
    let dev = Device::flex();
    let net = UNet2D::load_diffusers(reference(), &dev).unwrap();
    let d = common::scratch("unet_io", "round_trip");
    net.save_diffusers(&d).unwrap();
    // The saved file holds exactly the reference's names, shapes and bytes (F32).
    let orig = read_tensors(&reference().join(WEIGHTS_FILE));
    let saved = read_tensors(&d.join(WEIGHTS_FILE));
    assert_eq!(
        orig.keys().collect::<BTreeSet<_>>(),
        saved.keys().collect::<BTreeSet<_>>()
    );
    for (name, (dt, shape, bytes)) in &orig {
        let (sdt, sshape, sbytes) = &saved[name];
        assert_eq!((dt, shape), (sdt, sshape), "{name}");
        assert!(bytes == sbytes, "{name}: bytes differ");
    }
    // The config keeps every key, diffusers' own included.
    let c: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join(CONFIG_FILE)).unwrap()).unwrap();
    assert_eq!(c["_class_name"], "UNet2DModel");
    assert_eq!(c["_diffusers_version"], "0.42.1");
    assert_eq!(c["block_out_channels"], serde_json::json!([32, 64, 64]));
    // Loading the saved folder gives the same tensors again.
    let again = UNet2D::load_diffusers(&d, &dev).unwrap();
    let a = to_host(net.named_tensors().unwrap()).unwrap();
    let b = to_host(again.named_tensors().unwrap()).unwrap();
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(&b) {
        assert_eq!((&x.name, &x.shape), (&y.name, &y.shape));
        assert!(
            x.values
                .iter()
                .zip(&y.values)
                .all(|(p, q)| p.to_bits() == q.to_bits()),
            "{}",
            x.name
        );
    }
}

#[test]
fn truncated_weights() {
    let d = variant("truncated", |_| {}, |_| {});
    let p = d.join(WEIGHTS_FILE);
    let bytes = std::fs::read(&p).unwrap();
    std::fs::write(&p, &bytes[..bytes.len() / 2]).unwrap();
    assert_bad_model(&d, &["not a valid safetensors file"]);
}

#[test]
fn corrupt_weights() {
    let d = variant("corrupt", |_| {}, |_| {});
    std::fs::write(
        d.join(WEIGHTS_FILE),
        b"\xff\xff\xff\xff\xff\xff\xff\x7fgarbage",
    )
    .unwrap();
    assert_bad_model(&d, &["not a valid safetensors file"]);
}

#[test]
fn missing_tensor() {
    let d = variant(
        "missing",
        |t| {
            t.remove("mid_block.attentions.0.to_k.weight");
        },
        |_| {},
    );
    assert_bad_model(&d, &["mid_block.attentions.0.to_k.weight", "missing"]);
}

#[test]
fn wrong_shape() {
    let d = variant(
        "shape",
        |t| {
            let e = t.get_mut("conv_in.weight").unwrap();
            e.1 = vec![32, 1, 9];
        },
        |_| {},
    );
    assert_bad_model(&d, &["conv_in.weight", "[32, 1, 9]", "[32, 1, 3, 3]"]);
}

#[test]
fn wrong_dtype() {
    let d = variant(
        "dtype",
        |t| {
            let e = t.get_mut("time_embedding.linear_1.bias").unwrap();
            // The same bytes as 64 F16 values: a half-precision checkpoint.
            e.0 = Dtype::F16;
            e.1 = vec![256];
        },
        |_| {},
    );
    assert_bad_model(&d, &["time_embedding.linear_1.bias", "F16"]);
}

#[test]
fn config_disagrees_with_weights() {
    // Wider first level: every tensor of it has the wrong shape; the first one checked is named.
    let d = variant(
        "wider",
        |_| {},
        |c| c["block_out_channels"] = serde_json::json!([64, 64, 64]),
    );
    assert_bad_model(&d, &["conv_in.weight", "[32, 1, 3, 3]", "[64, 1, 3, 3]"]);
    // More layers than the weights hold.
    let d = variant("deeper", |_| {}, |c| c["layers_per_block"] = 2.into());
    assert_bad_model(&d, &["down_blocks.0.resnets.1.norm1.weight", "missing"]);
    // Fewer attention blocks than the weights hold: tensors left over.
    let d = variant(
        "no_attn",
        |_| {},
        |c| c["up_block_types"] = serde_json::json!(["UpBlock2D", "UpBlock2D", "UpBlock2D"]),
    );
    assert_bad_model(&d, &["no place for", "up_blocks.1.attentions.0"]);
}

#[test]
fn unknown_block_type() {
    let d = variant(
        "block",
        |_| {},
        |c| {
            c["down_block_types"] =
                serde_json::json!(["DownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"])
        },
    );
    assert_bad_model(&d, &["CrossAttnDownBlock2D", "unknown down block type"]);
    let d = variant(
        "up_block",
        |_| {},
        |c| c["up_block_types"] = serde_json::json!(["UpBlock2D", "SkipUpBlock2D", "UpBlock2D"]),
    );
    assert_bad_model(&d, &["SkipUpBlock2D", "unknown up block type"]);
}

#[test]
fn unsupported_config_values() {
    let d = variant(
        "fourier",
        |_| {},
        |c| c["time_embedding_type"] = "fourier".into(),
    );
    assert_bad_model(&d, &["time_embedding_type 'fourier'"]);
    let d = variant("notjson", |_| {}, |_| {});
    std::fs::write(d.join(CONFIG_FILE), "{ not json").unwrap();
    assert_bad_model(&d, &["not a UNet2DModel config"]);
}

#[test]
fn bad_predict_inputs() {
    let r = reference();
    let d = common::scratch("unet_io", "inputs");
    let run = |x: &Path, t: &Path| {
        dplay(&[
            "predict",
            "--model",
            &s(&r),
            "--x",
            &s(x),
            "--t",
            &s(t),
            "--out",
            &s(&d.join("y.npy")),
        ])
    };
    let (x, xs) = npy::read_f32(ref_x()).unwrap();
    // x as int64.
    let xi = d.join("x_i64.npy");
    let xi64: Vec<i64> = x.iter().map(|v| *v as i64).collect();
    std::fs::write(&xi, npy_raw("<i8", &i64_bytes(&xi64), &xs)).unwrap();
    assert_clean_error(
        &run(&xi, &ref_t()),
        "holds int64; expected float32 [N, C, H, W]",
    );
    // x of rank 3.
    let x3 = d.join("x3.npy");
    npy::write_f32(&x3, &x, &[4, 28, 28]).unwrap();
    assert_clean_error(&run(&x3, &ref_t()), "has shape [4, 28, 28]");
    // Wrong channel count, and a size the UNet cannot halve twice.
    let t1 = d.join("t1.npy");
    std::fs::write(&t1, npy_raw("<i8", &i64_bytes(&[10]), &[1])).unwrap();
    let x2c = d.join("x2c.npy");
    npy::write_f32(&x2c, &x[..2 * 784], &[1, 2, 28, 28]).unwrap();
    assert_clean_error(&run(&x2c, &t1), "the UNet takes [N, 1, H, W]");
    let odd = d.join("odd.npy");
    npy::write_f32(&odd, &x[..30 * 30], &[1, 1, 30, 30]).unwrap();
    assert_clean_error(&run(&odd, &t1), "multiples of 4");
    // t of the wrong length, rank and dtype.
    let t3 = d.join("t3.npy");
    std::fs::write(&t3, npy_raw("<i8", &i64_bytes(&[1, 2, 3]), &[3])).unwrap();
    assert_clean_error(&run(&ref_x(), &t3), "expected [4]");
    let t22 = d.join("t22.npy");
    npy::write_f32(&t22, &[1.0, 2.0, 3.0, 4.0], &[2, 2]).unwrap();
    assert_clean_error(&run(&ref_x(), &t22), "has shape [2, 2]");
    let ti32 = d.join("t_i32.npy");
    let i32s: Vec<u8> = [1i32, 2, 3, 4]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    std::fs::write(&ti32, npy_raw("<i4", &i32s, &[4])).unwrap();
    assert_clean_error(&run(&ref_x(), &ti32), "unsupported dtype");
    // A folder that is not a diffusers model.
    let out = dplay(&[
        "predict",
        "--model",
        &s(&d),
        "--x",
        &s(&ref_x()),
        "--t",
        &s(&ref_t()),
        "--out",
        &s(&d.join("y.npy")),
    ]);
    assert_clean_error(&out, "not a diffusers UNet2DModel folder");
}

fn i64_bytes(v: &[i64]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// A `.npy` (format 1.0, C order) of dtype `descr` holding `data`.
fn npy_raw(descr: &str, data: &[u8], shape: &[usize]) -> Vec<u8> {
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    let shape_txt = if dims.len() == 1 {
        format!("({},)", dims[0])
    } else {
        format!("({})", dims.join(", "))
    };
    let mut header =
        format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape_txt}, }}");
    let total = 10 + header.len() + 1;
    header.push_str(&" ".repeat((64 - total % 64) % 64));
    header.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(data);
    out
}

#[test]
fn bad_sample_inputs() {
    let r = reference();
    let d = common::scratch("unet_io", "sample_inputs");
    let run = |init: &Path| {
        dplay(&[
            "sample",
            "--model",
            &s(&r),
            "--sampler",
            "ddim",
            "--steps",
            "2",
            "--init",
            &s(init),
            "--out",
            &s(&d.join("x0.npy")),
        ])
    };
    let (x, _) = npy::read_f32(reference().join("ddim_xT.npy")).unwrap();
    // Flat rows, as for the 2-D models, are not images.
    let flat = d.join("flat.npy");
    npy::write_f32(&flat, &x, &[4, 784]).unwrap();
    assert_clean_error(
        &run(&flat),
        "has shape [4, 784]; expected float32 [N, C, H, W]",
    );
    // Three channels for a one-channel UNet.
    let rgb = d.join("rgb.npy");
    npy::write_f32(&rgb, &x[..3 * 784], &[1, 3, 28, 28]).unwrap();
    assert_clean_error(&run(&rgb), "has 3 channels; the UNet takes 1");
    // A non-finite start.
    let mut bad = x.clone();
    bad[5] = f32::NAN;
    let nan = d.join("nan.npy");
    npy::write_f32(&nan, &bad, &[4, 1, 28, 28]).unwrap();
    assert_clean_error(&run(&nan), "non-finite value");
}
