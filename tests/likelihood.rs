//! The probability-flow likelihood: Dormand–Prince against closed forms, each divergence path
//! against the others, and the ODE's log p with the exact score against the mixture's exact
//! log density on every process.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use burn::prelude::*;
use diffusion_playground::data::{GaussianMixture, MixtureScore};
use diffusion_playground::likelihood::{dopri5, log_likelihood, LikelihoodConfig, Tolerance};
use diffusion_playground::model::divergence::reverse_mode;
use diffusion_playground::model::{
    Divergence, MlpConfig, NetworkScore, Parameterization, ScoreModel,
};
use diffusion_playground::noise;
use diffusion_playground::process::{
    FlowSde, Marginal, NoiseLevel, Sde, SubVpSde, Time, VeSde, VpSde,
};

fn host(x: Tensor<1>) -> Vec<f32> {
    x.into_data().try_into_vec::<f32>().unwrap()
}

fn points(x: &[f32], d: usize) -> Tensor<2> {
    Tensor::from_data(
        TensorData::new(x.to_vec(), [x.len() / d, d]),
        &Device::flex(),
    )
}

fn mixture() -> GaussianMixture {
    GaussianMixture::from_file(common::repo_path("data/mixture3.json")).unwrap()
}

#[test]
fn dopri5_meets_its_tolerance_on_closed_forms() {
    // dy/dt = λ y, one λ per column: y(1) = e^λ. And dy/dt = cos t, backwards from 2 to 0:
    // y(0) = y(2) - sin 2. A global error near the tolerance (≤ 20 · tol allows for its
    // accumulation over the steps), and tighter tolerances cost more evaluations.
    let lambdas = [-3.0f32, 0.5, 2.0];
    let y0 = points(&[1.0, 1.0, 1.0], 3);
    let lam = points(&lambdas, 3);
    let mut nfe = Vec::new();
    for tol in [1e-4, 1e-6] {
        let tol = Tolerance {
            rtol: tol,
            atol: tol,
        };
        let sol = dopri5::solve(
            |_, y| Ok(y * lam.clone()),
            y0.clone(),
            0.0,
            1.0,
            tol,
            10_000,
        )
        .unwrap();
        let y = sol.y.into_data().try_into_vec::<f32>().unwrap();
        for (v, l) in y.iter().zip(lambdas) {
            let want = (l as f64).exp();
            let err = (*v as f64 - want).abs() / want.max(1.0);
            assert!(err <= 20.0 * tol.rtol.max(1e-6), "λ = {l}: {v} vs {want}");
        }
        nfe.push(sol.nfe);
    }
    assert!(nfe[1] > nfe[0], "tighter tolerance, no more work: {nfe:?}");
    let sol = dopri5::solve(
        |t, y| Ok(y.zeros_like() + t.cos()),
        points(&[0.0], 1),
        2.0,
        0.0,
        Tolerance::SCORE_SDE,
        10_000,
    )
    .unwrap();
    let y = sol.y.into_data().try_into_vec::<f32>().unwrap()[0] as f64;
    assert!((y + 2.0f64.sin()).abs() < 1e-4, "backwards: {y}");
    // A budget too small is an error, not a wrong answer.
    let err = dopri5::solve(|_, y| Ok(y * 50.0), y0, 0.0, 1.0, Tolerance::SCORE_SDE, 20);
    assert!(err.is_err());
}

#[test]
fn oracle_divergence_is_the_jacobian_trace_of_its_denoiser() {
    // The closed form against one reverse-mode pass of the oracle's own denoiser with the
    // basis tangents (exact too): they agree to float rounding on VP, VE and flow's a = 0.
    let mix = mixture();
    let oracle = MixtureScore::new(mix.clone());
    let x = points(&mix.sample(64, &mut noise::rng(3)), 2);
    for (a, s) in [(0.9, 0.44), (1.0, 1.5), (0.3, 0.7), (0.0, 1.0), (1.0, 0.05)] {
        let level = NoiseLevel {
            time: Time::Continuous(0.5),
            marginal: Marginal {
                mean_coef: a,
                std: s,
            },
        };
        let (d1, div1) = oracle
            .denoise_divergence(x.clone(), &level, &Divergence::Exact)
            .unwrap();
        let (d2, div2) = reverse_mode(&oracle, x.clone(), &level, &Divergence::Exact).unwrap();
        let (d1, d2) = (
            d1.into_data().try_into_vec::<f32>().unwrap(),
            d2.into_data().try_into_vec::<f32>().unwrap(),
        );
        assert!(
            common::max_abs_diff(&d1, &d2) < 1e-5,
            "D at a = {a}, s = {s}"
        );
        let (v1, v2) = (host(div1), host(div2));
        let scale = v2.iter().fold(1.0f32, |m, v| m.max(v.abs()));
        assert!(
            common::max_abs_diff(&v1, &v2) < 1e-3 * scale,
            "∇·D at a = {a}, s = {s}: {:?} vs {:?}",
            &v1[..4],
            &v2[..4]
        );
    }
}

#[test]
fn network_divergence_forward_mode_reverse_mode_and_hutchinson_agree() {
    // A random MLP's x̂₀ through each parameterisation: forward-mode tangents and one
    // reverse-mode pass give the same exact trace. Hutchinson with k Rademacher probes is
    // unbiased; over 64 points and k = 256 its mean error is within 4 standard errors of 0,
    // the standard error computed from the Jacobian ([`offdiag_sum`]).
    let device = Device::flex();
    device.seed(11);
    let net = MlpConfig::new().init(&device);
    let x = points(&mixture().sample(64, &mut noise::rng(5)), 2);
    let level = NoiseLevel {
        time: Time::Continuous(0.3),
        marginal: Marginal {
            mean_coef: 0.8,
            std: 0.6,
        },
    };
    for p in [
        Parameterization::Epsilon,
        Parameterization::X0,
        Parameterization::V,
        Parameterization::Velocity,
    ] {
        let model = NetworkScore::new(&net, p, 1000);
        let (_, fwd) = model
            .denoise_divergence(x.clone(), &level, &Divergence::Exact)
            .unwrap();
        let (_, rev) = reverse_mode(&model, x.clone(), &level, &Divergence::Exact).unwrap();
        let (fwd, rev) = (host(fwd), host(rev));
        assert!(
            common::max_abs_diff(&fwd, &rev) < 1e-4,
            "{p:?}: {:?} vs {:?}",
            &fwd[..3],
            &rev[..3]
        );
    }
    let model = NetworkScore::new(&net, Parameterization::Epsilon, 1000);
    let (_, exact) = model
        .denoise_divergence(x.clone(), &level, &Divergence::Exact)
        .unwrap();
    let exact = host(exact);
    let k = 256;
    let probes = Divergence::rademacher(k, 64, 2, &device).unwrap();
    let (_, est) = model
        .denoise_divergence(x.clone(), &level, &probes)
        .unwrap();
    let est = host(est);
    let mean_err: f64 = est
        .iter()
        .zip(&exact)
        .map(|(a, b)| (a - b) as f64)
        .sum::<f64>()
        / 64.0;
    let var: f64 = offdiag_sum(&model, &x, &level)
        .iter()
        .map(|o| o * o / k as f64)
        .sum::<f64>()
        / (64.0 * 64.0);
    assert!(
        mean_err.abs() <= 4.0 * var.sqrt() + 1e-6,
        "Hutchinson's mean error {mean_err} vs SE {}",
        var.sqrt()
    );
    assert!(Divergence::rademacher(0, 64, 2, &device).is_err());
}

/// `J_12 + J_21` per point of `D = x̂₀`. With d = 2 and Rademacher `v`,
/// `vᵀ J v = J_11 + J_22 + v_1 v_2 (J_12 + J_21)`, so one probe's error is `±(J_12 + J_21)`
/// and k probes' mean has variance `(J_12 + J_21)²/k`. The sum is half the difference of
/// `vᵀ J v` at `v = (1, 1)` and `(1, -1)`.
fn offdiag_sum(model: &NetworkScore<'_>, x: &Tensor<2>, level: &NoiseLevel) -> Vec<f64> {
    let n = x.dims()[0];
    let q = |second: f32| {
        let v: Vec<f32> = (0..n).flat_map(|_| [1.0, second]).collect();
        let probes = Divergence::Hutchinson {
            probes: Box::new(points(&v, 2)),
            count: 1,
        };
        host(
            model
                .denoise_divergence(x.clone(), level, &probes)
                .unwrap()
                .1,
        )
    };
    let (plus, minus) = (q(1.0), q(-1.0));
    plus.iter()
        .zip(&minus)
        .map(|(p, m)| 0.5 * (p - m) as f64)
        .collect()
}

/// The ODE's log p with the oracle score against the mixture's exact log p_0 on `sde`: the
/// mean absolute error over 200 points drawn from the mixture, and the solve's cost.
fn oracle_error(sde: &dyn Sde, t_end: f64) -> (f64, usize) {
    let mix = mixture();
    let oracle = MixtureScore::new(mix.clone());
    let x = mix.sample(200, &mut noise::rng(21));
    let config = LikelihoodConfig {
        t_end,
        tol: Tolerance::SCORE_SDE,
        divergence: Divergence::Exact,
        max_nfe: 20_000,
    };
    let got = log_likelihood(&oracle, sde, points(&x, 2), &config).unwrap();
    let (exact, _) = mix.log_prob_and_score_batch(&x);
    let mae = got
        .log_p
        .iter()
        .zip(&exact)
        .map(|(a, b)| (a - b).abs())
        .sum::<f64>()
        / exact.len() as f64;
    (mae, got.nfe)
}

#[test]
fn ode_log_likelihood_of_the_oracle_is_the_mixtures_exact_density() {
    // The bound, 0.01 nats mean absolute error, on each process. What remains is the
    // solver's error (rtol = atol = 1e-5), the prior's mismatch at t = 1 (VP: a(1) ≈ 0.0066,
    // so the means shift by < 0.02 against unit variance) and p_ε against p_0 (s(ε)² ≤ 1e-4
    // against covariance eigenvalues ≥ 0.15; the flow path's p_ε is p_0 scaled by 1 - ε, about
    // 2ε nats, hence its ε = 1e-5). VE's σ_max = 200 keeps its prior's mismatch, of order
    // |μ| |x_1|/σ_max², below 0.005.
    let cases: [(&str, Box<dyn Sde>, f64); 4] = [
        ("VP", Box::new(VpSde::default()), 1e-3),
        ("sub-VP", Box::new(SubVpSde::default()), 1e-3),
        ("VE", Box::new(VeSde::new(0.01, 200.0).unwrap()), 1e-5),
        ("flow", Box::new(FlowSde), 1e-5),
    ];
    for (name, sde, eps) in cases {
        let (mae, nfe) = oracle_error(sde.as_ref(), eps);
        println!("{name}: mean |Δ log p| = {mae:.2e} nats in {nfe} evaluations");
        assert!(mae <= 0.01, "{name}: mean |Δ log p| = {mae}");
        // The flow path's prior is exactly p_1 = N(0, I), and p_ε is p_0 to O(ε): what is left
        // is the solver's error, so the bound is ten times tighter (measured: 1e-4).
        if name == "flow" {
            assert!(mae <= 1e-3, "flow: mean |Δ log p| = {mae}");
        }
    }
}

#[test]
fn dplay_likelihood_reports_the_oracle_beside_the_exact_density_and_refuses_bad_input() {
    let dir = common::scratch("likelihood", "cli");
    let mix = common::path_arg(&common::repo_path("data/mixture3.json"));
    let out = dir.join("logp.npy");
    let run = common::dplay(&[
        "likelihood",
        "--data",
        &mix,
        "--process",
        "flow",
        "--n",
        "200",
        "--out",
        &common::path_arg(&out),
    ]);
    let text = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    // "mean |ODE - exact| 1.0e-4 nats": the flow path's bound above.
    let mae: f64 = text
        .split("mean |ODE - exact| ")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no error line: {text}"));
    assert!(mae <= 1e-3, "{text}");
    let (logp, shape) = diffusion_playground::io::npy::read_f32(&out).unwrap();
    assert_eq!(shape, vec![200]);
    assert!(logp.iter().all(|v| v.is_finite() && *v < 0.0));
    let bad_x = dir.join("bad.npy");
    diffusion_playground::io::npy::write_f32(&bad_x, &[0.0; 6], &[2, 3]).unwrap();
    let bad = common::path_arg(&bad_x);
    for (args, needle) in [
        (vec!["--n", "0"], "at least 1"),
        (vec!["--n", "5", "--rtol", "2"], "tolerances"),
        (vec!["--n", "5", "--probes", "0"], "at least 1 probe"),
        (vec!["--n", "5", "--t-end", "0"], "ε in (0, 1)"),
        (vec!["--n", "5", "--bpd"], "image models"),
        (vec!["--x", bad.as_str()], "[n, 2]"),
        (vec![], "give the points"),
    ] {
        let mut all = vec!["likelihood", "--data", mix.as_str()];
        all.extend(args);
        common::assert_clean_error(&common::dplay(&all), needle);
    }
    common::assert_clean_error(&common::dplay(&["likelihood", "--n", "5"]), "--model DIR");
}
