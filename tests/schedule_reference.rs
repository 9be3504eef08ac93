//! The schedule tables equal diffusers' `DDPMScheduler` (../shared/reference/sched_ref.json) to 1e-6.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use diffusion_playground::schedule::{BetaSchedule, ScheduleConfig};

fn check(kind: BetaSchedule, key: &str) {
    let text = std::fs::read_to_string(common::reference_dir().join("sched_ref.json")).unwrap();
    let r: serde_json::Value = serde_json::from_str(&text).unwrap();
    let r = &r[key];
    let s = ScheduleConfig {
        kind,
        ..ScheduleConfig::default()
    }
    .build()
    .unwrap();
    let tables: [(&str, &[f64]); 5] = [
        ("betas", &s.betas),
        ("alphas_cumprod", &s.alphas_cumprod),
        ("posterior_variance", &s.posterior_variance),
        ("posterior_mean_coef1", &s.posterior_mean_coef1),
        ("posterior_mean_coef2", &s.posterior_mean_coef2),
    ];
    for (name, ours) in tables {
        let theirs: Vec<f64> = r[name]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        assert_eq!(theirs.len(), 1000, "{key}.{name}");
        assert_eq!(ours.len(), 1000, "{key}.{name}");
        let (i, err) = ours
            .iter()
            .zip(&theirs)
            .map(|(a, b)| (a - b).abs())
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .unwrap();
        assert!(
            err <= 1e-6,
            "{key}.{name}: max |diff| {err:e} at t={i} (ours {}, reference {})",
            ours[i],
            theirs[i]
        );
    }
}

#[test]
fn linear_schedule_matches_diffusers() {
    check(BetaSchedule::Linear, "linear");
}

#[test]
fn cosine_schedule_matches_diffusers() {
    check(BetaSchedule::Cosine, "cosine");
}

#[test]
fn zero_steps_is_an_error() {
    let err = ScheduleConfig {
        steps: 0,
        ..ScheduleConfig::default()
    }
    .build()
    .unwrap_err();
    assert!(err.to_string().contains("at least 1"), "{err}");
}
