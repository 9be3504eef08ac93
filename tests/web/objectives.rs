//! The page's processes, objectives and score sources through the `Playground` API on flex:
//! every objective trains at every level of the page's process and lowers its fixed-batch loss;
//! a VE network trained on the page drives annealed Langevin to the mixture's weights; choices
//! that cannot work say why instead of failing.

use diffusion_playground::web::{Backend, Playground};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::*;

use super::{yield_to_browser, CONFIG, WEIGHTS};

const VP100: &str = r#"{"kind": "vp", "schedule": {"kind": "linear", "steps": 100, "beta_start": 0.0001, "beta_end": 0.02}}"#;
const VE: &str = r#"{"kind": "ve", "sigma_min": 0.1, "sigma_max": 20, "levels": 10}"#;
const OBJECTIVES: [&str; 6] = ["ddpm", "ncsn", "dsm", "ssm", "ism", "esm"];
const ANCESTRAL: &str = r#"{"kind": "ancestral", "variance": "beta_tilde"}"#;
const DDIM: &str = r#"{"kind": "ddim", "steps": 50, "eta": 0, "spacing": "leading"}"#;

fn message(e: JsValue) -> String {
    e.dyn_into::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .unwrap_or_else(|v| format!("{v:?}"))
}

fn train_config(objective: &str, hidden: usize, depth: usize, steps: usize, seed: u64) -> String {
    format!(
        r#"{{"options": {{"hidden": {hidden}, "depth": {depth}, "lr": 0.005, "batch_size": 256, "steps": {steps}, "seed": {seed}}}, "objective": "{objective}"}}"#
    )
}

/// 200 Adam steps of each objective on VP (T = 100) and on VE, as the page trains them. The
/// fixed-batch loss is the same batch before and after, so a fall by a fifth of its size is the
/// network's (natively, tests/level_objectives.rs also checks the score it learns). The samples
/// of the network being trained come from its own process.
#[wasm_bindgen_test]
async fn every_objective_trains_on_the_page_process_and_lowers_its_loss() {
    let mut pg = Playground::create(Backend::Flex).await;
    pg.load_model(WEIGHTS, CONFIG).unwrap();
    for process in [VP100, VE] {
        assert_eq!(
            pg.set_process(process).unwrap(),
            if process == VE { 10 } else { 100 }
        );
        for objective in OBJECTIVES {
            pg.start_training(&train_config(objective, 64, 2, 200, 4))
                .unwrap();
            let before = pg.eval_loss(7).await.unwrap();
            for _ in 0..10 {
                assert!(pg.train_steps(20).await.unwrap().is_finite());
                yield_to_browser().await;
            }
            let after = pg.eval_loss(7).await.unwrap();
            assert!(
                after < before - 0.2 * before.abs(),
                "{objective} on {process}: fixed-batch loss {before} -> {after}"
            );
            // The weights carry the run, as after a lost GPU device.
            let weights = pg.train_weights().await.unwrap().to_vec();
            pg.start_training(&train_config(objective, 64, 2, 200, 4))
                .unwrap();
            pg.restore_training(&weights, 200).unwrap();
            let restored = pg.eval_loss(7).await.unwrap();
            assert!(
                (restored - after).abs() <= 1e-6 * (1.0 + after.abs()),
                "{objective}: restored loss {restored}, before {after}"
            );
            let x = pg.train_samples(200, 20, 1).await.unwrap().to_vec();
            assert_eq!(x.len(), 400);
            assert!(x.iter().all(|v| v.is_finite()), "{objective}: samples");
        }
    }
}

/// NCSN's loss on the VE levels from σ = 20 to 1 (Song & Ermon 2019, §4.3) for the seeds' ⅕/⅘
/// mixture, trained through the page API with the run tests/level_objectives.rs checks natively
/// (the default MLP, 3000 steps, batch 256, seed 3), then annealed Langevin on the learned
/// source. A weight's SE at n = 2000 is √(0.2·0.8/2000) ≈ 0.009; 3 SE plus 0.02 for the
/// network's error is 0.05, which fails a sampler that ignores the weights (plain Langevin
/// gets 0.5 from uniform starting points).
#[wasm_bindgen_test]
async fn a_ve_network_trained_on_the_page_drives_annealed_langevin_to_the_weights() {
    let mut pg = Playground::create(Backend::Flex).await;
    pg.load_model(WEIGHTS, CONFIG).unwrap();
    pg.set_dataset("seeds").unwrap();
    pg.set_process(r#"{"kind": "ve", "sigma_min": 1, "sigma_max": 20, "levels": 10}"#)
        .unwrap();
    pg.start_training(
        r#"{"options": {"hidden": 128, "depth": 3, "lr": 0.002, "batch_size": 256, "steps": 3000, "seed": 3}, "objective": "ncsn"}"#,
    )
    .unwrap();
    for _ in 0..100 {
        pg.train_steps(30).await.unwrap();
        yield_to_browser().await;
    }
    assert_eq!(pg.trained_steps(), 3000);
    let annealed = r#"{"kind": "annealed_langevin", "levels": 10, "n_per_level": 100, "step_size": 0.1, "sigma_min": 0.1, "sigma_max": null}"#;
    assert_eq!(pg.sampler_support(annealed, "learned").unwrap(), None);
    // Its own ten levels, a hundred steps each.
    assert_eq!(
        pg.start_sampler(annealed, "learned", 2000, 1).unwrap(),
        1000
    );
    let mut x = pg.sample_steps(50).await.unwrap().x().to_vec();
    for _ in 1..20 {
        yield_to_browser().await;
        x = pg.sample_steps(50).await.unwrap().x().to_vec();
    }
    assert_eq!(pg.sample_steps(1).await.unwrap().remaining(), 0);
    let w = pg.component_weights(&x).unwrap().to_vec();
    assert!((w[0] - 0.2).abs() < 0.05, "weights {w:?}");
}

/// What cannot work is refused with a reason the page shows: a VP-only sampler on VE, the
/// pretrained VP model on another process, ESM without an exact score, σ_min above σ_max.
#[wasm_bindgen_test]
async fn incompatible_choices_say_why() {
    let mut pg = Playground::create(Backend::Flex).await;
    pg.load_model(WEIGHTS, CONFIG).unwrap();
    // On DDPM's process the pretrained ε-MLP drives ancestral sampling; nothing is trained yet.
    assert_eq!(pg.sampler_support(ANCESTRAL, "pretrained").unwrap(), None);
    let untrained = pg.sampler_support(DDIM, "learned").unwrap().unwrap();
    assert!(untrained.contains("no network trained yet"), "{untrained}");

    pg.set_process(VE).unwrap();
    let chain = pg.sampler_support(ANCESTRAL, "oracle").unwrap().unwrap();
    assert!(chain.contains("discrete VP chain"), "{chain}");
    let other = pg.sampler_support(DDIM, "pretrained").unwrap().unwrap();
    assert!(
        other.contains("VP (linear β, T = 1000)") && other.contains("VE (σ from 0.1 to 20"),
        "{other}"
    );
    assert!(pg.start_sampler(DDIM, "pretrained", 10, 0).is_err());
    // The score panel still gets the exact field, and the reason for the missing one.
    let f = pg.score_field(5, 11, 4.0, "pretrained").await.unwrap();
    assert_eq!(f.learned_score().length(), 0);
    assert_eq!(f.true_score().length(), 2 * 121);
    assert!(f.note().unwrap().contains("trained on the VP"));
    // The oracle drives DDIM on VE's ten levels.
    assert_eq!(pg.start_sampler(DDIM, "oracle", 10, 0).unwrap(), 10);

    // A network trained on VE knows VE: annealed Langevin yes, then not after the process changes.
    pg.start_training(&train_config("ncsn", 16, 1, 10, 0))
        .unwrap();
    pg.train_steps(2).await.unwrap();
    let annealed = r#"{"kind": "annealed_langevin", "levels": 10, "n_per_level": 2, "step_size": 0.005, "sigma_min": 0.1, "sigma_max": null}"#;
    assert_eq!(pg.sampler_support(annealed, "learned").unwrap(), None);
    pg.set_process(VP100).unwrap();
    let vp_only = pg.sampler_support(annealed, "learned").unwrap().unwrap();
    assert!(vp_only.contains("a VP model"), "{vp_only}");
    let moved = pg.sampler_support(DDIM, "learned").unwrap().unwrap();
    assert!(
        moved.contains("trained on the VE") && moved.contains("press ▶ train"),
        "{moved}"
    );

    // ESM needs the exact score: not on moons.
    pg.set_dataset("moons").unwrap();
    let esm = pg.objective_support("esm").unwrap().unwrap();
    assert!(esm.contains("exact score"), "{esm}");
    assert_eq!(pg.objective_support("ism").unwrap(), None);
    let e = message(
        pg.start_training(&train_config("esm", 16, 1, 10, 0))
            .unwrap_err(),
    );
    assert!(e.contains("exact score"), "{e}");
    let e = message(
        pg.start_training(&train_config("score-magic", 16, 1, 10, 0))
            .unwrap_err(),
    );
    assert!(e.contains("unknown objective"), "{e}");

    // A process the controls can describe but not build keeps the previous one.
    let e = message(
        pg.set_process(r#"{"kind": "ve", "sigma_min": 5, "sigma_max": 1, "levels": 10}"#)
            .unwrap_err(),
    );
    assert!(e.contains("sigma_min"), "{e}");
    assert_eq!(pg.num_steps(), 100);
}
