//! `SamplerSpec`: every sampler named by JSON (the page's controls) builds, steps and respects
//! which score source it can run on.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use burn::prelude::*;
use diffusion_playground::bundle;
use diffusion_playground::data::{GaussianMixture, MixtureScore};
use diffusion_playground::metrics::component_weights;
use diffusion_playground::model::NetworkScore;
use diffusion_playground::process::VpProcess;
use diffusion_playground::sampler::{SamplerSpec, ScoreSource};

const SPECS: &[&str] = &[
    r#"{"kind": "ancestral", "variance": "beta_tilde"}"#,
    r#"{"kind": "ancestral", "variance": "beta"}"#,
    r#"{"kind": "ddim", "steps": 50, "eta": 0.0, "spacing": "leading"}"#,
    r#"{"kind": "ddim", "steps": 20, "eta": 1.0, "spacing": "trailing"}"#,
    r#"{"kind": "langevin", "steps": 100, "step_size": 0.1}"#,
    r#"{"kind": "annealed_langevin", "levels": 10, "n_per_level": 20, "step_size": 0.005, "sigma_min": 0.1, "sigma_max": null}"#,
    r#"{"kind": "euler_maruyama", "steps": 100, "process": "vp"}"#,
    r#"{"kind": "euler_maruyama", "steps": 100, "process": "sub_vp"}"#,
    r#"{"kind": "pc", "steps": 100, "snr": 0.16, "corrector_steps": 1, "process": "ve"}"#,
    r#"{"kind": "ode", "steps": 100, "method": "heun", "process": "vp"}"#,
    r#"{"kind": "ode", "steps": 100, "method": "euler", "process": "ve"}"#,
];

fn mixture() -> GaussianMixture {
    GaussianMixture::from_file(common::repo_path("data/mixture3.json")).unwrap()
}

fn vp() -> VpProcess {
    VpProcess::new(Default::default()).unwrap()
}

#[test]
fn every_spec_parses_round_trips_and_steps_with_the_oracle() {
    let mix = mixture();
    let oracle = MixtureScore::new(mix.clone());
    for text in SPECS {
        let spec = SamplerSpec::from_json(text).unwrap();
        let again: SamplerSpec =
            serde_json::from_str(&serde_json::to_string(&spec).unwrap()).unwrap();
        assert_eq!(spec, again, "{text}");
        let mut s = spec.build(&vp(), ScoreSource::Oracle, &mix, 1).unwrap();
        s.reset_from_prior(64, 2, &Device::flex());
        let total = s.remaining();
        assert!(total > 0, "{text}: nothing to do");
        let out = s.step(&oracle).unwrap();
        assert_eq!(s.remaining(), total - 1, "{text}");
        let x = out.x.into_data().try_into_vec::<f32>().unwrap();
        assert!(x.iter().all(|v| v.is_finite()), "{text}: non-finite step");
    }
}

#[test]
fn learned_vp_model_refuses_ve_levels_and_other_sdes() {
    let mix = mixture();
    for text in [SPECS[5], SPECS[7], SPECS[8], SPECS[10]] {
        let spec = SamplerSpec::from_json(text).unwrap();
        let err = spec
            .build(&vp(), ScoreSource::Learned, &mix, 1)
            .err()
            .unwrap_or_else(|| panic!("{text} should not build for the VP ε-network"));
        assert!(err.to_string().contains("VP model"), "{text}: {err}");
    }
}

#[test]
fn bad_specs_say_what_is_wrong() {
    let mix = mixture();
    for (text, needle) in [
        (r#"{"kind": "heat"}"#, "unknown variant"),
        (r#"{"kind": "ddim", "steps": 50, "eta": 0.0}"#, "spacing"),
        (
            r#"{"kind": "ddim", "steps": 50, "eta": 0.0, "spacing": "leading", "x": 1}"#,
            "unknown field",
        ),
    ] {
        let err = SamplerSpec::from_json(text).unwrap_err().to_string();
        assert!(err.contains(needle), "{text}: {err}");
    }
    for text in [
        r#"{"kind": "ddim", "steps": 0, "eta": 0.0, "spacing": "leading"}"#,
        r#"{"kind": "ddim", "steps": 50, "eta": 2.0, "spacing": "leading"}"#,
        r#"{"kind": "langevin", "steps": 0, "step_size": 0.1}"#,
        r#"{"kind": "langevin", "steps": 10, "step_size": -1.0}"#,
    ] {
        let spec = SamplerSpec::from_json(text).unwrap();
        assert!(
            spec.build(&vp(), ScoreSource::Oracle, &mix, 1).is_err(),
            "{text} should be refused"
        );
    }
}

#[test]
fn learned_ddim_from_a_spec_recovers_the_shipped_mixture_weights() {
    let device = Device::flex();
    let (net, card) = bundle::load(common::repo_path("www/weights/ddpm_mixture"), &device).unwrap();
    let mix = card.data.require_mixture("this test").unwrap();
    let process = VpProcess::new(card.train.objective.schedule().unwrap()).unwrap();
    let spec = SamplerSpec::from_json(
        r#"{"kind": "ddim", "steps": 50, "eta": 0.0, "spacing": "leading"}"#,
    )
    .unwrap();
    let mut s = spec.build(&process, ScoreSource::Learned, &mix, 3).unwrap();
    let n = 4000;
    s.reset_from_prior(n, 2, &device);
    let model = NetworkScore::new(
        &net,
        card.parameterization,
        card.train.objective.process.num_steps(),
    );
    let x = s
        .run(&model)
        .unwrap()
        .into_data()
        .try_into_vec::<f32>()
        .unwrap();
    let w = component_weights(&mix, &x).unwrap();
    for (k, (got, want)) in w.iter().zip(mix.weights()).enumerate() {
        // As in tests/ddpm.rs: 3 SE of a proportion at n = 4000 (0.024) plus 0.016 for the model.
        assert!(
            (got - want).abs() < 0.04,
            "component {k}: weight {got} vs {want}"
        );
    }
}
