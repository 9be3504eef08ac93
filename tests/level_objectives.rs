//! Objectives at every level of a chosen process (what the page trains): each objective, on each
//! of VP, sub-VP and VE, lowers its own fixed-batch loss and moves the network's score towards the
//! exact score of the perturbed mixture; the processes' tables and chains; DDIM on any process;
//! which source can drive which sampler on which process.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use burn::prelude::*;
use diffusion_playground::bundle;
use diffusion_playground::data::{GaussianMixture, MixtureScore, Toy2d};
use diffusion_playground::metrics::component_weights;
use diffusion_playground::model::{MlpConfig, NetworkScore, Parameterization, ScoreModel};
use diffusion_playground::noise;
use diffusion_playground::process::{NoiseLevel, Process, ProcessConfig, VeConfig};
use diffusion_playground::sampler::{
    DdimSampler, Sampler, SamplerSpec, ScoreSource, TimestepSpacing,
};
use diffusion_playground::schedule::{BetaSchedule, ScheduleConfig};
use diffusion_playground::score::{Loss, Objective};
use diffusion_playground::train::{TrainConfig, Trainer};

fn mixture() -> GaussianMixture {
    GaussianMixture::from_file(common::repo_path("data/mixture3.json")).unwrap()
}

fn host(x: Tensor<2>) -> Vec<f32> {
    x.into_data().try_into_vec::<f32>().unwrap()
}

fn vp(kind: BetaSchedule, steps: usize) -> ScheduleConfig {
    ScheduleConfig {
        kind,
        steps,
        ..ScheduleConfig::default()
    }
}

fn processes() -> Vec<ProcessConfig> {
    vec![
        ProcessConfig::default(),
        ProcessConfig::SubVp {
            schedule: vp(BetaSchedule::Cosine, 200),
        },
        ProcessConfig::Ve(VeConfig {
            sigma_min: 0.1,
            sigma_max: 20.0,
            levels: 10,
        }),
    ]
}

fn config(objective: Loss, process: ProcessConfig, steps: usize) -> TrainConfig {
    TrainConfig::new()
        .with_model(MlpConfig::new().with_hidden(64).with_depth(2))
        .with_objective(Objective::new(objective, process))
        .with_steps(steps)
        .with_batch_size(256)
        .with_lr(5e-3)
        .with_warmup(20)
        .with_seed(4)
}

/// The relative score error in ε units, `Σ s_t²‖s_θ - ∇log p_t‖² / Σ s_t²‖∇log p_t‖²` (the
/// weighting every objective here shares up to its parameterisation), over 1000 draws of `p_t`
/// at three levels (a tenth, half and nine tenths of the way up).
fn score_error(trainer: &Trainer, process: &ProcessConfig, mix: &GaussianMixture) -> f64 {
    let device = Device::flex();
    let built = process.build().unwrap();
    let steps = built.num_steps();
    let net = trainer.model();
    let model = NetworkScore::new(&net, trainer.config().objective.parameterization(), steps);
    let oracle = MixtureScore::new(mix.clone());
    let (mut err, mut norm) = (0.0, 0.0);
    let mut rng = noise::rng(99);
    for t in [steps / 10, steps / 2, steps * 9 / 10] {
        let n = 1000;
        let x0 = Tensor::<2>::from_data(TensorData::new(mix.sample(n, &mut rng), [n, 2]), &device);
        let xt = built.q_sample(x0, &vec![t; n], noise::normal(&mut rng, [n, 2], &device));
        let level = NoiseLevel::step(&built, t);
        let s = host(model.score(xt.clone(), &level).unwrap());
        let exact = host(oracle.score(xt, &level).unwrap());
        let w = level.marginal.std.powi(2);
        for (a, b) in s.iter().zip(&exact) {
            err += w * ((a - b) as f64).powi(2);
            norm += w * (*b as f64).powi(2);
        }
    }
    err / norm
}

/// 400 Adam steps of each objective on each process. The fixed-batch loss is the same batch
/// before and after, so a fall (here by a fifth of its size at least) is the network's. The score
/// error is measured against the exact score, independently of the loss: a network that outputs
/// zero scores 1, so below 0.2 it has learned the score. Where the untrained network's error is
/// far above 1 (a raw score output at VE's large σ, a denoiser's x̂₀ divided by sub-VP's tiny
/// s_t²) 400 steps need only cut it tenfold: those parameterisations learn slowly there, which
/// is why DDPM predicts ε (and NCSNv2 divides by σ).
#[test]
fn every_objective_on_every_process_lowers_its_loss_and_learns_the_score() {
    let mix = mixture();
    let mut report = Vec::new();
    for process in processes() {
        for objective in Loss::ALL {
            let mut trainer = Trainer::new(
                config(objective, process, 400),
                mix.clone(),
                &Device::flex(),
            )
            .unwrap();
            let loss0: f32 = trainer.eval_loss(7).into_scalar();
            let err0 = score_error(&trainer, &process, &mix);
            for _ in 0..400 {
                let _ = trainer.step();
            }
            let loss1: f32 = trainer.eval_loss(7).into_scalar();
            let err1 = score_error(&trainer, &process, &mix);
            report.push(format!(
                "{} {:>4}: loss {loss0:9.4} -> {loss1:9.4}, score error {err0:.3} -> {err1:.3}",
                process.name(),
                objective.name()
            ));
            let row = report.last().unwrap();
            assert!(loss1 < loss0 - 0.2 * loss0.abs(), "{row}");
            assert!(err1 < 0.2 || (err0 > 2.0 && err1 < err0 / 10.0), "{row}");
        }
    }
    println!("{}", report.join("\n"));
}

/// Each process's chain `x_t = r_t x_{t-1} + √(s_t² - r_t² s_{t-1}²) z`, run from a fixed x₀ for
/// all T steps, lands on the closed-form marginal: the mean within 3 SE (`s/√n`) of `a x₀` and the
/// variance within 3 SE (`s² √(2/(n-1))`) of `s²` (n = 20000).
#[test]
fn every_chain_lands_on_its_marginal() {
    let device = Device::flex();
    let n = 20_000;
    for process in [
        ProcessConfig::Vp {
            schedule: vp(BetaSchedule::Cosine, 50),
        },
        ProcessConfig::SubVp {
            schedule: vp(BetaSchedule::Linear, 50),
        },
        ProcessConfig::Ve(VeConfig {
            sigma_min: 0.1,
            sigma_max: 5.0,
            levels: 8,
        }),
    ] {
        let p = process.build().unwrap();
        for t in 0..p.num_steps() {
            let (_, var) = p.chain_coefs(t);
            assert!(
                var >= 0.0,
                "{}: step {t} has variance {var}",
                process.describe()
            );
        }
        let mut x =
            Tensor::<2>::from_data(TensorData::new([1.0f32, -2.0].repeat(n), [n, 2]), &device);
        let mut rng = noise::rng(5);
        for t in 0..p.num_steps() {
            x = p.q_step(x, t, noise::normal(&mut rng, [n, 2], &device));
        }
        let x = host(x);
        let m = p.marginal(p.num_steps() - 1);
        for (c, x0) in [(0usize, 1.0f64), (1, -2.0)] {
            let (mean, var) = common::column_moments(&x, 2, c);
            let (a, s) = (m.mean_coef, m.std);
            assert!(
                (mean - a * x0).abs() < 3.0 * s / (n as f64).sqrt(),
                "{}: mean {mean} vs {}",
                process.describe(),
                a * x0
            );
            assert!(
                (var - s * s).abs() < 3.0 * s * s * (2.0 / (n - 1) as f64).sqrt(),
                "{}: var {var} vs {}",
                process.describe(),
                s * s
            );
        }
    }
}

#[test]
fn sub_vp_has_vp_mean_and_a_smaller_std() {
    let schedule = vp(BetaSchedule::Linear, 1000);
    let v = ProcessConfig::Vp { schedule }.build().unwrap();
    let s = ProcessConfig::SubVp { schedule }.build().unwrap();
    for t in [0, 10, 500, 999] {
        let (a, b) = (v.marginal(t), s.marginal(t));
        assert_eq!(a.mean_coef, b.mean_coef);
        assert!((b.std - a.std * a.std).abs() < 1e-12, "t = {t}");
        assert!(b.std <= a.std);
    }
}

/// DDIM on the marginals of sub-VP and VE, driven by the exact score, recovers the mixture's
/// weights: with n = 3000 a weight's SE is at most 0.5/√n, the allowance 3 SE = 0.027, plus
/// 0.01 for the deterministic sampler's discretisation error with 100 steps.
#[test]
fn ddim_on_any_process_recovers_the_weights_with_the_oracle() {
    let mix = mixture();
    let oracle = MixtureScore::new(mix.clone());
    let n = 3000;
    for process in [
        ProcessConfig::SubVp {
            schedule: vp(BetaSchedule::Linear, 1000),
        },
        ProcessConfig::Ve(VeConfig {
            sigma_min: 0.01,
            sigma_max: 30.0,
            levels: 1000,
        }),
    ] {
        let mut s = DdimSampler::on_process(
            process.build().unwrap(),
            100,
            TimestepSpacing::Trailing,
            0.0,
            None,
            3,
        )
        .unwrap();
        s.reset_from_prior(n, 2, &Device::flex());
        let x = host(s.run(&oracle).unwrap());
        let w = component_weights(&mix, &x).unwrap();
        let tol = 3.0 * 0.5 / (n as f64).sqrt() + 0.01;
        for (got, want) in w.iter().zip(mix.weights()) {
            assert!(
                (got - want).abs() < tol,
                "{}: weights {w:?}",
                process.describe()
            );
        }
    }
}

fn spec(text: &str) -> SamplerSpec {
    SamplerSpec::from_json(text).unwrap()
}

#[test]
fn which_source_drives_which_sampler_on_which_process() {
    let ve = ProcessConfig::Ve(VeConfig::default());
    let vp_cosine = ProcessConfig::Vp {
        schedule: vp(BetaSchedule::Cosine, 1000),
    };
    let ancestral = spec(r#"{"kind": "ancestral", "variance": "beta_tilde"}"#);
    let ddim = spec(r#"{"kind": "ddim", "steps": 50, "eta": 0.0, "spacing": "leading"}"#);
    let annealed = spec(
        r#"{"kind": "annealed_langevin", "levels": 10, "n_per_level": 5, "step_size": 0.005, "sigma_min": 0.1, "sigma_max": 10.0}"#,
    );
    let ode = |kind: &str| {
        spec(&format!(
            r#"{{"kind": "ode", "steps": 10, "method": "heun", "process": "{kind}"}}"#
        ))
    };
    let refused = |s: &SamplerSpec, p: &ProcessConfig, source, needle: &str| {
        let e = s.support(p, source).unwrap_err().to_string();
        assert!(e.contains(needle), "{s:?} on {}: {e}", p.describe());
    };
    for source in [
        ScoreSource::Learned,
        ScoreSource::Pretrained,
        ScoreSource::Oracle,
    ] {
        // Ancestral sampling is DDPM's VP chain, whoever drives it; DDIM runs everywhere.
        refused(&ancestral, &ve, source, "discrete VP chain");
        assert!(ddim.support(&ve, source).is_ok());
        assert!(ancestral.support(&ProcessConfig::default(), source).is_ok());
    }
    // A network knows its own process's levels only.
    refused(
        &annealed,
        &ProcessConfig::default(),
        ScoreSource::Learned,
        "a VP model",
    );
    assert!(annealed.support(&ve, ScoreSource::Learned).is_ok());
    refused(&ode("vp"), &ve, ScoreSource::Learned, "a VE model");
    assert!(ode("ve").support(&ve, ScoreSource::Pretrained).is_ok());
    refused(
        &ode("vp"),
        &vp_cosine,
        ScoreSource::Learned,
        "linear β schedule",
    );
    // The oracle knows every marginal.
    for kind in ["vp", "sub_vp", "ve"] {
        assert!(ode(kind).support(&vp_cosine, ScoreSource::Oracle).is_ok());
    }
    assert!(annealed
        .support(&ProcessConfig::default(), ScoreSource::Oracle)
        .is_ok());
    // On the VE process annealed Langevin walks the process's own levels; DDIM takes at most its
    // L steps (both faces cut the setting to that).
    let data = || Ok((mixture().sample(100, &mut noise::rng(0)), 2));
    let built = ve.build().unwrap();
    let mut s = annealed
        .build_on(&built, ScoreSource::Oracle, data, 0)
        .unwrap();
    s.reset_from_prior(4, 2, &Device::flex());
    assert_eq!(s.remaining(), 10 * 5);
    assert!(matches!(ddim, SamplerSpec::Ddim { steps, .. } if steps > built.num_steps()));
    let mut s = ddim
        .build_on(&built, ScoreSource::Learned, data, 0)
        .unwrap();
    s.reset_from_prior(4, 2, &Device::flex());
    assert_eq!(s.remaining(), 10);
}

#[test]
fn esm_needs_a_mixture_and_the_card_records_the_process() {
    let ve = ProcessConfig::Ve(VeConfig::default());
    let err = Trainer::new(config(Loss::Esm, ve, 10), Toy2d::Moons, &Device::flex())
        .err()
        .expect("ESM on moons")
        .to_string();
    assert!(err.contains("exact score"), "{err}");
    // A denoiser's card says x0 and names its process; it reads back as written.
    let trainer = Trainer::new(config(Loss::Dsm, ve, 10), mixture(), &Device::flex()).unwrap();
    let card = trainer.card(None);
    assert_eq!(card.parameterization, Parameterization::X0);
    let (bytes, json) = bundle::to_bytes(&trainer.model(), &card).unwrap();
    let (_, again) = bundle::from_bytes(&bytes, &json, &Device::flex()).unwrap();
    assert_eq!(again, card);
    assert_eq!(again.train.objective.sampling_process(), Some(ve));
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(value["train"]["objective"]["objective"], "dsm");
    assert_eq!(value["train"]["objective"]["process"]["kind"], "ve");
}

/// The page's VE model: NCSN's loss on the VE levels from σ = 20 to 1 (Song & Ermon 2019, §4.3)
/// for the seeds' ⅕/⅘ mixture, then annealed Langevin built as the page builds it, on the
/// network's own levels. A weight's SE at n = 2000 is √(0.2·0.8/2000) ≈ 0.009; 3 SE plus 0.02 for
/// the network's error after a short run is 0.05, which still fails a sampler that ignores the
/// weights (plain Langevin gets 0.5 here, see tests/langevin_vs_annealed.rs).
#[test]
fn a_ve_network_drives_annealed_langevin_to_the_weights() {
    let mix = GaussianMixture::from_file(common::repo_path("data/seeds_two_modes.json")).unwrap();
    let ve = ProcessConfig::Ve(VeConfig {
        sigma_min: 1.0,
        sigma_max: 20.0,
        levels: 10,
    });
    let steps = 3000;
    let config = TrainConfig::new()
        .with_objective(Objective::new(Loss::Ncsn, ve))
        .with_steps(steps)
        .with_batch_size(256)
        .with_seed(3);
    let mut trainer = Trainer::new(config, mix.clone(), &Device::flex()).unwrap();
    for _ in 0..steps {
        let _ = trainer.step();
    }
    let spec = spec(
        r#"{"kind": "annealed_langevin", "levels": 10, "n_per_level": 100, "step_size": 0.1, "sigma_min": 0.1, "sigma_max": null}"#,
    );
    let process = ve.build().unwrap();
    let data = || Ok((mix.sample(100, &mut noise::rng(0)), 2));
    let mut s = spec
        .build_on(&process, ScoreSource::Learned, data, 1)
        .unwrap();
    let n = 2000;
    s.reset_from_prior(n, 2, &Device::flex());
    let net = trainer.model();
    let model = NetworkScore::new(&net, Parameterization::Score, process.num_steps());
    let x = host(s.run(&model).unwrap());
    let w = component_weights(&mix, &x).unwrap();
    assert!((w[0] - 0.2).abs() < 0.05, "weights {w:?}");
}
