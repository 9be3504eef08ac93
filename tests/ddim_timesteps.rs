//! DDIM's 50 inference timesteps equal diffusers' `DDIMScheduler.set_timesteps(50)` under each
//! `timestep_spacing`, for both schedules in ../shared/reference/sched_ref.json.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use diffusion_playground::process::VpProcess;
use diffusion_playground::sampler::{ddim_timesteps, DdimSampler, TimestepSpacing};
use diffusion_playground::schedule::{BetaSchedule, ScheduleConfig};

#[test]
fn ddim50_timesteps_equal_diffusers() {
    let text = std::fs::read_to_string(common::reference_dir().join("sched_ref.json")).unwrap();
    let r: serde_json::Value = serde_json::from_str(&text).unwrap();
    let spacings = [
        ("leading", TimestepSpacing::Leading),
        ("trailing", TimestepSpacing::Trailing),
        ("linspace", TimestepSpacing::Linspace),
    ];
    let mut checked = 0;
    for (key, kind) in [
        ("linear", BetaSchedule::Linear),
        ("cosine", BetaSchedule::Cosine),
    ] {
        let process = VpProcess::new(ScheduleConfig {
            kind,
            ..ScheduleConfig::default()
        })
        .unwrap();
        for (name, spacing) in spacings {
            let want: Vec<usize> = r[key][format!("ddim50_timesteps_{name}")]
                .as_array()
                .unwrap_or_else(|| panic!("{key}.ddim50_timesteps_{name} missing"))
                .iter()
                .map(|v| v.as_u64().unwrap() as usize)
                .collect();
            assert_eq!(want.len(), 50);
            assert_eq!(
                ddim_timesteps(1000, 50, spacing).unwrap(),
                want,
                "{key} {name}"
            );
            let s = DdimSampler::new(process.clone(), 50, spacing, 0.0, None, 0).unwrap();
            assert_eq!(s.timesteps(), &want[..], "{key} {name} sampler");
            checked += 1;
        }
    }
    assert_eq!(checked, 6);
}

#[test]
fn ddim_timesteps_reject_bad_counts() {
    for spacing in [
        TimestepSpacing::Leading,
        TimestepSpacing::Trailing,
        TimestepSpacing::Linspace,
    ] {
        assert!(ddim_timesteps(1000, 0, spacing).is_err());
        assert!(ddim_timesteps(1000, 1001, spacing).is_err());
        assert_eq!(ddim_timesteps(1000, 1000, spacing).unwrap().len(), 1000);
    }
    // numpy rounds half to even: linspace(0, 9, 3) = [0, 4.5, 9] -> [0, 4, 9].
    assert_eq!(
        ddim_timesteps(10, 3, TimestepSpacing::Linspace).unwrap(),
        vec![9, 4, 0]
    );
}
