//! Class-conditional UNets and classifier-free guidance against
//! `../shared/reference/ref_class_cond`: a diffusers `UNet2DModel` with `num_class_embeds = 11`
//! (labels 0–9, and 10 the null label it was trained with by dropping 15% of labels). Its forward
//! with labels matches PyTorch's, and `dplay sample --labels --guidance 2.5` reproduces diffusers'
//! guided 10-step DDIM (`ε_∅ + 2.5 (ε_c − ε_∅)` at every step) within 1e-3: the reference was
//! trained until that map is well conditioned (x_T·(1+1e-6) moves it by 9.2e-6).
#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::path::{Path, PathBuf};

use burn::prelude::*;
use common::{dplay, max_abs_diff, path_arg as s};
use diffusion_playground::io::npy::{self, NpyValues};
use diffusion_playground::model::unet::UNet2D;

fn reference() -> PathBuf {
    common::reference_dir().join("ref_class_cond")
}

fn ints(name: &str) -> Vec<i64> {
    match npy::read(reference().join(name)).unwrap().0 {
        NpyValues::I64(v) => v,
        NpyValues::F32(_) => panic!("{name} is not int64"),
    }
}

#[test]
fn the_labelled_forward_matches_pytorch() {
    let device = Device::flex();
    let net = UNet2D::load_diffusers(reference(), &device).unwrap();
    assert_eq!(net.num_classes(), Some(11));
    let (x, shape) = npy::read_f32(reference().join("forward_x.npy")).unwrap();
    let t: Vec<f32> = ints("forward_t.npy").iter().map(|&v| v as f32).collect();
    let labels: Vec<usize> = ints("forward_labels.npy")
        .iter()
        .map(|&v| v as usize)
        .collect();
    let dims: [usize; 4] = shape.try_into().unwrap();
    let run = |labels: Option<&[usize]>| {
        net.try_forward_labelled(
            Tensor::<4>::from_data(TensorData::new(x.clone(), dims), &device),
            &t,
            labels,
        )
    };
    let got = run(Some(&labels))
        .unwrap()
        .into_data()
        .try_into_vec::<f32>()
        .unwrap();
    let want = npy::read_f32(reference().join("forward_out.npy"))
        .unwrap()
        .0;
    let diff = max_abs_diff(&got, &want);
    assert!(diff < 1e-4, "forward with labels: max |Δ| = {diff}");
    // Without labels, or with one out of range, it says what it needs.
    let e = run(None).unwrap_err().to_string();
    assert!(
        e.contains("class-conditional") && e.contains("label"),
        "{e}"
    );
    let e = run(Some(&[0, 1, 11])).unwrap_err().to_string();
    assert!(e.contains("11") && e.contains("0..10"), "{e}");
}

fn sample(extra: &[&str], out: &Path) -> std::process::Output {
    let mut args = vec![
        "sample".to_string(),
        "--model".into(),
        s(&reference()),
        "--sampler".into(),
        "ddim".into(),
        "--steps".into(),
        "10".into(),
        "--eta".into(),
        "0".into(),
        "--init".into(),
        s(&reference().join("ddim_xT.npy")),
        "--out".into(),
        s(out),
    ];
    args.extend(extra.iter().map(|x| x.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    dplay(&args)
}

#[test]
fn guided_ddim_matches_diffusers() {
    let d = common::scratch("class_guidance", "cfg");
    let labels: Vec<String> = ints("cfg_labels.npy")
        .iter()
        .map(|v| v.to_string())
        .collect();
    let labels = labels.join(",");
    let want = npy::read_f32(reference().join("cfg2.5_ddim10_x0.npy"))
        .unwrap()
        .0;
    let out = d.join("guided.npy");
    let r = sample(&["--labels", &labels, "--guidance", "2.5"], &out);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let diff = max_abs_diff(&npy::read_f32(&out).unwrap().0, &want);
    assert!(diff <= 1e-3, "guided DDIM: max |Δ| = {diff}");
    // The guidance matters at this tolerance: the conditional model alone (s = 1) lands elsewhere.
    let plain = d.join("conditional.npy");
    let r = sample(&["--labels", &labels], &plain);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let other = max_abs_diff(&npy::read_f32(&plain).unwrap().0, &want);
    assert!(other > 1e-2, "without guidance still within {other}");
}

#[test]
fn labels_and_guidance_are_checked_at_the_boundary() {
    let d = common::scratch("class_guidance", "errors");
    let out = d.join("x.npy");
    for (extra, parts) in [
        (vec![], vec!["class-conditional", "--labels"]),
        (vec!["--labels", "1,2"], vec!["2 labels for 3 images"]),
        (vec!["--labels", "12"], vec!["12", "0..10"]),
        (
            vec!["--labels", "1", "--guidance", "2", "--null-label", "11"],
            vec!["--null-label 11"],
        ),
    ] {
        let r = sample(&extra, &out);
        let err = String::from_utf8_lossy(&r.stderr);
        assert!(
            !r.status.success() && !err.contains("panicked"),
            "{extra:?}: {err}"
        );
        for p in parts {
            assert!(err.contains(p), "{extra:?}: '{err}' should mention '{p}'");
        }
    }
    // An unconditional UNet takes no labels.
    let r = dplay(&[
        "sample",
        "--model",
        &s(&common::reference_dir().join("ref_vpred")),
        "--labels",
        "1",
        "--n",
        "1",
        "--out",
        &s(&out),
    ]);
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(
        !r.status.success() && err.contains("class-conditional"),
        "{err}"
    );
}
