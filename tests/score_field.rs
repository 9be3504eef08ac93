//! The grid helper behind the page's score panel: grid layout, the exact field of a perturbed
//! mixture on it, and the shipped network's score error, which is large where `p_t` is small
//! (Song & Ermon 2019, §3.2.1: the training loss weights errors by the density).
#![cfg(not(target_arch = "wasm32"))]

mod common;

use burn::prelude::*;
use diffusion_playground::bundle;
use diffusion_playground::data::{oracle_field, row_distance, GaussianMixture, Grid, MixtureScore};
use diffusion_playground::model::{NetworkScore, ScoreModel};
use diffusion_playground::process::{NoiseLevel, VpProcess};

#[test]
fn grid_points_run_x_fastest_from_the_bottom_left() {
    let g = Grid::new(3, 2.0).unwrap();
    assert_eq!(g.len(), 9);
    assert_eq!(
        g.points(),
        vec![-2., -2., 0., -2., 2., -2., -2., 0., 0., 0., 2., 0., -2., 2., 0., 2., 2., 2.]
    );
    assert!(Grid::new(1, 2.0).is_err());
    assert!(Grid::new(3, 0.0).is_err());
    assert!(Grid::new(3, f64::INFINITY).is_err());
}

#[test]
fn oracle_field_matches_the_pointwise_density_and_score() {
    let mix = GaussianMixture::from_file(common::repo_path("data/mixture3.json")).unwrap();
    let (a, s) = (0.8f64, 0.6f64);
    let m = diffusion_playground::process::Marginal {
        mean_coef: a,
        std: s,
    };
    let g = Grid::new(7, 5.0).unwrap();
    let (log_p, score) = oracle_field(&MixtureScore::new(mix.clone()), &g, m).unwrap();
    let p_t = mix.perturbed(a, s).unwrap();
    for (i, pt) in g.points().chunks(2).enumerate() {
        let (lp, sc) = p_t.log_prob_and_score(&[pt[0] as f64, pt[1] as f64]);
        assert!((log_p[i] - lp).abs() < 1e-9, "log p at point {i}");
        for j in 0..2 {
            assert!(
                (score[2 * i + j] - sc[j]).abs() < 1e-9,
                "score at point {i}"
            );
        }
    }
}

#[test]
fn row_distance_is_the_euclidean_norm_per_row() {
    let d = row_distance(&[3.0, 4.0, 1.0, 1.0], &[0.0, 0.0, 1.0, 1.0], 2).unwrap();
    assert_eq!(d, vec![5.0, 0.0]);
    assert!(row_distance(&[1.0, 2.0], &[1.0], 2).is_err());
}

#[test]
fn shipped_model_score_error_is_large_where_density_is_low() {
    let device = Device::flex();
    let (net, card) = bundle::load(common::repo_path("www/weights/ddpm_mixture"), &device).unwrap();
    let mix = card.data.require_mixture("this test").unwrap();
    let process = VpProcess::new(card.train.objective.schedule().unwrap()).unwrap();
    // A low noise level (t = 20 of 1000, s_t ≈ 0.06): p_t is close to the data and falls to
    // ~1e-30 at the grid's corners.
    let level = NoiseLevel::step(&process, 20);
    let g = Grid::new(41, 8.0).unwrap();
    let (log_p, exact) = oracle_field(&MixtureScore::new(mix), &g, level.marginal).unwrap();
    let x = Tensor::<2>::from_data(TensorData::new(g.points(), [g.len(), 2]), &device);
    let learned = NetworkScore::new(
        &net,
        card.parameterization,
        card.train.objective.process.num_steps(),
    )
    .score(x, &level)
    .unwrap()
    .into_data()
    .try_into_vec::<f32>()
    .unwrap();
    let err = row_distance(&learned, &exact, 2).unwrap();
    let mean_where = |keep: &dyn Fn(f64) -> bool| {
        let v: Vec<f64> = (0..g.len())
            .filter(|&i| keep(log_p[i] / std::f64::consts::LN_10))
            .map(|i| err[i])
            .collect();
        assert!(!v.is_empty());
        v.iter().sum::<f64>() / v.len() as f64
    };
    let high = mean_where(&|l| l >= -2.0);
    let low = mean_where(&|l| l < -8.0);
    // Deterministic (fixed weights, fixed grid); the claim is an order of magnitude.
    assert!(
        low > 10.0 * high,
        "error where p_t < 1e-8 ({low:.3}) should dwarf the error where p_t ≥ 1e-2 ({high:.3})"
    );
}
