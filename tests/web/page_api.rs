//! The page's data and training API (`Playground`) on flex: data sets and their bad input,
//! training that lowers a fixed-batch loss, samples that approach the data, and a run carried
//! across backends through its weights.

use diffusion_playground::web::{Backend, Playground};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::*;

use super::{CONFIG, WEIGHTS};

fn message(e: JsValue) -> String {
    e.dyn_into::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .unwrap_or_else(|v| format!("{v:?}"))
}

fn data_kind(pg: &Playground) -> String {
    let info: serde_json::Value = serde_json::from_str(&pg.data_info().unwrap()).unwrap();
    info["kind"].as_str().unwrap().to_string()
}

/// 120 points on the circle of radius 2.
fn ring() -> Vec<f32> {
    (0..120)
        .flat_map(|i| {
            let a = i as f32 * std::f32::consts::TAU / 120.0;
            [2.0 * a.cos(), 2.0 * a.sin()]
        })
        .collect()
}

#[wasm_bindgen_test]
async fn data_sets_and_their_bad_input() {
    let mut pg = Playground::create(Backend::Flex).await;
    pg.load_model(WEIGHTS, CONFIG).unwrap();
    assert_eq!(data_kind(&pg), "mixture");
    for name in [
        "seeds",
        "moons",
        "swiss-roll",
        "rings",
        "checkerboard",
        "8gaussians",
    ] {
        pg.set_dataset(name).unwrap();
        assert_eq!(pg.draw_data(100, 1).unwrap().length(), 200, "{name}");
    }
    assert_eq!(data_kind(&pg), "toy");

    // Each bad input is an error naming the problem, and the data in use stays.
    let cases: Vec<(Result<(), JsValue>, &str)> = vec![
        (pg.set_dataset("spirals"), "unknown data set 'spirals'"),
        (pg.set_points(vec![]), "empty"),
        (pg.set_points(vec![0.5, 0.5]), "1 point"),
        (pg.set_points(vec![0.0, f32::NAN, 1.0, 1.0]), "non-finite"),
        (
            pg.set_csv("x,y\n1,2\n3,oops\n", "bad.csv"),
            "bad.csv, line 3",
        ),
        (pg.set_csv("1,2\nNaN,3\n", "nan.csv"), "line 2"),
        (
            pg.set_csv("1,2\n3,-inf\n", "inf.csv"),
            "not a finite number",
        ),
        (pg.set_csv("1,2,3\n4,5,6\n", "wide.csv"), "3 columns"),
        (pg.set_csv("", "empty.csv"), "no points"),
    ];
    for (r, want) in cases {
        let m = message(r.expect_err(want));
        assert!(m.contains(want), "message '{m}' should contain '{want}'");
    }
    assert_eq!(data_kind(&pg), "toy");

    pg.set_csv("x,y\n0,1\n1,0\n-1,0\n", "three.csv").unwrap();
    assert_eq!(data_kind(&pg), "points");
    // Not a mixture: no oracle, no component weights.
    assert!(pg
        .start_sampler(
            "{\"kind\": \"ddim\", \"steps\": 5, \"eta\": 0, \"spacing\": \"leading\"}",
            "oracle",
            10,
            0
        )
        .is_err());
    assert!(pg.component_weights(&[0.0, 0.0]).is_err());
    // No pretrained model for a file's points: the network trained on them drives the panels.
    let ddim = "{\"kind\": \"ddim\", \"steps\": 5, \"eta\": 0, \"spacing\": \"leading\"}";
    assert!(pg.start_sampler(ddim, "pretrained", 10, 0).is_err());
    pg.start_training(r#"{"options": {"hidden": 16, "depth": 1, "lr": 0.01, "batch_size": 32, "steps": 10, "seed": 0}, "objective": "ddpm"}"#)
        .unwrap();
    assert_eq!(pg.start_sampler(ddim, "learned", 10, 0).unwrap(), 5);
    // The score field has the network's half only.
    let f = pg.score_field(10, 11, 4.0, "learned").await.unwrap();
    assert_eq!(f.learned_score().length(), 2 * 121);
    assert_eq!(f.log_p().length(), 0);
}

#[wasm_bindgen_test]
async fn training_on_drawn_points_and_recovery_through_the_weights() {
    let mut pg = Playground::create(Backend::Flex).await;
    pg.load_model(WEIGHTS, CONFIG).unwrap();
    pg.set_points(ring()).unwrap();
    let config = r#"{"options": {"hidden": 64, "depth": 2, "lr": 0.01, "batch_size": 256, "steps": 300, "seed": 1}, "objective": "ddpm"}"#;
    assert!(pg
        .start_training(&config.replace("ddpm", "score-magic"))
        .is_err());
    assert!(pg.start_training("{\"hidden\": 64}").is_err());
    pg.start_training(config).unwrap();

    let eval0 = pg.eval_loss(7).await.unwrap();
    let x0 = pg.train_samples(500, 20, 3).await.unwrap().to_vec();
    let energy0 = pg.energy_distance(&x0).unwrap();
    for _ in 0..20 {
        let loss = pg.train_steps(10).await.unwrap();
        assert!(loss.is_finite());
    }
    assert_eq!(pg.trained_steps(), 200);
    let eval1 = pg.eval_loss(7).await.unwrap();
    // The same batch before and after: a fall of a fifth is the network's, not the batch's.
    assert!(eval1 < 0.8 * eval0, "fixed-batch loss {eval0} -> {eval1}");
    // Samples move from the untrained network's blob towards the ring.
    let x1 = pg.train_samples(500, 20, 3).await.unwrap().to_vec();
    assert!(x1.iter().all(|v| v.is_finite()));
    let energy1 = pg.energy_distance(&x1).unwrap();
    assert!(
        energy1 < 0.5 * energy0,
        "energy distance {energy0} -> {energy1}"
    );

    // The weights carry the run: a fresh start differs, the restored run is the same network at
    // the same step.
    let weights = pg.train_weights().await.unwrap().to_vec();
    pg.start_training(config).unwrap();
    assert_eq!(pg.trained_steps(), 0);
    assert_eq!(pg.eval_loss(7).await.unwrap(), eval0);
    pg.restore_training(&weights, 200).unwrap();
    assert_eq!(pg.trained_steps(), 200);
    let restored = pg.eval_loss(7).await.unwrap();
    assert!(
        (restored - eval1).abs() <= 1e-6 * eval1,
        "restored loss {restored}, before {eval1}"
    );
    pg.train_steps(5).await.unwrap();
    assert_eq!(pg.trained_steps(), 205);
    assert!(pg.restore_training(&weights[..100], 200).is_err());

    // The panels can sample the network being trained.
    pg.start_sampler(
        "{\"kind\": \"ancestral\", \"variance\": \"beta_tilde\"}",
        "learned",
        100,
        1,
    )
    .unwrap();
    let f = pg.sample_steps(1000).await.unwrap();
    assert_eq!(f.remaining(), 0);
}

/// The score panel's comparison: plain and annealed Langevin on the seeds' exact score, stepped
/// together; annealing recovers π = (⅕, ⅘) and plain Langevin does not (n = 1000: a weight's
/// standard error is at most 0.016; the page test derives the same bounds). Bad input is refused.
#[wasm_bindgen_test]
async fn langevin_and_annealed_langevin_side_by_side() {
    let mut pg = Playground::create(Backend::Flex).await;
    pg.load_model(WEIGHTS, CONFIG).unwrap();
    pg.set_dataset("seeds").unwrap();
    let specs = r#"[{"kind": "langevin", "steps": 500, "step_size": 0.05},
        {"kind": "annealed_langevin", "levels": 10, "n_per_level": 50, "step_size": 0.005,
         "sigma_min": 0.1, "sigma_max": null}]"#;
    assert!(message(pg.comparison_steps(&[1, 1]).await.unwrap_err()).contains("startComparison"));
    let totals = pg.start_comparison(specs, 1000, 3).unwrap();
    assert_eq!(totals, vec![500, 500]);
    assert!(message(pg.comparison_steps(&[1]).await.unwrap_err()).contains("2 samplers"));
    let half = pg.comparison_steps(&[250, 500]).await.unwrap();
    assert_eq!(half.remaining(), vec![250, 0]);
    assert_eq!(
        half.weights().length(),
        0,
        "weights before every sampler is done"
    );
    let f = pg.comparison_steps(&[1000, 1000]).await.unwrap();
    assert_eq!(f.remaining(), vec![0, 0]);
    let x = f.x().to_vec();
    assert_eq!(x.len(), 2 * 1000 * 2);
    let plain = pg.component_weights(&x[..2000]).unwrap().to_vec();
    let annealed = pg.component_weights(&x[2000..]).unwrap().to_vec();
    assert_eq!(f.weights().to_vec(), [&plain[..], &annealed[..]].concat());
    assert!((annealed[0] - 0.2).abs() < 0.08, "annealed {annealed:?}");
    assert!((plain[0] - 0.2).abs() > 0.15, "plain {plain:?}");

    assert!(message(pg.start_comparison("[]", 10, 0).unwrap_err()).contains("at least one"));
    assert!(message(
        pg.start_comparison("[{\"kind\": \"nope\"}]", 10, 0)
            .unwrap_err()
    )
    .contains("not a list of samplers"));
    // A new data set ends the comparison; without a mixture there is no exact score to run it on.
    pg.set_dataset("moons").unwrap();
    assert!(message(pg.comparison_steps(&[1, 1]).await.unwrap_err()).contains("startComparison"));
    assert!(message(pg.start_comparison(specs, 10, 0).unwrap_err()).contains("mixtures"));
}
