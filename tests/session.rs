//! The page's logic without a browser: the same `Session` the wasm `Playground` wraps, driven
//! natively on flex (its async reads are ready at once, so `block_on` returns straight away).
#![cfg(not(target_arch = "wasm32"))]

mod common;

use burn::prelude::*;
use diffusion_playground::bundle;
use diffusion_playground::noise;
use diffusion_playground::session::Session;
use futures_lite::future::block_on;

fn session() -> Session {
    Session::new(Device::flex(), false)
}

const DDIM: &str = r#"{"kind": "ddim", "steps": 20, "eta": 0.0, "spacing": "leading"}"#;
const VE: &str = r#"{"kind": "ve", "sigma_min": 0.1, "sigma_max": 20, "levels": 10}"#;

/// Run the session's sampler to the end; returns the sample.
fn finish(s: &mut Session) -> Vec<f32> {
    loop {
        let frame = block_on(s.sample_steps(50)).unwrap();
        if frame.remaining == 0 {
            return frame.x;
        }
    }
}

/// What each change drops: another process restarts the chain and ends the sampling runs;
/// another data set drops the drawn points too.
#[test]
fn each_change_resets_what_depends_on_it() {
    let mut s = session();
    assert!(s.draw_data(10, 0).is_err(), "no data set yet");
    s.set_dataset("mixture3").unwrap();
    let x0 = s.draw_data(64, 0).unwrap();
    assert_eq!(x0.len(), 128);
    block_on(s.chain_steps(7, 1)).unwrap();
    assert_eq!(s.chain_step(), 7);
    assert_eq!(s.start_sampler(DDIM, "oracle", 32, 2).unwrap(), 20);
    block_on(s.sample_steps(1)).unwrap();
    s.start_comparison(&format!("[{DDIM}]"), 16, 3).unwrap();

    assert_eq!(s.set_process(VE).unwrap(), 10);
    assert_eq!(
        s.chain_step(),
        0,
        "the chain restarts from the drawn points"
    );
    assert_eq!(
        block_on(s.forward_at(0)).unwrap(),
        x0,
        "the drawn points stay"
    );
    let Err(err) = block_on(s.sample_steps(1)) else {
        panic!("the sampler went")
    };
    assert!(err.to_string().contains("startSampler"), "{err}");
    assert!(block_on(s.comparison_steps(&[1])).is_err());

    s.start_sampler(DDIM, "oracle", 32, 2).unwrap();
    s.set_dataset("seeds").unwrap();
    assert!(
        block_on(s.sample_steps(1)).is_err(),
        "another data set ends the run"
    );
    assert!(
        block_on(s.forward_at(0)).is_err(),
        "and drops the drawn points"
    );
    assert_eq!(s.num_steps(), 10, "the process stays");
}

/// The shipped moons model loaded as the page loads it samples the moons through the session:
/// the criterion of tests/pretrained.rs (two 1000-point samples of one law are 0.002–0.016
/// apart; a model must be under 0.02 and under a third of the prior's distance).
#[test]
fn a_loaded_model_samples_its_data_through_the_session() {
    let mut s = session();
    let dir = common::repo_path("www/weights/ddpm_moons");
    let weights = std::fs::read(dir.join("model.safetensors")).unwrap();
    let config = std::fs::read_to_string(dir.join("config.json")).unwrap();
    s.load_model(&weights, &config).unwrap();
    let info: serde_json::Value = serde_json::from_str(&s.data_info().unwrap()).unwrap();
    assert_eq!(info["kind"], "toy", "the model brings its data set");
    let spec = r#"{"kind": "ddim", "steps": 100, "eta": 0.0, "spacing": "leading"}"#;
    assert_eq!(s.sampler_support(spec, "pretrained").unwrap(), None);
    s.start_sampler(spec, "pretrained", 1000, 2).unwrap();
    let x = finish(&mut s);
    let ed = s.energy_distance(&x).unwrap();
    let prior = noise::normal_vec(&mut noise::rng(3), 2000);
    let ed0 = s.energy_distance(&prior).unwrap();
    assert!(
        ed < 0.02 && ed < ed0 / 3.0,
        "energy distance {ed:.4}, prior {ed0:.4}"
    );
    // On another process the model has no score: the session says so before sampling.
    s.set_process(VE).unwrap();
    let why = s
        .sampler_support(spec, "pretrained")
        .unwrap()
        .expect("refused");
    assert!(why.contains("VP"), "{why}");
}

/// A run on the page: objective support follows the data; training lowers the fixed-batch loss;
/// the learned network then drives the samplers and the score field; the download reads back
/// as the model `dplay sample --model` takes; restoring needs synchronous reads.
#[test]
fn a_training_run_lowers_its_loss_and_downloads() {
    let mut s = session();
    s.set_dataset("moons").unwrap();
    assert!(
        s.objective_support("esm").unwrap().is_some(),
        "no exact score for moons"
    );
    s.set_dataset("mixture3").unwrap();
    assert_eq!(s.objective_support("esm").unwrap(), None);
    assert!(
        s.sampler_support(DDIM, "learned").unwrap().is_some(),
        "nothing trained yet"
    );
    let field = block_on(s.score_field(10, 8, 3.0, "learned")).unwrap();
    assert!(field.learned_score.is_empty() && field.note.is_some());

    let config = r#"{"options": {"hidden": 32, "depth": 1, "lr": 0.003, "batch_size": 256,
                     "steps": 300, "seed": 0}, "objective": "ddpm"}"#;
    s.start_training(config).unwrap();
    let before = block_on(s.eval_loss(9)).unwrap();
    for _ in 0..6 {
        block_on(s.train_steps(50)).unwrap();
    }
    assert_eq!(s.trained_steps(), 300);
    let after = block_on(s.eval_loss(9)).unwrap();
    // L_simple starts near E‖ε‖²/d = 1 for an untrained ε-network and a trained one on this
    // mixture sits well under it: halving is far outside the fixed batch's noise.
    assert!(after < before / 2.0, "loss {before} → {after}");
    assert_eq!(s.sampler_support(DDIM, "learned").unwrap(), None);
    let field = block_on(s.score_field(10, 8, 3.0, "learned")).unwrap();
    assert_eq!(field.learned_score.len(), 128);
    assert!(field.error.iter().all(|e| e.is_finite()));

    let zip = block_on(s.export_run(200, 20, 1)).unwrap();
    let (_, card) = bundle::from_zip(&zip, "run.zip", &Device::flex()).unwrap();
    assert_eq!(card.trained_steps, 300);
    assert_eq!(card.train.objective.name(), "ddpm");

    // The catalogue's SSM options reach the run as the page sends them.
    let ssm = s
        .train_config(
            r#"{"options": {"hidden": 8, "depth": 1, "batch_size": 8, "steps": 1},
                "objective": "ssm", "slicing": {"projection": "gaussian", "projections": 3,
                "variance_reduced": true}}"#,
        )
        .unwrap();
    assert_eq!(ssm.objective.name(), "ssm-vr");
    assert_eq!(ssm.objective.slicing.projections, 3);

    let weights = block_on(s.train_weights()).unwrap();
    s.restore_training(&weights, 300).unwrap();
    let mut gpu_like = Session::new(Device::flex(), true);
    gpu_like.set_dataset("mixture3").unwrap();
    gpu_like.start_training(config).unwrap();
    let Err(err) = gpu_like.restore_training(&weights, 300) else {
        panic!("refused")
    };
    assert!(err.to_string().contains("synchronously"), "{err}");
}
