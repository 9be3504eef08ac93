//! Every boundary refuses bad input cleanly: a table of bad requests across all `dplay`
//! subcommands and every file format they read (absurd numbers, NaN and Inf, wrong types,
//! truncated, lying and oversized files, wrong shapes, missing files). Each case must end within
//! [`BOUND`] with status 1 and an `error:` line, show no panic or backtrace, and leave no output
//! that is not finite (here: no output at all).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{repo_path, scratch};
use diffusion_playground::io::npy;

/// A refusal comes before any real work: even the debug binary on 2 busy cores answers each of
/// these in well under a second; 60 s is a hang.
const BOUND: Duration = Duration::from_secs(60);

/// One bad request: its arguments, a phrase its error must contain ("" for any), and the output
/// it must not leave behind.
struct Case {
    name: String,
    args: Vec<String>,
    needle: &'static str,
    out: Option<PathBuf>,
}

/// What a case did.
struct Outcome {
    status: Option<i32>,
    stderr: String,
    elapsed: Duration,
}

fn run(case: &Case) -> Outcome {
    let start = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_dplay"))
        .args(&case.args)
        .env("RUST_BACKTRACE", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn dplay");
    let mut err = child.stderr.take().expect("piped");
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut err, &mut s);
        s
    });
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s.code();
        }
        if start.elapsed() > BOUND {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    Outcome {
        status,
        stderr: reader.join().unwrap_or_default(),
        elapsed: start.elapsed(),
    }
}

/// The case's failures, empty if it was refused cleanly.
fn judge(case: &Case, o: &Outcome) -> Vec<String> {
    let mut bad = Vec::new();
    if o.elapsed > BOUND {
        bad.push(format!("hung (killed after {:?})", o.elapsed));
    }
    if o.status != Some(1) {
        bad.push(format!("exit status {:?}, not 1", o.status));
    }
    if !o.stderr.lines().any(|l| l.starts_with("error: ")) {
        bad.push("no `error:` line".into());
    }
    for marker in ["panicked", "backtrace", "RUST_BACKTRACE", "internal error"] {
        if o.stderr.contains(marker) {
            bad.push(format!("shows a panic ({marker})"));
        }
    }
    if !o.stderr.contains(case.needle) {
        bad.push(format!("the error does not mention '{}'", case.needle));
    }
    if let Some(out) = &case.out {
        let leftover = match out.extension() {
            None => out.join("model.safetensors"),
            Some(_) => out.clone(),
        };
        if leftover.exists() {
            bad.push(format!("left {} behind", leftover.display()));
        }
    }
    bad
}

/// The fixtures: bad files of every format, each next to a good one of the same kind.
struct Fixtures {
    dir: PathBuf,
}

impl Fixtures {
    fn path(&self, name: &str) -> String {
        self.dir.join(name).to_str().unwrap().to_string()
    }

    fn write(&self, name: &str, bytes: &[u8]) -> String {
        let p = self.dir.join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, bytes).unwrap();
        p.to_str().unwrap().to_string()
    }

    fn npy(&self, name: &str, values: &[f32], shape: &[usize]) -> String {
        self.write(name, &npy::encode_f32(values, shape))
    }

    /// A `.npy` with `header` as its dict and `data` after it.
    fn npy_raw(&self, name: &str, header: &str, data: &[u8]) -> String {
        let mut h = header.to_string();
        let total = 10 + h.len() + 1;
        h.push_str(&" ".repeat((64 - total % 64) % 64));
        h.push('\n');
        let mut b = b"\x93NUMPY\x01\x00".to_vec();
        b.extend_from_slice(&(h.len() as u16).to_le_bytes());
        b.extend_from_slice(h.as_bytes());
        b.extend_from_slice(data);
        self.write(name, &b)
    }

    /// A copy of folder `from` with `edit` applied to it.
    fn folder(&self, name: &str, from: &Path, edit: impl FnOnce(&Path)) -> String {
        let to = self.dir.join(name);
        std::fs::create_dir_all(&to).unwrap();
        for e in std::fs::read_dir(from).unwrap() {
            let e = e.unwrap();
            if e.file_type().unwrap().is_file() {
                std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
            }
        }
        edit(&to);
        to.to_str().unwrap().to_string()
    }
}

fn truncate(p: &Path, keep: usize) {
    let b = std::fs::read(p).unwrap();
    std::fs::write(p, &b[..keep.min(b.len())]).unwrap();
}

fn edit_json(p: &Path, f: impl FnOnce(&mut serde_json::Value)) {
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap();
    f(&mut v);
    std::fs::write(p, v.to_string()).unwrap();
}

/// A tiny valid PNG, `w × h` grey.
fn png_bytes(w: u32, h: u32) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, w, h);
        enc.set_color(png::ColorType::Grayscale);
        enc.set_depth(png::BitDepth::Eight);
        let mut wr = enc.write_header().unwrap();
        wr.write_image_data(&vec![128u8; (w * h) as usize]).unwrap();
    }
    out
}

fn cases(fx: &Fixtures, outs: &Path) -> Vec<Case> {
    let mut v: Vec<Case> = Vec::new();
    let mut add = |name: &str, args: &[&str], needle: &'static str| {
        let out = outs.join(name.replace([' ', '/'], "_"));
        let mut args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        // A case's `OUT` becomes its own output path, which must not exist afterwards.
        let mut used = None;
        for a in &mut args {
            if a == "OUT.npy" || a == "OUT" {
                let p = if a == "OUT" {
                    out.clone()
                } else {
                    out.with_extension("npy")
                };
                *a = p.to_str().unwrap().to_string();
                used = Some(p);
            }
        }
        v.push(Case {
            name: name.to_string(),
            args,
            needle,
            out: used,
        });
    };
    let mix = repo_path("data/mixture3.json");
    let mix = mix.to_str().unwrap();
    let moons = repo_path("www/weights/ddpm_moons");
    let unet = common::reference_dir().join("ref_small_unet");
    let judge = repo_path("data/digit_classifier");
    let judge = judge.to_str().unwrap();

    // npy files
    let x_nan = fx.npy("x_nan.npy", &[f32::NAN, 0.0, 0.0, 0.0], &[2, 2]);
    let x_inf = fx.npy("x_inf.npy", &[f32::INFINITY, 0.0, 0.0, 0.0], &[2, 2]);
    let x_3col = fx.npy("x_3col.npy", &[0.0; 12], &[4, 3]);
    let x_1d = fx.npy("x_1d.npy", &[0.0; 4], &[4]);
    let x_5d = fx.npy("x_5d.npy", &[0.0; 2], &[1, 1, 1, 1, 2]);
    let x_empty = fx.npy("x_empty.npy", &[], &[0, 2]);
    let x_trunc = fx.npy("x_trunc.npy", &[0.5; 200], &[100, 2]);
    truncate(Path::new(&x_trunc), 300);
    let x_lying = fx.npy_raw(
        "x_lying.npy",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000000, 2), }",
        &[0u8; 16],
    );
    let x_overflow = fx.npy_raw(
        "x_overflow.npy",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (18446744073709551615, 18446744073709551615), }",
        &[0u8; 16],
    );
    let x_negshape = fx.npy_raw(
        "x_negshape.npy",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (-1, 2), }",
        &[0u8; 16],
    );
    let x_complex = fx.npy_raw(
        "x_complex.npy",
        "{'descr': '<c8', 'fortran_order': False, 'shape': (2, 2), }",
        &[0u8; 32],
    );
    let x_bigendian = fx.npy_raw(
        "x_bigendian.npy",
        "{'descr': '>f4', 'fortran_order': False, 'shape': (2, 2), }",
        &[0u8; 16],
    );
    let x_fortran = fx.npy_raw(
        "x_fortran.npy",
        "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }",
        &[0u8; 16],
    );
    let x_garbled = fx.npy_raw(
        "x_garbled.npy",
        "{'descr': '<f4', 'shape': (2, ",
        &[0u8; 16],
    );
    let mut hdr = b"\x93NUMPY\x01\x00\xff\xff{".to_vec();
    hdr.extend_from_slice(&[b' '; 20]);
    let x_hdrlen = fx.write("x_hdrlen.npy", &hdr);
    let x_text = fx.write("x_text.npy", b"0.5, 1.0\n2.0, 3.0\n");
    let x_zero = fx.write("x_zero.npy", b"");
    let img_nan = fx.npy("img_nan.npy", &[f32::NAN; 1024], &[1, 1, 32, 32]);
    let img_c3 = fx.npy("img_c3.npy", &[0.0; 3 * 1024], &[1, 3, 32, 32]);
    let img_ok = fx.npy("img_ok.npy", &[0.0; 1024], &[1, 1, 32, 32]);
    let t_two = fx.npy("t_two.npy", &[1.0, 2.0], &[2]);
    let t_nan = fx.npy("t_nan.npy", &[f32::NAN], &[1]);
    let t_one = fx.npy("t_one.npy", &[10.0], &[1]);
    let x_ok = fx.npy("x_ok.npy", &[0.0; 4], &[2, 2]);

    // mixture JSON
    let m = |name: &str, text: &str| fx.write(name, text.as_bytes());
    let good_covs = "[[[1,0],[0,1]],[[1,0],[0,1]]]";
    let m_malformed = m("m_malformed.json", "{\"weights\": [0.5, 0.5],");
    let m_empty = m("m_empty.json", "");
    let m_negw = m(
        "m_negw.json",
        &format!("{{\"weights\": [1.5, -0.5], \"means\": [[0,0],[1,1]], \"covs\": {good_covs}}}"),
    );
    let m_zerow = m(
        "m_zerow.json",
        &format!("{{\"weights\": [0, 0], \"means\": [[0,0],[1,1]], \"covs\": {good_covs}}}"),
    );
    let m_notpd = m(
        "m_notpd.json",
        "{\"weights\": [1], \"means\": [[0,0]], \"covs\": [[[1,2],[2,1]]]}",
    );
    let m_asym = m(
        "m_asym.json",
        "{\"weights\": [1], \"means\": [[0,0]], \"covs\": [[[1,0.5],[0,1]]]}",
    );
    let m_dims = m(
        "m_dims.json",
        &format!("{{\"weights\": [0.5, 0.5], \"means\": [[0,0],[1,1,1]], \"covs\": {good_covs}}}"),
    );
    let m_counts = m(
        "m_counts.json",
        &format!("{{\"weights\": [0.5, 0.5], \"means\": [[0,0]], \"covs\": {good_covs}}}"),
    );
    let m_none = m(
        "m_none.json",
        "{\"weights\": [], \"means\": [], \"covs\": []}",
    );
    let m_huge = m(
        "m_huge.json",
        "{\"weights\": [1], \"means\": [[1e308, 1e308]], \"covs\": [[[1e308,0],[0,1e308]]]}",
    );
    let m_string = m(
        "m_string.json",
        &format!("{{\"weights\": [\"a\", 0.5], \"means\": [[0,0],[1,1]], \"covs\": {good_covs}}}"),
    );
    let m_nan = m(
        "m_nan.json",
        &format!("{{\"weights\": [NaN, 0.5], \"means\": [[0,0],[1,1]], \"covs\": {good_covs}}}"),
    );
    let m_missing = m("m_missing.json", "{\"weights\": [1], \"means\": [[0,0]]}");
    let m_dim0 = m(
        "m_dim0.json",
        "{\"weights\": [1], \"means\": [[]], \"covs\": [[]]}",
    );
    let m_deep = m("m_deep.json", &("[".repeat(100_000) + &"]".repeat(100_000)));
    let m_array = m("m_array.json", "[1, 2, 3]");
    let mut big = vec![b' '; 16 << 20];
    big.push(b'{');
    let m_big = fx.write("m_big.json", &big);

    // CSV points
    let p_ragged = fx.write("p_ragged.csv", b"1,2\n3\n4,5\n");
    let p_text = fx.write("p_text.csv", b"1,2\nx,y\n");
    let p_nan = fx.write("p_nan.csv", b"1,2\nnan,1\n");
    let p_inf = fx.write("p_inf.csv", b"1,2\ninf,1\n");
    let p_empty = fx.write("p_empty.csv", b"");

    // images: IDX, CIFAR, PNG folders
    let mut idx = vec![0, 0, 8, 3, 0, 0, 0, 10, 0, 0, 0, 28, 0, 0, 0, 28];
    idx.extend_from_slice(&[0u8; 100]);
    let i_trunc = fx.write("i_trunc.idx", &idx);
    let i_magic = fx.write("i_magic.idx", &[1, 2, 3, 4, 0, 0, 0, 1, 0, 0, 0, 1, 0]);
    let i_lying = fx.write(
        "i_lying.idx",
        &[
            0, 0, 8, 3, 0x7f, 0xff, 0xff, 0xff, 0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 2, 0,
        ],
    );
    let c_bad = fx.write("c_bad.bin", &[0u8; 1000]);
    std::fs::create_dir_all(fx.dir.join("png_empty")).unwrap();
    let png_empty = fx.path("png_empty");
    fx.write("png_fake/a.png", b"not a png");
    let png_fake = fx.path("png_fake");
    let mut p = png_bytes(8, 8);
    p.truncate(p.len() / 2);
    fx.write("png_trunc/a.png", &p);
    let png_trunc = fx.path("png_trunc");
    fx.write("png_mixed/a.png", &png_bytes(8, 8));
    fx.write("png_mixed/b.png", &png_bytes(16, 16));
    let png_mixed = fx.path("png_mixed");
    fx.write("png_ok/a.png", &png_bytes(8, 8));
    fx.write("png_ok/b.png", &png_bytes(8, 8));
    let png_ok = fx.path("png_ok");
    let grid_fake = fx.write("grid_fake.png", b"\x89PNG\r\n\x1a\nnonsense");
    let grid_small = fx.write("grid_small.png", &png_bytes(5, 5));

    // model folders: the shipped moons MLP and the reference UNet, damaged
    std::fs::create_dir_all(fx.dir.join("mdl_empty")).unwrap();
    let mdl_empty = fx.path("mdl_empty");
    let mdl_badcfg = fx.folder("mdl_badcfg", &moons, |d| {
        std::fs::write(d.join("config.json"), "{").unwrap()
    });
    let mdl_trunc = fx.folder("mdl_trunc", &moons, |d| {
        truncate(&d.join("model.safetensors"), 1000)
    });
    let mdl_lying = fx.folder("mdl_lying", &moons, |d| {
        let p = d.join("model.safetensors");
        let mut b = std::fs::read(&p).unwrap();
        b[..8].copy_from_slice(&u64::MAX.to_le_bytes());
        std::fs::write(p, b).unwrap();
    });
    let mdl_shape = fx.folder("mdl_shape", &moons, |d| {
        edit_json(&d.join("config.json"), |v| {
            v["train"]["model"]["hidden"] = 64.into();
        })
    });
    let mdl_nanw = fx.folder("mdl_nanw", &moons, |d| {
        let p = d.join("model.safetensors");
        let mut b = std::fs::read(&p).unwrap();
        let n = b.len();
        b[n - 4..].copy_from_slice(&f32::NAN.to_le_bytes());
        std::fs::write(p, b).unwrap();
    });
    let unet_badcfg = fx.folder("unet_badcfg", &unet, |d| {
        edit_json(&d.join("config.json"), |v| {
            v["block_out_channels"] = serde_json::json!([]);
        })
    });
    let unet_huge = fx.folder("unet_huge", &unet, |d| {
        edit_json(&d.join("config.json"), |v| {
            v["sample_size"] = 100_000.into();
        })
    });
    let unet_trunc = fx.folder("unet_trunc", &unet, |d| {
        truncate(&d.join("diffusion_pytorch_model.safetensors"), 5000)
    });
    let unet_sched = fx.folder("unet_sched", &unet, |d| {
        std::fs::write(
            d.join("scheduler_config.json"),
            "{\"num_train_timesteps\": ",
        )
        .unwrap()
    });
    let unet_pred = fx.folder("unet_pred", &unet, |d| {
        std::fs::write(
            d.join("scheduler_config.json"),
            "{\"prediction_type\": \"noise\"}",
        )
        .unwrap()
    });
    let unet_t0 = fx.folder("unet_t0", &unet, |d| {
        std::fs::write(
            d.join("scheduler_config.json"),
            "{\"num_train_timesteps\": 0}",
        )
        .unwrap()
    });
    let unet_blocks = fx.folder("unet_blocks", &unet, |d| {
        edit_json(&d.join("config.json"), |v| {
            v["down_block_types"] =
                serde_json::json!(["NoSuchBlock2D", "DownBlock2D", "DownBlock2D"]);
        })
    });

    // run configs
    let cfg_bad = fx.write("cfg_bad.json", b"{\"data\": ");
    let cfg_unknown = fx.write("cfg_unknown.json", b"{\"data\": \"moons\", \"stepz\": 5}");
    let cfg_type = fx.write(
        "cfg_type.json",
        b"{\"data\": \"moons\", \"steps\": \"many\"}",
    );
    let spec_bad = "{\"kind\": \"ddim\", \"steps\": 10";
    let spec_unknown = "{\"kind\": \"warp-drive\"}";
    let spec_field =
        "{\"kind\": \"ddim\", \"steps\": 10, \"eta\": 0, \"spacing\": \"leading\", \"speed\": 1}";

    let nowhere = fx.path("does/not/exist");
    let missing_json = fx.path("missing.json");
    let missing_npy = fx.path("missing.npy");

    // --- dplay sample: the oracle's and the samplers' numbers
    let s = |extra: &[&str]| -> Vec<String> {
        let mut a = vec!["sample", "--data", mix];
        a.extend_from_slice(extra);
        a.extend_from_slice(&["--out", "OUT.npy"]);
        a.into_iter().map(String::from).collect()
    };
    let sample_cases: Vec<(&str, Vec<&str>, &'static str)> = vec![
        ("sample n 0", vec!["--n", "0"], "--n"),
        ("sample n negative", vec!["--n=-5"], ""),
        ("sample n fraction", vec!["--n", "1.5"], ""),
        ("sample n text", vec!["--n", "many"], ""),
        (
            "sample n absurd",
            vec!["--n", "100000000000"],
            "free on its file system",
        ),
        (
            "sample n overflow",
            vec!["--n", "99999999999999999999999"],
            "",
        ),
        ("sample steps 0", vec!["--steps", "0"], "--steps"),
        (
            "sample steps absurd",
            vec!["--steps", "1000000000"],
            "needs about",
        ),
        (
            "sample edm steps absurd",
            vec!["--sampler", "edm", "--steps", "1000000000000"],
            "needs about",
        ),
        (
            "sample pc steps absurd",
            vec![
                "--sampler",
                "pc",
                "--steps",
                "100000000",
                "--corrector-steps",
                "1000",
            ],
            "needs about",
        ),
        ("sample chunk 0", vec!["--chunk", "0"], "--chunk"),
        (
            "sample unknown sampler",
            vec!["--sampler", "warp"],
            "unknown sampler",
        ),
        (
            "sample eps nan",
            vec!["--sampler", "langevin", "--eps", "nan"],
            "--eps",
        ),
        (
            "sample eps inf",
            vec!["--sampler", "langevin", "--eps", "inf"],
            "--eps",
        ),
        (
            "sample eps negative",
            vec!["--sampler", "langevin", "--eps", "-1"],
            "--eps",
        ),
        (
            "sample langevin diverges",
            vec!["--sampler", "langevin", "--eps", "10", "--n", "50"],
            "non-finite",
        ),
        ("sample eta 2", vec!["--sampler", "ddim", "--eta", "2"], "η"),
        (
            "sample eta nan",
            vec!["--sampler", "ddim", "--eta", "nan"],
            "eta",
        ),
        (
            "sample spacing unknown",
            vec!["--sampler", "ddim", "--spacing", "sideways"],
            "",
        ),
        (
            "sample order 7",
            vec!["--sampler", "dpm-solver-pp", "--order", "7"],
            "order",
        ),
        (
            "sample rho negative",
            vec!["--sampler", "edm", "--rho", "-1"],
            "ρ",
        ),
        (
            "sample churn nan",
            vec!["--sampler", "edm", "--s-churn", "nan"],
            "",
        ),
        (
            "sample s_noise inf",
            vec!["--sampler", "edm", "--s-noise", "inf"],
            "",
        ),
        (
            "sample t_end 2",
            vec!["--sampler", "ode", "--t-end", "2"],
            "",
        ),
        (
            "sample t_end nan",
            vec!["--sampler", "euler-maruyama", "--t-end", "nan"],
            "",
        ),
        (
            "sample snr negative",
            vec!["--sampler", "pc", "--snr", "-0.1"],
            "",
        ),
        (
            "sample clip 0",
            vec!["--sampler", "ddim", "--clip", "0"],
            "--clip",
        ),
        (
            "sample clip nan",
            vec!["--sampler", "ddim", "--clip", "nan"],
            "--clip",
        ),
        (
            "sample sigma order",
            vec!["--process", "ve", "--sigma-min", "5", "--sigma-max", "1"],
            "sigma",
        ),
        (
            "sample sigma nan",
            vec!["--process", "ve", "--sigma-min", "nan", "--sigma-max", "1"],
            "sigma",
        ),
        (
            "sample levels 1",
            vec!["--process", "ve", "--levels", "1"],
            "levels",
        ),
        (
            "sample levels absurd",
            vec!["--process", "ve", "--levels", "10000000000"],
            "needs about",
        ),
        ("sample beta nan", vec!["--beta-min", "nan"], ""),
        (
            "sample beta order",
            vec!["--beta-min", "30", "--beta-max", "1"],
            "",
        ),
        (
            "sample flow em",
            vec!["--process", "flow", "--sampler", "euler-maruyama"],
            "singular",
        ),
        (
            "sample option of another sampler",
            vec!["--sampler", "ddim", "--snr", "0.1"],
            "not an option",
        ),
        ("sample spec malformed", vec!["--spec", spec_bad], ""),
        ("sample spec unknown kind", vec!["--spec", spec_unknown], ""),
        ("sample spec unknown field", vec!["--spec", spec_field], ""),
        (
            "sample spec missing file",
            vec!["--spec", "/no/such/spec.json"],
            "",
        ),
        (
            "sample process-spec malformed",
            vec!["--process-spec", "{\"kind\": \"ve\""],
            "",
        ),
        ("sample init nan", vec!["--init", &x_nan], "non-finite"),
        ("sample init inf", vec!["--init", &x_inf], "non-finite"),
        ("sample init columns", vec!["--init", &x_3col], "columns"),
        ("sample init 1-D", vec!["--init", &x_1d], "shape"),
        ("sample init 5-D", vec!["--init", &x_5d], "shape"),
        ("sample init empty", vec!["--init", &x_empty], ""),
        ("sample init truncated", vec!["--init", &x_trunc], ""),
        ("sample init lying shape", vec!["--init", &x_lying], ""),
        (
            "sample init overflowing shape",
            vec!["--init", &x_overflow],
            "",
        ),
        (
            "sample init negative shape",
            vec!["--init", &x_negshape],
            "",
        ),
        ("sample init complex", vec!["--init", &x_complex], ""),
        ("sample init big-endian", vec!["--init", &x_bigendian], ""),
        ("sample init fortran", vec!["--init", &x_fortran], ""),
        ("sample init garbled header", vec!["--init", &x_garbled], ""),
        ("sample init header length", vec!["--init", &x_hdrlen], ""),
        ("sample init text", vec!["--init", &x_text], ""),
        ("sample init empty file", vec!["--init", &x_zero], ""),
        (
            "sample init missing",
            vec!["--init", &missing_npy],
            "missing.npy",
        ),
        (
            "sample init n disagrees",
            vec!["--init", &x_ok, "--n", "5"],
            "",
        ),
        ("sample guidance without unet", vec!["--guidance", "3"], ""),
    ];
    for (name, extra, needle) in sample_cases {
        let a = s(&extra);
        let refs: Vec<&str> = a.iter().map(String::as_str).collect();
        add(name, &refs, needle);
    }
    add(
        "sample out is a folder",
        &["sample", "--data", mix, "--out", &fx.dir.to_string_lossy()],
        "",
    );
    add(
        "sample out in a missing folder",
        &[
            "sample",
            "--data",
            mix,
            "--out",
            &format!("{nowhere}/x.npy"),
        ],
        "",
    );
    add("sample no source", &["sample", "--out", "OUT.npy"], "");
    add(
        "sample both sources",
        &[
            "sample",
            "--data",
            mix,
            "--model",
            moons.to_str().unwrap(),
            "--out",
            "OUT.npy",
        ],
        "",
    );
    for (name, file, needle) in [
        ("mixture malformed", &m_malformed, ""),
        ("mixture empty file", &m_empty, ""),
        ("mixture negative weight", &m_negw, ""),
        ("mixture zero weights", &m_zerow, ""),
        ("mixture not positive definite", &m_notpd, ""),
        ("mixture asymmetric covariance", &m_asym, ""),
        ("mixture dimensions disagree", &m_dims, ""),
        ("mixture counts disagree", &m_counts, ""),
        ("mixture no components", &m_none, ""),
        ("mixture overflowing numbers", &m_huge, ""),
        ("mixture string weight", &m_string, ""),
        ("mixture NaN literal", &m_nan, ""),
        ("mixture missing field", &m_missing, ""),
        ("mixture zero dimensions", &m_dim0, ""),
        ("mixture nested 100000 deep", &m_deep, ""),
        ("mixture an array", &m_array, ""),
        ("mixture 16 MiB of spaces", &m_big, ""),
        ("mixture missing", &missing_json, "missing.json"),
    ] {
        add(
            &format!("sample {name}"),
            &["sample", "--data", file, "--n", "10", "--out", "OUT.npy"],
            needle,
        );
    }
    add(
        "likelihood mixture not positive definite",
        &[
            "likelihood",
            "--data",
            &m_notpd,
            "--n",
            "4",
            "--out",
            "OUT.npy",
        ],
        "",
    );
    add(
        "train mixture negative weight",
        &["train", "--data", &m_negw, "--steps", "2", "--out", "OUT"],
        "",
    );

    // --- model folders
    for (name, dir) in [
        ("missing", nowhere.as_str()),
        ("empty", mdl_empty.as_str()),
        ("bad config", mdl_badcfg.as_str()),
        ("truncated weights", mdl_trunc.as_str()),
        ("lying safetensors header", mdl_lying.as_str()),
        ("weights of another shape", mdl_shape.as_str()),
        ("unet bad config", unet_badcfg.as_str()),
        ("unet huge sample size", unet_huge.as_str()),
        ("unet truncated weights", unet_trunc.as_str()),
        ("unet bad scheduler config", unet_sched.as_str()),
        ("unet unknown prediction type", unet_pred.as_str()),
        ("unet zero timesteps", unet_t0.as_str()),
        ("unet unknown block", unet_blocks.as_str()),
    ] {
        add(
            &format!("sample model {name}"),
            &["sample", "--model", dir, "--n", "2", "--out", "OUT.npy"],
            "",
        );
    }
    add(
        "sample model non-finite weights",
        &[
            "sample", "--model", &mdl_nanw, "--n", "20", "--out", "OUT.npy",
        ],
        "",
    );
    add(
        "likelihood model truncated",
        &[
            "likelihood",
            "--model",
            &mdl_trunc,
            "--n",
            "4",
            "--out",
            "OUT.npy",
        ],
        "",
    );
    let u = unet.to_str().unwrap();
    add(
        "sample unet labels on unconditional",
        &[
            "sample", "--model", u, "--labels", "3", "--n", "2", "--out", "OUT.npy",
        ],
        "class-conditional",
    );
    add(
        "sample unet init channels",
        &[
            "sample", "--model", u, "--init", &img_c3, "--out", "OUT.npy",
        ],
        "channels",
    );
    add(
        "sample unet init nan",
        &[
            "sample", "--model", u, "--init", &img_nan, "--out", "OUT.npy",
        ],
        "",
    );
    add(
        "sample unet init points",
        &[
            "sample", "--model", u, "--init", &x_3col, "--out", "OUT.npy",
        ],
        "",
    );

    // --- predict
    add(
        "predict x nan",
        &[
            "predict", "--model", u, "--x", &img_nan, "--t", &t_two, "--out", "OUT.npy",
        ],
        "",
    );
    add(
        "predict t length",
        &[
            "predict", "--model", u, "--x", &img_ok, "--t", &t_two, "--out", "OUT.npy",
        ],
        "",
    );
    add(
        "predict t nan",
        &[
            "predict", "--model", u, "--x", &img_ok, "--t", &t_nan, "--out", "OUT.npy",
        ],
        "non-finite",
    );
    add(
        "predict x channels",
        &[
            "predict", "--model", u, "--x", &img_c3, "--t", &t_one, "--out", "OUT.npy",
        ],
        "",
    );
    add(
        "predict x truncated",
        &[
            "predict", "--model", u, "--x", &x_trunc, "--t", &t_one, "--out", "OUT.npy",
        ],
        "",
    );
    add(
        "predict model missing",
        &[
            "predict", "--model", &nowhere, "--x", &img_ok, "--t", &t_one, "--out", "OUT.npy",
        ],
        "",
    );
    add(
        "predict model is an MLP",
        &[
            "predict",
            "--model",
            moons.to_str().unwrap(),
            "--x",
            &img_ok,
            "--t",
            &t_one,
            "--out",
            "OUT.npy",
        ],
        "",
    );

    // --- likelihood
    let l = |extra: &[&str]| -> Vec<String> {
        let mut a = vec!["likelihood", "--data", mix];
        a.extend_from_slice(extra);
        a.extend_from_slice(&["--out", "OUT.npy"]);
        a.into_iter().map(String::from).collect()
    };
    for (name, extra, needle) in [
        ("likelihood rtol 0", vec!["--n", "4", "--rtol", "0"], ""),
        ("likelihood atol nan", vec!["--n", "4", "--atol", "nan"], ""),
        (
            "likelihood t_end 1.5",
            vec!["--n", "4", "--t-end", "1.5"],
            "",
        ),
        ("likelihood probes 0", vec!["--n", "4", "--probes", "0"], ""),
        (
            "likelihood max_nfe 0",
            vec!["--n", "4", "--max-nfe", "0"],
            "",
        ),
        (
            "likelihood max_nfe too few",
            vec![
                "--n",
                "4",
                "--max-nfe",
                "10",
                "--rtol",
                "1e-9",
                "--atol",
                "1e-9",
            ],
            "",
        ),
        ("likelihood n absurd", vec!["--n", "100000000000"], ""),
        ("likelihood x nan", vec!["--x", &x_nan], "non-finite"),
        ("likelihood x columns", vec!["--x", &x_3col], ""),
        ("likelihood x lying", vec!["--x", &x_lying], ""),
        ("likelihood x and n", vec!["--x", &x_inf, "--n", "3"], ""),
        (
            "likelihood sigma order",
            vec![
                "--n",
                "4",
                "--process",
                "ve",
                "--sigma-min",
                "2",
                "--sigma-max",
                "1",
            ],
            "",
        ),
        ("likelihood bpd on points", vec!["--n", "4", "--bpd"], ""),
    ] {
        let a = l(&extra);
        let refs: Vec<&str> = a.iter().map(String::as_str).collect();
        add(name, &refs, needle);
    }

    // --- train
    let t = |extra: &[&str]| -> Vec<String> {
        let mut a = vec!["train"];
        if !extra.contains(&"--steps") {
            a.extend_from_slice(&["--steps", "3"]);
        }
        a.extend_from_slice(extra);
        a.extend_from_slice(&["--out", "OUT"]);
        a.into_iter().map(String::from).collect()
    };
    for (name, extra, needle) in [
        ("train no data", vec![], "--data"),
        ("train unknown toy", vec!["--data", "spirals"], ""),
        (
            "train batch 0",
            vec!["--data", "moons", "--batch-size", "0"],
            "",
        ),
        (
            "train batch absurd",
            vec!["--data", "moons", "--batch-size", "100000000"],
            "",
        ),
        (
            "train too big for memory",
            vec![
                "--data",
                "moons",
                "--hidden",
                "1024",
                "--depth",
                "16",
                "--batch-size",
                "65536",
            ],
            "",
        ),
        ("train lr nan", vec!["--data", "moons", "--lr", "nan"], ""),
        ("train lr inf", vec!["--data", "moons", "--lr", "inf"], ""),
        (
            "train lr negative",
            vec!["--data", "moons", "--lr=-0.1"],
            "",
        ),
        (
            "train loss diverges",
            vec!["--data", &m_huge],
            "before any checkpoint",
        ),
        ("train steps 0", vec!["--data", "moons", "--steps", "0"], ""),
        (
            "train timesteps 0",
            vec!["--data", "moons", "--timesteps", "0"],
            "",
        ),
        (
            "train timesteps absurd",
            vec!["--data", "moons", "--timesteps", "1000000000"],
            "needs about",
        ),
        (
            "train hidden 0",
            vec!["--data", "moons", "--hidden", "0"],
            "",
        ),
        (
            "train depth absurd",
            vec!["--data", "moons", "--depth", "100000"],
            "",
        ),
        (
            "train warmup too long",
            vec!["--data", "moons", "--warmup", "10", "--cooldown", "10"],
            "",
        ),
        (
            "train lr_min_ratio 2",
            vec!["--data", "moons", "--lr-min-ratio", "2"],
            "",
        ),
        (
            "train grad clip nan",
            vec!["--data", "moons", "--grad-clip", "nan"],
            "",
        ),
        ("train ema 1", vec!["--data", "moons", "--ema", "1"], ""),
        (
            "train shards over batch",
            vec!["--data", "moons", "--batch-size", "4", "--shards", "8"],
            "",
        ),
        (
            "train sigma nan",
            vec!["--data", "moons", "--objective", "dsm", "--sigma", "nan"],
            "",
        ),
        (
            "train ncsn sigma order",
            vec![
                "--data",
                "moons",
                "--objective",
                "ncsn",
                "--sigma-min",
                "3",
                "--sigma-max",
                "1",
            ],
            "",
        ),
        (
            "train esm on a toy set",
            vec!["--data", "moons", "--objective", "esm"],
            "exact score",
        ),
        (
            "train projections 0",
            vec![
                "--data",
                "moons",
                "--objective",
                "ssm",
                "--projections",
                "0",
            ],
            "",
        ),
        (
            "train unknown objective",
            vec!["--data", "moons", "--objective", "magic"],
            "",
        ),
        (
            "train unet on points",
            vec!["--data", "moons", "--model", "unet"],
            "",
        ),
        ("train csv ragged", vec!["--data", &p_ragged], ""),
        ("train csv text", vec!["--data", &p_text], ""),
        ("train csv nan", vec!["--data", &p_nan], ""),
        ("train csv inf", vec!["--data", &p_inf], ""),
        ("train csv empty", vec!["--data", &p_empty], ""),
        ("train idx truncated", vec!["--data", &i_trunc], ""),
        ("train idx magic", vec!["--data", &i_magic], ""),
        ("train idx lying dims", vec!["--data", &i_lying], ""),
        ("train cifar wrong size", vec!["--data", &c_bad], ""),
        ("train png folder empty", vec!["--data", &png_empty], ""),
        ("train png not a png", vec!["--data", &png_fake], ""),
        ("train png truncated", vec!["--data", &png_trunc], ""),
        ("train png mixed sizes", vec!["--data", &png_mixed], ""),
        ("train data missing", vec!["--data", &missing_json], ""),
        ("train config malformed", vec!["--config", &cfg_bad], ""),
        (
            "train config unknown key",
            vec!["--config", &cfg_unknown],
            "",
        ),
        ("train config wrong type", vec!["--config", &cfg_type], ""),
        ("train config missing", vec!["--config", &missing_json], ""),
        (
            "train unet config bad",
            vec![
                "--data",
                &png_ok,
                "--model",
                "unet",
                "--unet-config",
                &cfg_bad,
            ],
            "",
        ),
        (
            "train devices 0",
            vec!["--data", "moons", "--devices", "0"],
            "",
        ),
    ] {
        let a = t(&extra);
        let refs: Vec<&str> = a.iter().map(String::as_str).collect();
        add(name, &refs, needle);
    }
    add(
        "train resume without a run",
        &["train", "--resume", "--out", &fx.path("no_run")],
        "",
    );

    // --- schedule
    for (name, extra, needle) in [
        ("schedule steps 0", vec!["--steps", "0"], ""),
        (
            "schedule steps absurd",
            vec!["--steps", "1000000000"],
            "needs about",
        ),
        ("schedule beta nan", vec!["--beta-min", "nan"], ""),
        (
            "schedule beta above 1 (β_max/T)",
            vec!["--beta-max", "2000"],
            "",
        ),
        (
            "schedule sigma order",
            vec!["--process", "ve", "--sigma-min", "3", "--sigma-max", "1"],
            "",
        ),
        (
            "schedule sigma zero",
            vec!["--process", "ve", "--sigma-min", "0"],
            "",
        ),
        (
            "schedule levels absurd",
            vec!["--process", "ve", "--levels", "100000000000"],
            "needs about",
        ),
        ("schedule unknown process", vec!["--process", "ddpm++"], ""),
    ] {
        let mut a = vec!["schedule"];
        a.extend(extra);
        add(name, &a, needle);
    }

    // --- digits, experiment, bench, catalogue
    add(
        "digits check model missing",
        &[
            "digits",
            "check",
            "--classifier",
            judge,
            "--model",
            &nowhere,
            "--grid",
            "OUT.npy",
        ],
        "",
    );
    add(
        "digits check an MLP",
        &[
            "digits",
            "check",
            "--classifier",
            judge,
            "--model",
            moons.to_str().unwrap(),
            "--n",
            "4",
        ],
        "",
    );
    add(
        "digits check n 0",
        &[
            "digits",
            "check",
            "--classifier",
            judge,
            "--model",
            u,
            "--n",
            "0",
        ],
        "",
    );
    add(
        "digits judge grid fake",
        &[
            "digits",
            "judge",
            "--classifier",
            judge,
            "--grid",
            &grid_fake,
        ],
        "",
    );
    add(
        "digits judge grid small",
        &[
            "digits",
            "judge",
            "--classifier",
            judge,
            "--grid",
            &grid_small,
            "--n",
            "16",
        ],
        "",
    );
    add(
        "digits judge grid missing",
        &[
            "digits",
            "judge",
            "--classifier",
            judge,
            "--grid",
            &missing_npy,
        ],
        "",
    );
    add(
        "digits judge require nan",
        &[
            "digits",
            "judge",
            "--classifier",
            judge,
            "--grid",
            &grid_small,
            "--require",
            "nan",
        ],
        "",
    );
    add(
        "digits judge threshold 2",
        &[
            "digits",
            "judge",
            "--classifier",
            judge,
            "--grid",
            &grid_small,
            "--threshold",
            "2",
        ],
        "",
    );
    add(
        "digits classifier bad steps",
        &["digits", "classifier", "--steps", "0", "--out", "OUT"],
        "steps and batch size",
    );
    add(
        "experiment unknown",
        &["experiment", "perpetual-motion"],
        "",
    );
    add(
        "experiment n 0",
        &["experiment", "langevin-vs-annealed", "--n", "0"],
        "",
    );
    add(
        "experiment n absurd",
        &["experiment", "langevin-vs-annealed", "--n", "1000000000000"],
        "",
    );
    add(
        "experiment train steps 0",
        &["experiment", "low-density-error", "--train-steps", "0"],
        "",
    );
    add("bench n 0", &["bench", "--n", "0"], "");
    add("bench n absurd", &["bench", "--n", "1000000000000"], "");
    add("bench steps 0", &["bench", "--steps", "0"], "");
    add(
        "bench train batch absurd",
        &["bench", "--train-batch", "1000000000"],
        "",
    );
    add("bench unknown sampler", &["bench", "--sampler", "warp"], "");
    add(
        "bench unet batch absurd",
        &["bench", "--unet", "--unet-batch", "100000000"],
        "",
    );
    add(
        "catalogue extra argument",
        &["catalogue", "--everything"],
        "",
    );
    add("unknown subcommand", &["teleport"], "");
    add("no subcommand", &[], "");
    v
}

#[test]
fn every_bad_input_is_refused_cleanly() {
    let dir = scratch("bad_inputs", "fixtures");
    let outs = scratch("bad_inputs", "outs");
    let fx = Fixtures { dir };
    let cases = cases(&fx, &outs);
    assert!(cases.len() >= 100, "{} cases", cases.len());
    // Two workers: the machine's two cores.
    let results: Vec<(usize, Outcome)> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..2)
            .map(|w| {
                let cases = &cases;
                s.spawn(move || {
                    (w..cases.len())
                        .step_by(2)
                        .map(|i| (i, run(&cases[i])))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect()
    });
    let mut failures = Vec::new();
    let (mut hangs, mut panics) = (0, 0);
    for (i, o) in &results {
        let line = o.stderr.lines().find(|l| l.starts_with("error: "));
        println!("{}: {}", cases[*i].name, line.unwrap_or("(no error line)"));
        let bad = judge(&cases[*i], o);
        hangs += usize::from(o.elapsed > BOUND);
        panics += usize::from(bad.iter().any(|b| b.contains("panic")));
        if !bad.is_empty() {
            failures.push(format!(
                "{}: {}\n    dplay {}\n    {}",
                cases[*i].name,
                bad.join("; "),
                cases[*i].args.join(" "),
                o.stderr.trim().replace('\n', "\n    ")
            ));
        }
    }
    let mut by_time: Vec<(Duration, &str)> = results
        .iter()
        .map(|(i, o)| (o.elapsed, cases[*i].name.as_str()))
        .collect();
    by_time.sort();
    let slowest: Vec<String> = by_time
        .iter()
        .rev()
        .take(5)
        .map(|(t, n)| format!("{n} {:.1} s", t.as_secs_f64()))
        .collect();
    let slowest = slowest.join(", ");
    println!(
        "{} bad inputs: {} refused cleanly, {panics} panics, {hangs} hangs; slowest: {slowest}",
        cases.len(),
        cases.len() - failures.len()
    );
    assert!(
        failures.is_empty(),
        "{} of {} cases not refused cleanly:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}
