//! The science checks that fit in a browser: forward moments, oracle samplers, the seeds'
//! experiment (b), forward-mode JVPs and the score-matching objectives. Statistics run on flex
//! with a few thousand points; WebGPU runs the same checks on fewer points and steps, and its
//! losses must equal flex's for the same weights and the same host randomness.

use burn::prelude::*;
use diffusion_playground::bundle;
use diffusion_playground::data::{GaussianMixture, MixtureScore};
use diffusion_playground::experiments::langevin_vs_annealed::{
    langevin_vs_annealed, LangevinVsAnnealedConfig,
};
use diffusion_playground::metrics::{component_weights, dense_region_grid, relative_score_error};
use diffusion_playground::model::MlpConfig;
use diffusion_playground::noise;
use diffusion_playground::process::{Process, ProcessConfig, VeConfig, VpProcess, VpSde};
use diffusion_playground::sampler::{
    AncestralSampler, DdimSampler, EulerMaruyama, OdeMethod, PosteriorVariance, PredictorCorrector,
    ProbabilityFlowOde, Sampler, TimestepSpacing,
};
use diffusion_playground::schedule::ScheduleConfig;
use diffusion_playground::score::{Loss, Objective, Projection, Slicing};
use diffusion_playground::train::{TrainConfig, Trainer};
use wasm_bindgen_test::*;

use super::{gpu, read, yield_to_browser, MIXTURE};

fn mixture() -> GaussianMixture {
    GaussianMixture::from_json(MIXTURE, "mixture3.json").unwrap()
}

/// `x_t` for a fixed `x_0 = (1, -2)` is `N(a x_0, s² I)`: the sample mean is within 3 SE
/// (`s/√n`) of `a x_0` and the sample variance within 3 SE (`s² √(2/(n-1))`) of `s²`.
async fn check_forward_moments(device: &Device, n: usize) {
    let x0 = Tensor::<2>::from_data(TensorData::new([1.0f32, -2.0].repeat(n), [n, 2]), device);
    let vp = VpProcess::new(ScheduleConfig::default()).unwrap();
    let ve = VeConfig::default().build().unwrap();
    let mut rng = noise::rng(21);
    for (name, t) in [
        ("vp", 50usize),
        ("vp", 400),
        ("vp", 999),
        ("ve", 0),
        ("ve", 9),
    ] {
        let z = noise::normal(&mut rng, [n, 2], device);
        let (xt, m) = match name {
            "vp" => (vp.q_sample(x0.clone(), &vec![t; n], z), vp.marginal(t)),
            _ => (ve.q_sample(x0.clone(), &vec![t; n], z), ve.marginal(t)),
        };
        let x = read(xt).await;
        for (c, x0c) in [(0usize, 1.0f64), (1, -2.0)] {
            let col: Vec<f64> = x.iter().skip(c).step_by(2).map(|&v| v as f64).collect();
            let mean = col.iter().sum::<f64>() / n as f64;
            let var = col.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
            let (a, s) = (m.mean_coef, m.std);
            let se_mean = s / (n as f64).sqrt();
            let se_var = s * s * (2.0 / (n - 1) as f64).sqrt();
            assert!(
                (mean - a * x0c).abs() < 3.0 * se_mean,
                "{name} t={t} c={c}: mean {mean} vs {}",
                a * x0c
            );
            assert!(
                (var - s * s).abs() < 3.0 * se_var,
                "{name} t={t} c={c}: var {var} vs {}",
                s * s
            );
        }
    }
}

#[wasm_bindgen_test]
async fn forward_moments_on_flex() {
    check_forward_moments(&Device::flex(), 20_000).await;
}

#[wasm_bindgen_test]
async fn forward_moments_on_webgpu() {
    check_forward_moments(&gpu().await, 4000).await;
}

/// Run `sampler` with the exact mixture score from its prior and check the weights by nearest
/// component. With n points a weight's SE is `√(π(1-π)/n)` ≤ `0.5/√n`; the tolerance is 3 SE.
async fn check_oracle_sampler(
    name: &str,
    mut sampler: Box<dyn Sampler>,
    device: &Device,
    n: usize,
) {
    let mix = mixture();
    sampler.reset_from_prior(n, 2, device);
    let x = read(sampler.run(&MixtureScore::new(mix.clone())).unwrap()).await;
    assert!(
        x.iter().all(|v| v.is_finite()),
        "{name}: non-finite samples"
    );
    let w = component_weights(&mix, &x).unwrap();
    let tol = 3.0 * 0.5 / (n as f64).sqrt();
    for (got, want) in w.iter().zip(mix.weights()) {
        assert!(
            (got - want).abs() < tol,
            "{name}: weights {w:?}, want {:?} ± {tol:.3}",
            mix.weights()
        );
    }
}

fn vp() -> VpProcess {
    VpProcess::new(ScheduleConfig::default()).unwrap()
}

#[wasm_bindgen_test]
async fn oracle_samplers_on_flex() {
    let device = Device::flex();
    let sde = || Box::new(VpSde::default());
    let samplers: Vec<(&str, Box<dyn Sampler>)> = vec![
        (
            "ancestral",
            Box::new(AncestralSampler::new(
                vp(),
                PosteriorVariance::BetaTilde,
                None,
                1,
            )),
        ),
        (
            "ddim eta=0",
            Box::new(DdimSampler::new(vp(), 50, TimestepSpacing::Trailing, 0.0, None, 2).unwrap()),
        ),
        (
            "ddim eta=1",
            Box::new(DdimSampler::new(vp(), 100, TimestepSpacing::Trailing, 1.0, None, 3).unwrap()),
        ),
        (
            "euler-maruyama",
            Box::new(EulerMaruyama::new(sde(), 500, 1e-3, 4).unwrap()),
        ),
        (
            "pc",
            Box::new(PredictorCorrector::new(sde(), 200, 1e-3, 0.16, 1, 5).unwrap()),
        ),
        (
            "ode heun",
            Box::new(ProbabilityFlowOde::new(sde(), 50, 1e-3, OdeMethod::Heun, 6).unwrap()),
        ),
    ];
    for (name, s) in samplers {
        check_oracle_sampler(name, s, &device, 3000).await;
    }
}

#[wasm_bindgen_test]
async fn oracle_samplers_on_webgpu() {
    let device = gpu().await;
    let sde = || Box::new(VpSde::default());
    let samplers: Vec<(&str, Box<dyn Sampler>)> = vec![
        (
            "ddim eta=0",
            Box::new(DdimSampler::new(vp(), 20, TimestepSpacing::Trailing, 0.0, None, 2).unwrap()),
        ),
        (
            "pc",
            Box::new(PredictorCorrector::new(sde(), 40, 1e-3, 0.16, 1, 5).unwrap()),
        ),
    ];
    for (name, s) in samplers {
        check_oracle_sampler(name, s, &device, 1000).await;
    }
}

/// Experiment (b) on the seeds' ⅕/⅘ mixture: plain Langevin from uniform points misses the
/// weights by more than 0.1, annealed Langevin recovers them (3 SE at n = 2000 is
/// 3·√(0.16/2000) ≈ 0.027; the allowance is 0.03).
#[wasm_bindgen_test]
async fn langevin_misses_the_weights_and_annealed_langevin_recovers_them_on_flex() {
    let mix = GaussianMixture::from_json(
        include_str!("../../data/seeds_two_modes.json"),
        "seeds_two_modes.json",
    )
    .unwrap();
    let r =
        langevin_vs_annealed(&mix, &LangevinVsAnnealedConfig::default(), &Device::flex()).unwrap();
    assert!(
        (r.langevin_weights[0] - 0.2).abs() > 0.1,
        "plain Langevin: {:?}",
        r.langevin_weights
    );
    assert!(
        (r.annealed_weights[0] - 0.2).abs() < 0.03,
        "annealed Langevin: {:?}",
        r.annealed_weights
    );
}

/// The JVP of the MLP equals central differences (h = 10⁻², error ~10⁻⁵ for an O(1) network).
async fn check_jvp(device: &Device) {
    device.seed(3);
    let mlp = MlpConfig::new().with_hidden(32).with_depth(2).init(device);
    let n = 8;
    let x = noise::normal(&mut noise::rng(1), [n, 2], device);
    let v = noise::normal(&mut noise::rng(2), [n, 2], device);
    let t = Tensor::<1>::from_data(
        TensorData::new((0..n).map(|i| (i * 100) as f32).collect::<Vec<_>>(), [n]),
        device,
    );
    let (_, jv) = mlp.forward_jvp(x.clone(), t.clone(), v.clone());
    let h = 1e-2;
    let fd =
        (mlp.forward(x.clone() + v.clone() * h, t.clone()) - mlp.forward(x - v * h, t)) / (2.0 * h);
    let (jv, fd) = (read(jv).await, read(fd).await);
    let worst = jv
        .iter()
        .zip(&fd)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    assert!(worst < 1e-3, "max |Jv - FD| = {worst}");
}

#[wasm_bindgen_test]
async fn forward_jvp_on_flex_and_webgpu() {
    check_jvp(&Device::flex()).await;
    check_jvp(&gpu().await).await;
}

fn gaussian() -> GaussianMixture {
    GaussianMixture::from_json(
        r#"{"weights": [1.0], "means": [[1.0, -0.5]], "covs": [[[1.5, 0.6], [0.6, 0.8]]]}"#,
        "gaussian",
    )
    .unwrap()
}

fn objectives() -> Vec<Objective> {
    let ve = ProcessConfig::Ve(VeConfig {
        sigma_min: 0.2,
        sigma_max: 4.0,
        levels: 5,
    });
    let slicing = |projection, projections, variance_reduced| Slicing {
        projection,
        projections,
        variance_reduced,
    };
    vec![
        Objective::noise_free(Loss::Esm),
        Objective::noise_free(Loss::Ism),
        Objective::noise_free(Loss::Ssm).with_slicing(slicing(Projection::Gaussian, 2, false)),
        Objective::noise_free(Loss::Ssm).with_slicing(slicing(Projection::Rademacher, 1, true)),
        Objective::new(Loss::Dsm, ProcessConfig::one_level(0.1)),
        Objective::new(Loss::Ncsn, ProcessConfig::one_level(0.1)),
        Objective::default(),
    ]
    .into_iter()
    // Every objective as the page trains it, on VE's levels.
    .chain(Loss::ALL.map(|loss| Objective::new(loss, ve)))
    .collect()
}

/// ISM fits the Gaussian's score on flex in the browser: relative L² error under 10% on the grid
/// where the density is above 1% of its peak (Mahalanobis r² < 2 ln 100), as natively. Then each
/// objective's loss on WebGPU equals flex's for the same weights and the same host draws, the
/// page's objectives on a process included (so a run moved to the CPU after a lost device goes on
/// with the loss it had, whatever it trains).
#[wasm_bindgen_test]
async fn score_matching_fits_on_flex_and_agrees_on_webgpu() {
    let mix = gaussian();
    let config = TrainConfig::new()
        .with_model(MlpConfig::new().with_hidden(64).with_depth(2))
        .with_objective(Objective::noise_free(Loss::Ism))
        .with_steps(1500)
        .with_batch_size(256)
        .with_lr(3e-3)
        .with_warmup(50)
        .with_seed(12);
    let mut trainer = Trainer::new(config, mix.clone(), &Device::flex()).unwrap();
    for i in 0..1500 {
        let _ = trainer.step();
        if i % 100 == 99 {
            yield_to_browser().await;
        }
    }
    let pts = dense_region_grid(&mix, 0.01, 41).unwrap();
    let x = Tensor::<2>::from_data(
        TensorData::new(pts.clone(), [pts.len() / 2, 2]),
        &Device::flex(),
    );
    let learned = read(trainer.criterion().data_score(&trainer.model(), x)).await;
    let rel = relative_score_error(&mix, &pts, &learned).unwrap();
    assert!(rel < 0.1, "ISM relative error {rel:.3}");

    // The same weights on both backends (through the safetensors bytes), the same host RNG.
    let (weights, card) = bundle::to_bytes(&trainer.model(), &trainer.card(None)).unwrap();
    let gpu = gpu().await;
    for objective in objectives() {
        let mut losses = Vec::new();
        for device in [Device::flex(), gpu.clone()] {
            let (model, _) = bundle::from_bytes(&weights, &card, &device).unwrap();
            let criterion = objective.criterion().unwrap();
            let mut rng = noise::rng(77);
            let x0 = mix.sample(128, &mut rng);
            let loss = criterion
                .batch_loss(&model, &x0, 2, Some(&mix), &mut rng, &device)
                .unwrap();
            losses.push(read(loss).await[0]);
        }
        let (a, b) = (losses[0], losses[1]);
        // f32 kernels differ only in summation order: 1e-3 relative is far above that.
        assert!(
            (a - b).abs() <= 1e-3 * (1.0 + a.abs()),
            "{}: flex {a} vs webgpu {b}",
            objective.name()
        );
    }
}
