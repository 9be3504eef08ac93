//! One core, two faces. For every process × objective × sampler × score source, `dplay sample`
//! (the CLI face: a model folder or the oracle, the sampler given as the page's JSON with
//! `--spec`, the oracle's process with `--process-spec`) and the calls the page's worker makes
//! (`web::Playground::startSampler`: `SamplerSpec::support`, then `build_on` and
//! `reset_from_prior` with the same seed) give the same support verdict and, where supported, the
//! same samples on flex. Both run the same f32 operations in the same order, so "the same" is
//! bit for bit; the 1e-6 bound only absorbs nothing.

mod common;

use std::path::Path;

use burn::prelude::*;
use serde_json::{json, Value};

use common::dplay;
use diffusion_playground::bundle;
use diffusion_playground::catalogue;
use diffusion_playground::data::{GaussianMixture, MixtureScore};
use diffusion_playground::io::npy;
use diffusion_playground::model::{MlpConfig, NetworkScore, ScoreModel};
use diffusion_playground::noise;
use diffusion_playground::process::{ProcessConfig, VeConfig};
use diffusion_playground::sampler::{SamplerSpec, ScoreSource, SdeKind};
use diffusion_playground::schedule::{BetaSchedule, ScheduleConfig};
use diffusion_playground::score::{Loss, Objective};
use diffusion_playground::train::{DataSpec, ModelCard, TrainConfig};

const N: usize = 16;
const SEED: u64 = 5;

fn processes() -> Vec<ProcessConfig> {
    let schedule = |kind| ScheduleConfig {
        kind,
        steps: 20,
        beta_start: 1e-3,
        beta_end: 0.2,
    };
    vec![
        ProcessConfig::Vp {
            schedule: schedule(BetaSchedule::Linear),
        },
        // No linear β(t): the continuous samplers are refused.
        ProcessConfig::Vp {
            schedule: schedule(BetaSchedule::Cosine),
        },
        ProcessConfig::SubVp {
            schedule: schedule(BetaSchedule::Linear),
        },
        ProcessConfig::Ve(VeConfig {
            sigma_min: 0.1,
            sigma_max: 5.0,
            levels: 5,
        }),
        // No SDE; its last step is pure noise (a = 0), where only x̂₀ is defined.
        ProcessConfig::Flow { steps: 20 },
    ]
}

/// Every sampler of the catalogue at its defaults, shortened, and each continuous one on each SDE
/// (the flow path's included, which only the ODE walks).
fn specs() -> Vec<SamplerSpec> {
    let mut out = Vec::new();
    for spec in SamplerSpec::defaults() {
        let Value::Object(mut o) = serde_json::to_value(&spec).unwrap() else {
            unreachable!()
        };
        for (key, short) in [("steps", 3), ("n_per_level", 2), ("levels", 3)] {
            if o.contains_key(key) {
                o.insert(key.into(), json!(short));
            }
        }
        if o.contains_key("process") {
            for sde in [SdeKind::Vp, SdeKind::SubVp, SdeKind::Ve, SdeKind::Flow] {
                o.insert("process".into(), serde_json::to_value(sde).unwrap());
                out.push(serde_json::from_value(Value::Object(o.clone())).unwrap());
            }
        } else {
            out.push(serde_json::from_value(Value::Object(o)).unwrap());
        }
    }
    out
}

/// The page's path: support, then the sampler from the prior, stepped to the end.
fn page_samples(
    spec: &SamplerSpec,
    process: &ProcessConfig,
    source: ScoreSource,
    model: &dyn ScoreModel,
    mix: &GaussianMixture,
) -> Result<Vec<f32>, String> {
    let device = Device::flex();
    spec.support(process, source).map_err(|e| e.to_string())?;
    let points = || Ok((mix.sample(2000, &mut noise::rng(SEED)), mix.dim()));
    let mut s = spec
        .build_on(&process.build().unwrap(), source, points, SEED)
        .map_err(|e| e.to_string())?;
    s.reset_from_prior(N, mix.dim(), &device);
    let x = s.run(model).map_err(|e| e.to_string())?;
    let x = x.into_data().try_to_vec::<f32>().unwrap();
    // A walk too short for its step blows up on both faces; the CLI says so.
    match x.iter().all(|v| v.is_finite()) {
        true => Ok(x),
        false => Err("sampler diverged".into()),
    }
}

/// `dplay sample` with the score `source` flags and `spec`: the samples, or its error line.
fn cli_samples(source: &[&str], spec: &SamplerSpec, out: &Path) -> Result<Vec<f32>, String> {
    let (spec, n, seed) = (spec_arg(spec), N.to_string(), SEED.to_string());
    let mut args = vec!["sample"];
    args.extend(source);
    args.extend(["--spec", &spec, "--n", &n, "--seed", &seed]);
    args.extend(["--out", out.to_str().unwrap()]);
    let o = dplay(&args);
    if o.status.success() {
        Ok(npy::read_f32(out).unwrap().0)
    } else {
        Err(String::from_utf8_lossy(&o.stderr).trim().to_string())
    }
}

/// One combination: the same verdict, the same samples.
fn check(what: &str, page: Result<Vec<f32>, String>, cli: Result<Vec<f32>, String>) {
    match (page, cli) {
        (Ok(a), Ok(b)) => {
            assert_eq!(a.len(), b.len(), "{what}");
            let err = a
                .iter()
                .zip(&b)
                .map(|(x, y)| (x - y).abs())
                .fold(0f32, f32::max);
            assert!(err <= 1e-6, "{what}: max |Δ| = {err:e}");
        }
        (Err(page), Err(cli)) => {
            assert!(cli.starts_with("error: "), "{what}: {cli}");
            assert!(
                cli.contains(&page),
                "{what}: the CLI refuses for another reason:\n page: {page}\n cli:  {cli}"
            );
        }
        (page, cli) => panic!(
            "{what}: the faces disagree: page {:?}, CLI {:?}",
            page.map(|_| "runs"),
            cli.map(|_| "runs")
        ),
    }
}

fn spec_arg(spec: &SamplerSpec) -> String {
    serde_json::to_string(spec).unwrap()
}

#[test]
fn the_cli_and_the_page_agree_on_every_combination() {
    let d = common::scratch("conformance", "all");
    let data = common::repo_path("data/mixture3.json");
    let mix = GaussianMixture::from_file(&data).unwrap();
    let device = Device::flex();
    let specs = specs();
    let mut checked = 0;
    let mut ran = 0;
    for (p, process) in processes().iter().enumerate() {
        // The oracle, on the process the page shows.
        let oracle = MixtureScore::new(mix.clone());
        for (k, spec) in specs.iter().enumerate() {
            let out = d.join(format!("oracle-{p}-{k}.npy"));
            let process_spec = serde_json::to_string(process).unwrap();
            let source = [
                "--data",
                data.to_str().unwrap(),
                "--process-spec",
                &process_spec,
            ];
            let page = page_samples(spec, process, ScoreSource::Oracle, &oracle, &mix);
            ran += page.is_ok() as usize;
            check(
                &format!("oracle on {} with {}", process.describe(), spec_arg(spec)),
                page,
                cli_samples(&source, spec, &out),
            );
            checked += 1;
        }
        // A network trained on the process's levels with each objective (untrained weights: the
        // faces must agree whatever the weights).
        for objective in Loss::ALL {
            let objective = Objective::new(objective, *process);
            let model_dir = d.join(format!("model-{p}-{}", objective.name()));
            let train = TrainConfig::new()
                .with_objective(objective)
                .with_model(MlpConfig::new().with_dim(2).with_hidden(16).with_depth(1));
            let card = ModelCard {
                parameterization: objective.parameterization(),
                train,
                data: DataSpec::Points {
                    source: "conformance".into(),
                    n: 0,
                    dim: 2,
                },
                trained_steps: 0,
                final_loss: None,
                ema: false,
            };
            let net = card.train.model.init(&device);
            bundle::save(&model_dir, &net, &card).unwrap();
            let (net, card) = bundle::load(&model_dir, &device).unwrap();
            let score = NetworkScore::new(&net, card.parameterization, process.num_steps());
            for (k, spec) in specs.iter().enumerate() {
                let out = d.join(format!("net-{p}-{}-{k}.npy", objective.name()));
                let page = page_samples(spec, process, ScoreSource::Learned, &score, &mix);
                ran += page.is_ok() as usize;
                check(
                    &format!(
                        "{} on {} with {}",
                        objective.name(),
                        process.describe(),
                        spec_arg(spec)
                    ),
                    page,
                    cli_samples(&["--model", model_dir.to_str().unwrap()], spec, &out),
                );
                checked += 1;
            }
        }
    }
    eprintln!("{ran} of {checked} combinations ran on both faces; the rest were refused by both");
    // 5 processes × the samplers × (1 oracle + each objective).
    assert_eq!(checked, 5 * specs.len() * (1 + Loss::ALL.len()));
    // Both verdicts occur: the test would pass vacuously if everything were refused.
    assert!(ran > checked / 3 && ran < checked, "{ran} of {checked} ran");
}

/// The CLI face names what the catalogue names: `dplay catalogue` is the library's catalogue, and
/// `--sampler` takes every sampler by its name (with `-` for `_`) and nothing else.
#[test]
fn the_cli_offers_every_catalogue_name() {
    let o = dplay(&["catalogue"]);
    assert!(o.status.success());
    let printed: Value = serde_json::from_slice(&o.stdout).unwrap();
    let library: Value = serde_json::from_str(&catalogue::catalogue_json()).unwrap();
    assert_eq!(printed, library);
    let d = common::scratch("conformance", "names");
    let data = common::repo_path("data/mixture3.json");
    let out = d.join("x.npy");
    for entry in catalogue::catalogue().samplers {
        let name = entry.kind.replace('_', "-");
        let o = dplay(&[
            "sample",
            "--data",
            data.to_str().unwrap(),
            "--sampler",
            &name,
            "--n",
            "4",
            "--out",
            out.to_str().unwrap(),
        ]);
        assert!(
            o.status.success(),
            "--sampler {name}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
    let o = dplay(&[
        "sample",
        "--data",
        data.to_str().unwrap(),
        "--sampler",
        "ode-heun",
        "--out",
        out.to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("unknown sampler 'ode-heun'"), "{err}");
}
