//! `dplay train` as a user runs it: options from a config file, the resolved run.json,
//! checkpoints that survive 20 random SIGKILLs and resume to the same loss curve, numerical
//! faults that keep the last good checkpoint, image training into a diffusers folder that
//! `dplay sample` reads, and clean errors on bad input.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{assert_clean_error, dplay, path_arg as s};
use diffusion_playground::data::images::idx::to_idx;

fn mixture() -> String {
    s(&common::repo_path("data/mixture3.json"))
}

/// (step, loss) rows of OUT/loss.csv.
fn losses(out: &Path) -> Vec<(usize, f64)> {
    std::fs::read_to_string(out.join("loss.csv"))
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| {
            let (a, b) = l.split_once(',').unwrap();
            (a.parse().unwrap(), b.parse().unwrap())
        })
        .collect()
}

fn small_run(data: &str, out: &Path, steps: &str) -> Vec<String> {
    [
        "train",
        "--data",
        data,
        "--out",
        &s(out),
        "--steps",
        steps,
        "--batch-size",
        "64",
        "--hidden",
        "32",
        "--depth",
        "1",
        "--timesteps",
        "100",
        "--ema",
        "0.99",
        "--grad-clip",
        "1.0",
        "--seed",
        "7",
        "--sample-every",
        "0",
    ]
    .iter()
    .map(|x| x.to_string())
    .collect()
}

fn ok(out: &std::process::Output) {
    assert!(
        out.status.success(),
        "dplay failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn run(args: &[String]) -> std::process::Output {
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    dplay(&a)
}

/// The newest checkpoint step `latest` names, if any.
fn latest_step(dir: &Path) -> Option<usize> {
    let name = std::fs::read_to_string(dir.join("checkpoints/latest")).ok()?;
    name.trim().trim_start_matches("step-").parse().ok()
}

/// Whether a checkpoint is being written: a temporary file, or a step folder newer than
/// `latest` (its files come first, `latest` last).
fn mid_write(dir: &Path) -> bool {
    let latest = latest_step(dir).unwrap_or(0);
    std::fs::read_dir(dir.join("checkpoints"))
        .into_iter()
        .flatten()
        .flatten()
        .any(|e| {
            let name = e.file_name().to_string_lossy().to_string();
            let newer = name
                .strip_prefix("step-")
                .and_then(|n| n.parse::<usize>().ok())
                .is_some_and(|k| k > latest);
            let tmp = std::fs::read_dir(e.path())
                .into_iter()
                .flatten()
                .flatten()
                .any(|f| f.file_name().to_string_lossy().ends_with(".tmp"));
            newer || tmp || name.ends_with(".tmp")
        })
}

/// A crash soak: the run is killed with SIGKILL [`KILLS`] times at random moments (seeded), half
/// of them aimed at a checkpoint being written and half between writes, and resumed after each;
/// it must end with the loss curve and the weights of the run never killed.
#[test]
fn killed_run_resumes_to_the_same_loss_curve() {
    const STEPS: &str = "1000";
    const KILLS: usize = 20;
    let d = common::scratch("train_cli", "resume");
    let (a_dir, b_dir) = (d.join("straight"), d.join("killed"));

    // The reference: one uninterrupted run.
    let mut args = small_run(&mixture(), &a_dir, STEPS);
    args.extend(["--checkpoint-every".into(), "20".into()]);
    ok(&run(&args));

    let mut fresh = small_run(&mixture(), &b_dir, STEPS);
    fresh.extend(["--checkpoint-every".into(), "20".into()]);
    let resume: Vec<String> = ["train", "--resume", "--out", &s(&b_dir)]
        .iter()
        .map(|x| x.to_string())
        .collect();
    // SplitMix64 of the kill's index: the random delays, the same on every run of the test.
    let random = |i: u64| {
        let mut z = 0x5eed ^ i.wrapping_mul(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    let (mut during, mut killed_at) = (0, Vec::new());
    for i in 0..KILLS {
        let args = if i == 0 { &fresh } else { &resume };
        let before = latest_step(&b_dir);
        let mut child = Command::new(env!("CARGO_BIN_EXE_dplay"))
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let start = Instant::now();
        // Wait for progress past the checkpoint it resumed from, then aim.
        let aim_at_write = i % 2 == 0;
        let delay = Duration::from_millis(random(i as u64) % 15);
        let mut advanced: Option<Instant> = None;
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                let mut err = String::new();
                std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut err).unwrap();
                panic!("kill {i}: the run ended ({status}) before it was killed: {err}");
            }
            if advanced.is_none() && latest_step(&b_dir) > before {
                advanced = Some(Instant::now());
            }
            let fire = match advanced {
                Some(_) if aim_at_write => mid_write(&b_dir),
                Some(t) => t.elapsed() >= delay && !mid_write(&b_dir),
                None => false,
            };
            if fire {
                break;
            }
            assert!(
                start.elapsed() < Duration::from_secs(300),
                "kill {i}: no progress"
            );
            std::thread::sleep(Duration::from_micros(200));
        }
        child.kill().unwrap(); // SIGKILL on Unix
        child.wait().unwrap();
        during += usize::from(mid_write(&b_dir));
        killed_at.push(latest_step(&b_dir).unwrap());
    }
    println!("{KILLS} kills ({during} during a checkpoint write), after steps {killed_at:?}");
    // The kills aimed at a write fire only once one is seen under way; the files it leaves are
    // the evidence that at least one landed there.
    assert!(during >= 1, "no kill landed during a checkpoint write");
    assert!(
        !b_dir.join("model.safetensors").exists(),
        "killed before the end"
    );
    // The last resumption runs to the end; the options come from the run's own run.json.
    let out = run(&resume);
    ok(&out);
    assert!(String::from_utf8_lossy(&out.stderr).contains("resuming"));

    let (la, lb) = (losses(&a_dir), losses(&b_dir));
    assert_eq!(la.len(), 1000);
    assert_eq!(lb.len(), 1000, "killed after steps {killed_at:?}");
    // Same draws (per-step streams), same Adam moments, same EMA: the same numbers, up to the
    // last bits of a reduction.
    for ((i, x), (_, y)) in la.iter().zip(&lb) {
        assert!(
            (x - y).abs() <= 1e-5 * x.abs().max(1e-3),
            "loss differs at step {i}: {x} vs {y} (killed after steps {killed_at:?})"
        );
    }
    // And the same weights (the saved model is the EMA).
    let wa = std::fs::read(a_dir.join("model.safetensors")).unwrap();
    let wb = std::fs::read(b_dir.join("model.safetensors")).unwrap();
    let fa = safetensors::SafeTensors::deserialize(&wa).unwrap();
    let fb = safetensors::SafeTensors::deserialize(&wb).unwrap();
    for (name, ta) in fa.tensors() {
        let tb = fb.tensor(&name).unwrap();
        let max = ta
            .data()
            .chunks_exact(4)
            .zip(tb.data().chunks_exact(4))
            .map(|(p, q)| {
                (f32::from_le_bytes(p.try_into().unwrap())
                    - f32::from_le_bytes(q.try_into().unwrap()))
                .abs()
            })
            .fold(0.0f32, f32::max);
        assert!(max < 1e-5, "{name} differs by {max}");
    }
    let card = std::fs::read_to_string(b_dir.join("config.json")).unwrap();
    assert!(card.contains("\"ema\": true"), "{card}");
}

/// The largest absolute difference between two safetensors files' tensors, by name.
fn max_weight_diff(a: &Path, b: &Path) -> f32 {
    let (wa, wb) = (std::fs::read(a).unwrap(), std::fs::read(b).unwrap());
    let fa = safetensors::SafeTensors::deserialize(&wa).unwrap();
    let fb = safetensors::SafeTensors::deserialize(&wb).unwrap();
    let mut max = 0.0f32;
    for (name, ta) in fa.tensors() {
        let tb = fb.tensor(&name).unwrap();
        for (p, q) in ta.data().chunks_exact(4).zip(tb.data().chunks_exact(4)) {
            let d = f32::from_le_bytes(p.try_into().unwrap())
                - f32::from_le_bytes(q.try_into().unwrap());
            max = max.max(d.abs());
        }
    }
    max
}

#[test]
fn a_constant_rate_run_can_be_extended_on_resume() {
    let d = common::scratch("train_cli", "steps_on_resume");
    let constant = |out: &Path, steps: &str| {
        let mut a = small_run(&mixture(), out, steps);
        a.extend(
            [
                "--lr-min-ratio",
                "1",
                "--warmup",
                "10",
                "--checkpoint-every",
                "40",
            ]
            .map(String::from),
        );
        a
    };
    // An 80-step run resumed with --steps 120 is the 120-step run: with a constant rate after a
    // given warm-up (by default it is a tenth of the total) no step's numbers depend on the total.
    let (straight, extended) = (d.join("straight"), d.join("extended"));
    ok(&run(&constant(&straight, "120")));
    ok(&run(&constant(&extended, "80")));
    // Moved first: a run's folder may move between sessions.
    let moved = d.join("moved");
    std::fs::rename(&extended, &moved).unwrap();
    let extended = moved;
    ok(&dplay(&[
        "train",
        "--resume",
        "--out",
        &s(&extended),
        "--steps",
        "120",
    ]));
    let (la, lb) = (losses(&straight), losses(&extended));
    assert_eq!(lb.len(), 120);
    for ((i, x), (_, y)) in la.iter().zip(&lb) {
        assert!(
            (x - y).abs() <= 1e-5 * x.abs().max(1e-3),
            "step {i}: {x} vs {y}"
        );
    }
    let diff = max_weight_diff(
        &straight.join("model.safetensors"),
        &extended.join("model.safetensors"),
    );
    assert!(diff < 1e-5, "the extended run's weights differ by {diff}");
    let saved = std::fs::read_to_string(extended.join("run.json")).unwrap();
    assert!(
        saved.contains("\"steps\": 120"),
        "run.json records the new total: {saved}"
    );

    // A checkpoint past the new total, or a new total under a decaying rate, is refused.
    assert_clean_error(
        &dplay(&["train", "--resume", "--out", &s(&extended), "--steps", "60"]),
        "past --steps 60",
    );

    // Extended, then cooled down (warmup–stable–decay): an 80-step constant-rate run resumed with
    // --steps 120 --cooldown 40 is the straight run with those settings.
    let (straight, later) = (d.join("cooled_straight"), d.join("cooled_later"));
    let mut cooled = constant(&straight, "120");
    cooled.extend(["--cooldown", "40"].map(String::from));
    ok(&run(&cooled));
    ok(&run(&constant(&later, "80")));
    ok(&dplay(&[
        "train",
        "--resume",
        "--out",
        &s(&later),
        "--steps",
        "120",
        "--cooldown",
        "40",
    ]));
    let diff = max_weight_diff(
        &straight.join("model.safetensors"),
        &later.join("model.safetensors"),
    );
    assert!(
        diff < 1e-5,
        "the cooled-down run's weights differ by {diff}"
    );
    // And the cooldown is in effect: without it the weights end elsewhere.
    let hot = d.join("not_cooled");
    ok(&run(&constant(&hot, "120")));
    let moved_by = max_weight_diff(
        &straight.join("model.safetensors"),
        &hot.join("model.safetensors"),
    );
    assert!(
        moved_by > 1e-4,
        "the cooldown changed the weights by only {moved_by}"
    );
    // Its last checkpoint (step 120) has cooled down: its steps from 80 on ran at a falling rate,
    // so it cannot be extended again.
    assert_clean_error(
        &dplay(&[
            "train",
            "--resume",
            "--out",
            &s(&later),
            "--steps",
            "160",
            "--cooldown",
            "40",
        ]),
        "past the constant-rate phase",
    );
    let decay = d.join("decay");
    let mut a = small_run(&mixture(), &decay, "80");
    a.extend(["--checkpoint-every".into(), "40".into()]);
    ok(&run(&a));
    assert_clean_error(
        &dplay(&["train", "--resume", "--out", &s(&decay), "--steps", "120"]),
        "--steps was 80",
    );
}

#[test]
fn options_come_from_a_config_file_and_run_json_repeats_the_run() {
    let d = common::scratch("train_cli", "config");
    let cfg = d.join("run.json");
    std::fs::write(
        &cfg,
        r#"{"data": "moons", "steps": 30, "batch_size": 32, "hidden": 16, "depth": 1,
            "timesteps": 50, "lr": 0.003, "seed": 11, "sample-every": 0}"#,
    )
    .unwrap();
    let first = d.join("first");
    // A flag on the command line overrides the file.
    ok(&dplay(&[
        "train",
        "--config",
        &s(&cfg),
        "--out",
        &s(&first),
        "--seed",
        "12",
    ]));
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(first.join("run.json")).unwrap()).unwrap();
    assert_eq!(saved["data"], "moons");
    assert_eq!(saved["seed"], 12);
    assert_eq!(saved["steps"], 30);
    assert_eq!(saved["lr"], 0.003);
    let card = std::fs::read_to_string(first.join("config.json")).unwrap();
    assert!(card.contains("moons"), "the card names the toy set: {card}");
    assert!(first.join("samples/step-000030.png").is_file());

    // run.json is itself a config: the same run, the same loss curve.
    let second = d.join("second");
    ok(&dplay(&[
        "train",
        "--config",
        &s(&first.join("run.json")),
        "--out",
        &s(&second),
    ]));
    assert_eq!(losses(&first), losses(&second));
}

#[test]
fn points_from_csv_and_every_toy_set_train() {
    let d = common::scratch("train_cli", "csv");
    let csv = d.join("pts.csv");
    let mut text = String::from("x,y\n");
    for i in 0..50 {
        let a = i as f64 * 0.3;
        text.push_str(&format!("{},{}\n", a.cos(), a.sin()));
    }
    std::fs::write(&csv, text).unwrap();
    for data in [
        s(&csv),
        "moons".into(),
        "swiss-roll".into(),
        "rings".into(),
        "checkerboard".into(),
        "8gaussians".into(),
    ] {
        let out = d.join(data.replace('/', "_"));
        let mut args = small_run(&data, &out, "5");
        args.extend(["--checkpoint-every".into(), "0".into()]);
        ok(&run(&args));
        assert!(out.join("model.safetensors").is_file(), "{data}");
        assert_eq!(losses(&out).len(), 5);
    }
}

/// Tiny 8×8 one-channel "images" as an IDX file: a bright square at a random place.
fn tiny_idx(dir: &Path, n: usize) -> PathBuf {
    let mut px = vec![0u8; n * 64];
    for k in 0..n {
        let (x, y) = (k % 5, (k / 5) % 5);
        for dy in 0..3 {
            for dx in 0..3 {
                px[k * 64 + (y + dy) * 8 + x + dx] = 255;
            }
        }
    }
    let p = dir.join("tiny-images.idx");
    std::fs::write(&p, to_idx(&[n, 8, 8], &px)).unwrap();
    p
}

const TINY_UNET: &str = r#"{
  "sample_size": 8, "in_channels": 1, "out_channels": 1,
  "block_out_channels": [8, 16], "layers_per_block": 1,
  "down_block_types": ["DownBlock2D", "AttnDownBlock2D"],
  "up_block_types": ["AttnUpBlock2D", "UpBlock2D"],
  "norm_num_groups": 4, "attention_head_dim": 8
}"#;

#[test]
fn a_unet_trains_on_images_and_samples_from_its_folder() {
    let d = common::scratch("train_cli", "unet");
    let idx = tiny_idx(&d, 40);
    let cfg = d.join("unet.json");
    std::fs::write(&cfg, TINY_UNET).unwrap();
    let out = d.join("model");
    ok(&dplay(&[
        "train",
        "--data",
        &s(&idx),
        "--unet-config",
        &s(&cfg),
        "--out",
        &s(&out),
        "--steps",
        "4",
        "--batch-size",
        "4",
        "--timesteps",
        "20",
        "--schedule",
        "cosine",
        "--ema",
        "0.9",
        "--checkpoint-every",
        "2",
        "--sample-every",
        "0",
    ]));
    for f in [
        "config.json",
        "diffusion_pytorch_model.safetensors",
        "scheduler_config.json",
        "train.json",
        "loss.csv",
        "samples/step-000004.png",
        "checkpoints/latest",
    ] {
        assert!(out.join(f).is_file(), "missing {f}");
    }
    let sched = std::fs::read_to_string(out.join("scheduler_config.json")).unwrap();
    assert!(sched.contains("squaredcos_cap_v2") && sched.contains("\"num_train_timesteps\": 20"));
    // The folder is a diffusers UNet2DModel folder: dplay sample reads it with its schedule.
    let x0 = d.join("x0.npy");
    ok(&dplay(&[
        "sample",
        "--model",
        &s(&out),
        "--sampler",
        "ddim",
        "--steps",
        "5",
        "--n",
        "2",
        "--out",
        &s(&x0),
    ]));
    let (x, shape) = diffusion_playground::io::npy::read_f32(&x0).unwrap();
    assert_eq!(shape, vec![2, 1, 8, 8]);
    assert!(x.iter().all(|v| v.is_finite() && v.abs() <= 1.0 + 1e-6));
}

#[test]
fn two_devices_train_with_one_shard_each() {
    let d = common::scratch("train_cli", "devices");
    let out = d.join("m");
    let mut args = small_run("moons", &out, "6");
    args.extend(["--devices".into(), "flex,flex".into()]);
    ok(&run(&args));
    let saved = std::fs::read_to_string(out.join("run.json")).unwrap();
    assert!(saved.contains("\"shards\": 2"), "{saved}");
    let mut args = small_run("moons", &d.join("bad"), "6");
    args.extend([
        "--devices".into(),
        "flex,flex".into(),
        "--shards".into(),
        "3".into(),
    ]);
    assert_clean_error(&run(&args), "--shards 3 disagrees");
}

#[test]
fn bad_training_input_is_a_clean_error() {
    let d = common::scratch("train_cli", "bad");
    let out = s(&d.join("m"));
    assert_clean_error(
        &dplay(&["train", "--data", "spirals", "--out", &out]),
        "not a named data set",
    );
    assert_clean_error(&dplay(&["train", "--resume", "--out", &out]), "run.json");
    // A run with a checkpoint, then a resumption that changes the numbers.
    let dir = d.join("r");
    let mut args = small_run("moons", &dir, "4");
    args.extend(["--checkpoint-every".into(), "2".into()]);
    ok(&run(&args));
    assert_clean_error(
        &dplay(&["train", "--resume", "--out", &s(&dir), "--batch-size", "8"]),
        "--batch-size was",
    );
    // A corrupt checkpoint.
    let latest = std::fs::read_to_string(dir.join("checkpoints/latest")).unwrap();
    std::fs::write(
        dir.join("checkpoints")
            .join(latest.trim())
            .join("model.safetensors"),
        b"garbage",
    )
    .unwrap();
    assert_clean_error(
        &dplay(&["train", "--resume", "--out", &s(&dir)]),
        "not a valid safetensors file",
    );
    // One noise level and a process at once; a UNet on points; an MLP on images.
    assert_clean_error(
        &dplay(&[
            "train",
            "--data",
            "moons",
            "--objective",
            "ssm-vr",
            "--process",
            "vp",
            "--sigma",
            "0.1",
            "--out",
            &out,
        ]),
        "--sigma sets the one noise level",
    );
    assert_clean_error(
        &dplay(&["train", "--data", "moons", "--model", "unet", "--out", &out]),
        "holds points",
    );
    let idx = tiny_idx(&d, 4);
    assert_clean_error(
        &dplay(&["train", "--data", &s(&idx), "--model", "mlp", "--out", &out]),
        "holds images",
    );
    // ESM needs the exact score, which a toy set does not have.
    assert_clean_error(
        &dplay(&[
            "train",
            "--data",
            "moons",
            "--objective",
            "esm",
            "--out",
            &out,
        ]),
        "exact score",
    );
    // An empty data set, and a config file that is not an object of options.
    let empty = d.join("empty-images.idx");
    std::fs::write(&empty, to_idx(&[0, 8, 8], &[])).unwrap();
    assert_clean_error(
        &dplay(&["train", "--data", &s(&empty), "--out", &out]),
        "empty",
    );
    let cfg = d.join("bad.json");
    std::fs::write(&cfg, "[1, 2]").unwrap();
    assert_clean_error(
        &dplay(&["train", "--config", &s(&cfg), "--out", &out]),
        "not a JSON object of options",
    );
    assert_clean_error(
        &dplay(&[
            "train",
            "--data",
            "moons",
            "--devices",
            "tpu",
            "--out",
            &out,
        ]),
        "unknown device 'tpu'",
    );
}

/// A numerical fault stops the run at the step it happens, keeps the last good checkpoint
/// (finite weights) and says how to continue from it; `--resume --lr` does. The data: a mixture
/// whose rare second component (weight 5e-4) sits at 1e30, so a batch that draws it has an
/// infinite loss. With batch 16 and seed 1 the first such batch is step 154's (the step streams
/// are seeded by step, so the resumed run meets it again).
#[test]
fn a_diverging_run_keeps_its_last_good_checkpoint() {
    let dir = common::scratch("train_cli", "diverging");
    let data = dir.join("spike.json");
    std::fs::write(
        &data,
        r#"{"weights": [0.9995, 0.0005], "means": [[0, 0], [1e30, 1e30]],
            "covs": [[[1, 0], [0, 1]], [[1, 0], [0, 1]]]}"#,
    )
    .unwrap();
    let out = dir.join("run");
    let args = [
        "train",
        "--data",
        &s(&data),
        "--steps",
        "400",
        "--batch-size",
        "16",
        "--checkpoint-every",
        "10",
        "--sample-every",
        "0",
        "--seed",
        "1",
        "--out",
        &s(&out),
    ];
    let first = dplay(&args);
    assert_clean_error(&first, "the loss became inf at step 154");
    let err = String::from_utf8_lossy(&first.stderr);
    assert!(err.contains("last good checkpoint (step 150)"), "{err}");
    assert!(
        err.contains("--resume") && err.contains("--lr 2e-4"),
        "{err}"
    );
    assert!(!out.join("model.safetensors").exists());
    let ck = out
        .join("checkpoints")
        .join("step-000150")
        .join("model.safetensors");
    let bytes = std::fs::read(&ck).unwrap();
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    for (name, t) in st.tensors() {
        let finite = t
            .data()
            .chunks_exact(4)
            .all(|b| f32::from_le_bytes(b.try_into().unwrap()).is_finite());
        assert!(finite, "checkpoint tensor {name} is not finite");
    }
    // The recovery the message names: accepted (with a notice), from step 150.
    let again = dplay(&["train", "--resume", "--out", &s(&out), "--lr", "2e-4"]);
    let err = String::from_utf8_lossy(&again.stderr);
    assert!(
        err.contains("--lr changes from its default to 0.0002"),
        "{err}"
    );
    assert!(err.contains("at step 150/400"), "{err}");
    assert_eq!(again.status.code(), Some(1), "{err}");
    assert!(
        err.lines()
            .any(|l| l.starts_with("error: the loss became inf at step 154")),
        "{err}"
    );
    // Any other change still breaks exact continuation.
    let other = dplay(&["train", "--resume", "--out", &s(&out), "--batch-size", "8"]);
    assert_clean_error(&other, "continues the run");
}
