//! The catalogue: every process, objective, score source and sampler described once, with its
//! options (domain, default, unit) and a short label with its equation. It serialises to JSON;
//! the page builds its controls from it and the CLI its flags' names, so a sampler added here
//! (and in [`SamplerSpec`]) is offered by both faces.
//!
//! Defaults are not written here: they are read from the values themselves
//! ([`SamplerSpec::defaults`], [`ProcessConfig`]'s, [`Objective`]'s), so each is written once.

use serde::Serialize;
use serde_json::{json, Value};

use crate::data::Toy2d;
use crate::model::guidance::{Guidance, MAX_LABEL, MAX_SCALE};
use crate::process::ProcessConfig;
use crate::sampler::{SamplerSpec, ScoreSource};
use crate::score::{Loss, Slicing};
use crate::train::{options::RANGES, TrainOptions};

/// The whole catalogue.
#[derive(Debug, Clone, Serialize)]
pub struct Catalogue {
    pub processes: Vec<Entry>,
    pub objectives: Vec<Entry>,
    pub sources: Vec<Entry>,
    pub samplers: Vec<Entry>,
    pub datasets: Vec<Dataset>,
    /// The options of a training run ([`TrainOptions`]): `dplay train`'s flags of these names
    /// and the page's training controls.
    pub training: Vec<Opt>,
    /// A class-conditional image model's label and classifier-free guidance.
    pub guidance: Vec<Opt>,
}

/// A named 2-D data set, and the folder of the model shipped for it (under the page's root).
#[derive(Debug, Clone, Serialize)]
pub struct Dataset {
    pub kind: &'static str,
    pub label: &'static str,
    pub weights: &'static str,
}

/// One process, objective, source or sampler.
#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    /// The name in JSON, in the URL hash and (with `-` for `_`) on the command line.
    pub kind: &'static str,
    pub label: &'static str,
    /// The defining equation, in the page's plain-text math (`x_t`, `√`, `ᾱ`).
    pub equation: &'static str,
    /// One sentence for the help line.
    pub help: &'static str,
    /// The paper, e.g. "Ho et al. 2020, Algorithm 2".
    pub cite: &'static str,
    pub options: Vec<Opt>,
    /// What else a face needs to know of the entry (a process's chain and noise scale, an
    /// objective's parameterisation and the sign of its loss).
    pub facts: Value,
}

/// One option of an entry: the JSON field `key` of its value.
#[derive(Debug, Clone, Serialize)]
pub struct Opt {
    pub key: &'static str,
    pub label: &'static str,
    pub help: &'static str,
    #[serde(flatten)]
    pub domain: Domain,
    /// The default value, as JSON (`null`: chosen by the rule `help` names).
    pub default: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit: Option<&'static str>,
}

/// The values an option takes; `min`/`max` are the controls' range.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Domain {
    Int {
        min: f64,
        max: f64,
    },
    /// `log`: the range spans decades (a step size), so a control moves on a log scale.
    Num {
        min: f64,
        max: f64,
        log: bool,
    },
    Choice {
        values: Vec<Choice>,
    },
    /// A number or `null` (the automatic rule).
    OptionalNum {
        min: f64,
        max: f64,
    },
    /// `true` or `false`.
    Bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Choice {
    pub value: &'static str,
    pub label: &'static str,
}

fn choice(values: &[(&'static str, &'static str)]) -> Domain {
    Domain::Choice {
        values: values
            .iter()
            .map(|&(value, label)| Choice { value, label })
            .collect(),
    }
}

const SDES: [(&str, &str); 4] = [
    ("vp", "VP"),
    ("sub_vp", "sub-VP"),
    ("ve", "VE"),
    ("flow", "flow"),
];

/// An option whose default is the field `key` of `value`'s JSON.
fn opt(
    value: &impl Serialize,
    key: &'static str,
    label: &'static str,
    help: &'static str,
    domain: Domain,
) -> Opt {
    let json = serde_json::to_value(value).expect("catalogue values serialise");
    let default = lookup(&json, key).cloned().unwrap_or(Value::Null);
    Opt {
        key,
        label,
        help,
        domain,
        default,
        unit: None,
    }
}

/// The field at a dotted path (`schedule.steps`).
fn lookup<'a>(json: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(json, |v, k| v.get(k))
}

fn samplers() -> Vec<Entry> {
    SamplerSpec::defaults().iter().map(sampler_entry).collect()
}

fn steps(d: &SamplerSpec, max: f64, help: &'static str) -> Opt {
    opt(d, "steps", "steps", help, Domain::Int { min: 1.0, max })
}

fn clip(d: &SamplerSpec) -> Opt {
    opt(
        d,
        "clip",
        "clip x̂₀",
        "bound x̂₀ to [−c, c] at each step (diffusers' clip_sample); empty: no clipping",
        Domain::OptionalNum {
            min: 0.01,
            max: 100.0,
        },
    )
}

fn sde(d: &SamplerSpec) -> Opt {
    opt(
        d,
        "process",
        "SDE",
        "the forward SDE whose reverse is walked; a network needs its own process's",
        choice(&SDES),
    )
}

fn t_end(d: &SamplerSpec) -> Opt {
    opt(
        d,
        "t_end",
        "end time ε",
        "where the walk stops; empty: score_sde's 1e-3 (VP, sub-VP) or 1e-5 (VE)",
        Domain::OptionalNum {
            min: 1e-6,
            max: 0.5,
        },
    )
}

fn sampler_entry(d: &SamplerSpec) -> Entry {
    let (label, equation, help, cite, options) = match d {
        SamplerSpec::Ancestral { .. } => (
            "DDPM ancestral",
            "x_{t−1} = (x_t − β_t/√(1−ᾱ_t) ε_θ)/√α_t + σ_t z",
            "all T steps of the VP chain, each a draw from the learned reverse Gaussian",
            "Ho et al. 2020, Algorithm 2",
            vec![
                opt(
                    d,
                    "variance",
                    "σ_t²",
                    "the reverse step's variance: β̃_t (optimal for one x₀) or β_t (for x₀ ~ N(0, I))",
                    choice(&[("beta_tilde", "β̃_t"), ("beta", "β_t")]),
                ),
                clip(d),
            ],
        ),
        SamplerSpec::Ddim { .. } => (
            "DDIM",
            "x_{t′} = √ᾱ_{t′} x̂_0 + √(1−ᾱ_{t′}−σ²) ε_θ + σ z,  σ = η √((1−ᾱ_{t′})/(1−ᾱ_t)) √(1−ᾱ_t/ᾱ_{t′})",
            "a sub-sequence of the steps; η = 0 is deterministic, η = 1 DDPM's variance",
            "Song, Meng & Ermon 2021, eqs. 12 and 16",
            vec![
                steps(d, 1000.0, "visited steps, at most the process's T"),
                opt(
                    d,
                    "eta",
                    "η",
                    "0 deterministic, 1 DDPM-like",
                    Domain::Num {
                        min: 0.0,
                        max: 1.0,
                        log: false,
                    },
                ),
                opt(
                    d,
                    "spacing",
                    "spacing",
                    "how the steps spread over 0..T−1 (diffusers' timestep_spacing)",
                    choice(&[
                        ("leading", "leading"),
                        ("trailing", "trailing"),
                        ("linspace", "linspace"),
                    ]),
                ),
                clip(d),
                opt(
                    d,
                    "end",
                    "last step to",
                    "the clean data (ᾱ = 1) or step 0's marginal (ᾱ_0; diffusers' set_alpha_to_one = false); auto: as an image model's scheduler says, else the data",
                    choice(&[("auto", "auto"), ("data", "x₀"), ("first_step", "step 0")]),
                ),
            ],
        ),
        SamplerSpec::Langevin { .. } => (
            "Langevin",
            "x ← x + (ε/2) ∇log p(x) + √ε z",
            "fixed-step Langevin dynamics on the least noisy score the source knows",
            "Song & Ermon 2019, eq. 4; Welling & Teh 2011",
            vec![
                steps(d, 5000.0, "Langevin steps"),
                opt(
                    d,
                    "step_size",
                    "ε",
                    "the step size",
                    Domain::Num {
                        min: 1e-5,
                        max: 1.0,
                        log: true,
                    },
                ),
            ],
        ),
        SamplerSpec::AnnealedLangevin { .. } => (
            "annealed Langevin (NCSN)",
            "x ← x + (α_i/2) s(x, σ_i) + √α_i z,  α_i = ε σ_i²/σ_L²",
            "Langevin steps at each noise level from the largest down; a network needs the VE process",
            "Song & Ermon 2019, Algorithm 1",
            vec![
                opt(
                    d,
                    "levels",
                    "levels L",
                    "VE levels, when the process is not VE (the oracle)",
                    Domain::Int {
                        min: 2.0,
                        max: 50.0,
                    },
                ),
                opt(
                    d,
                    "n_per_level",
                    "steps per level",
                    "Langevin steps at each level",
                    Domain::Int {
                        min: 1.0,
                        max: 500.0,
                    },
                ),
                opt(
                    d,
                    "step_size",
                    "ε",
                    "the base step; stable while ε < 4σ_L²",
                    Domain::Num {
                        min: 1e-6,
                        max: 0.1,
                        log: true,
                    },
                ),
                opt(
                    d,
                    "sigma_min",
                    "σ_min",
                    "the smallest level, when the process is not VE",
                    Domain::Num {
                        min: 0.01,
                        max: 1.0,
                        log: true,
                    },
                ),
                opt(
                    d,
                    "sigma_max",
                    "σ_max",
                    "the largest level, when the process is not VE; empty: the largest distance between 2000 data points (NCSNv2's technique 1)",
                    Domain::OptionalNum {
                        min: 0.1,
                        max: 100.0,
                    },
                ),
            ],
        ),
        SamplerSpec::EulerMaruyama { .. } => (
            "Euler–Maruyama (reverse SDE)",
            "x ← x − [f(x,t) − g(t)² s(x,t)] Δt + g(t) √Δt z",
            "the reverse-time SDE from t = 1 to ε; no noise on the last step",
            "Song et al. 2021, eq. 6",
            vec![steps(d, 2000.0, "time steps"), sde(d), t_end(d)],
        ),
        SamplerSpec::Pc { .. } => (
            "predictor–corrector",
            "corrector x ← x + ε s + √(2ε) z, ε = 2α (r‖z‖/‖s‖)²; predictor: reverse diffusion",
            "Langevin corrector steps at a signal-to-noise ratio r, then a reverse-diffusion step",
            "Song et al. 2021, Algorithms 1 and 5",
            vec![
                steps(d, 2000.0, "predictor steps"),
                opt(
                    d,
                    "snr",
                    "r (snr)",
                    "the corrector's signal-to-noise ratio (score_sde: 0.16 for VE, 0.01 for VP)",
                    Domain::Num {
                        min: 0.001,
                        max: 1.0,
                        log: true,
                    },
                ),
                opt(
                    d,
                    "corrector_steps",
                    "corrector steps",
                    "Langevin corrector steps per predictor step",
                    Domain::Int {
                        min: 0.0,
                        max: 10.0,
                    },
                ),
                sde(d),
                t_end(d),
            ],
        ),
        SamplerSpec::Ode { .. } => (
            "probability-flow ODE",
            "dx/dt = f(x,t) − ½ g(t)² s(x,t)",
            "the deterministic flow with the SDE's marginals, Euler or Heun steps",
            "Song et al. 2021, eq. 13; Karras et al. 2022, Algorithm 1",
            vec![
                steps(d, 2000.0, "time steps"),
                opt(
                    d,
                    "method",
                    "method",
                    "Euler (first order) or Heun (second order, two score calls a step)",
                    choice(&[("heun", "Heun"), ("euler", "Euler")]),
                ),
                sde(d),
                t_end(d),
            ],
        ),
        SamplerSpec::DpmSolverPp { .. } => (
            "DPM-Solver++",
            "x_t = (s_t/s_s) x_s − a_t (e^{−h} − 1) D,  h = λ_t − λ_s,  λ = log(a/s),  D = x̂₀ or its multistep extrapolation",
            "a high-order solver of the probability-flow ODE in data-prediction form: good samples in 10–20 network calls, on any process",
            "Lu et al. 2022, DPM-Solver++ (Algorithm 2)",
            vec![
                steps(d, 999.0, "steps, one network call each (at most T − 1)"),
                opt(
                    d,
                    "order",
                    "order",
                    "1 is DDIM; 2 (2M) and 3 (3M) extrapolate from the last model outputs; the first and last steps use lower orders",
                    Domain::Int { min: 1.0, max: 3.0 },
                ),
            ],
        ),
        SamplerSpec::Edm { .. } => (
            "EDM (Karras σ)",
            "dx/dσ = (x − D(x; σ))/σ,  σ_i = (σ_max^{1/ρ} + i/(N−1) (σ_min^{1/ρ} − σ_max^{1/ρ}))^ρ,  σ = s_t/a_t",
            "EDM's Heun (or Euler) sampler on Karras σ between the process's ends, with optional stochastic churn",
            "Karras et al. 2022, Algorithm 2 and eq. 5",
            vec![
                steps(d, 1000.0, "σ steps N (Heun: 2N − 1 network calls)"),
                opt(
                    d,
                    "rho",
                    "ρ",
                    "the schedule's exponent: larger spends more steps at small σ (EDM: 7)",
                    Domain::Num {
                        min: 1.0,
                        max: 20.0,
                        log: false,
                    },
                ),
                opt(
                    d,
                    "method",
                    "method",
                    "Heun (second order, two calls a step, Euler into σ = 0) or Euler (first order)",
                    choice(&[("heun", "Heun"), ("euler", "Euler")]),
                ),
                opt(
                    d,
                    "s_churn",
                    "S_churn",
                    "stochastic churn: each step first raises σ by γ = min(S_churn/N, √2 − 1); 0 is the deterministic ODE",
                    Domain::Num {
                        min: 0.0,
                        max: 100.0,
                        log: false,
                    },
                ),
                opt(
                    d,
                    "s_tmin",
                    "S_tmin",
                    "churn only where σ ≥ S_tmin",
                    Domain::Num {
                        min: 0.0,
                        max: 1000.0,
                        log: false,
                    },
                ),
                opt(
                    d,
                    "s_tmax",
                    "S_tmax",
                    "churn only where σ ≤ S_tmax; empty: no bound",
                    Domain::OptionalNum {
                        min: 0.0,
                        max: 1000.0,
                    },
                ),
                opt(
                    d,
                    "s_noise",
                    "S_noise",
                    "the churn noise's scale (EDM: 1.003–1.007 for ImageNet)",
                    Domain::Num {
                        min: 0.0,
                        max: 2.0,
                        log: false,
                    },
                ),
            ],
        ),
    };
    Entry {
        kind: d.kind(),
        label,
        equation,
        help,
        cite,
        options,
        facts: json!({
            "starts_at": d.starts_at(),
            "image_default": d.kind() == SamplerSpec::IMAGE_DEFAULT,
        }),
    }
}

fn processes() -> Vec<Entry> {
    ProcessConfig::defaults()
        .iter()
        .map(process_entry)
        .collect()
}

fn process_entry(p: &ProcessConfig) -> Entry {
    let schedule = || {
        vec![
            opt(
                p,
                "schedule.kind",
                "β schedule",
                "linear (DDPM), cosine (Nichol & Dhariwal 2021) or scaled linear (√β linear, latent diffusion)",
                choice(&[
                    ("linear", "linear"),
                    ("cosine", "cosine"),
                    ("scaled_linear", "scaled linear"),
                ]),
            ),
            opt(
                p,
                "schedule.steps",
                "T",
                "the number of steps",
                Domain::Int {
                    min: 2.0,
                    max: 1000.0,
                },
            ),
            opt(
                p,
                "schedule.beta_start",
                "β₁",
                "the first step's variance (linear schedule)",
                Domain::Num {
                    min: 1e-6,
                    max: 0.5,
                    log: true,
                },
            ),
            opt(
                p,
                "schedule.beta_end",
                "β_T",
                "the last step's variance (linear schedule)",
                Domain::Num {
                    min: 1e-4,
                    max: 0.999,
                    log: true,
                },
            ),
        ]
    };
    let (label, equation, chain, std, help, cite, options) = match p {
        ProcessConfig::Vp { .. } => (
            "VP (DDPM)",
            "q(x_t | x_0) = N(√ᾱ_t x_0, (1−ᾱ_t) I)",
            "x_t = √α_t x_{t−1} + √β_t ε",
            "σ_t = √(1−ᾱ_t)",
            "shrinks the data as it adds noise and ends at N(0, I)",
            "Ho et al. 2020, eq. 4",
            schedule(),
        ),
        ProcessConfig::SubVp { .. } => (
            "sub-VP",
            "q(x_t | x_0) = N(√ᾱ_t x_0, (1−ᾱ_t)² I)",
            "x_t = √α_t x_{t−1} + √((1−α_t)(1−α_t ᾱ²_{t−1})) ε",
            "σ_t = 1−ᾱ_t",
            "VP's mean with less variance",
            "Song et al. 2021, eq. 16",
            schedule(),
        ),
        ProcessConfig::Ve(_) => (
            "VE (NCSN)",
            "q(x_t | x_0) = N(x_0, σ_t² I),  σ_t = σ_min (σ_max/σ_min)^{t/(L−1)}",
            "x_t = x_{t−1} + √(σ_t² − σ_{t−1}²) ε",
            "σ_t",
            "keeps the data and adds noise up to σ_max",
            "Song & Ermon 2019",
            vec![
                opt(
                    p,
                    "levels",
                    "levels L",
                    "the number of noise levels",
                    Domain::Int {
                        min: 2.0,
                        max: 100.0,
                    },
                ),
                opt(
                    p,
                    "sigma_min",
                    "σ_min",
                    "the smallest level",
                    Domain::Num {
                        min: 0.001,
                        max: 10.0,
                        log: true,
                    },
                ),
                opt(
                    p,
                    "sigma_max",
                    "σ_max",
                    "the largest level (about the data's diameter)",
                    Domain::Num {
                        min: 0.1,
                        max: 100.0,
                        log: true,
                    },
                ),
            ],
        ),
        ProcessConfig::Flow { .. } => (
            "flow (rectified)",
            "x_t = (1−t) x_0 + t ε,  t_i = (i+1)/T",
            "dx_t/dt = ε − x_0",
            "σ_t = t",
            "moves each point on a straight line to its noise and ends at N(0, I)",
            "Lipman et al. 2023, eq. 23; Liu et al. 2023",
            vec![opt(
                p,
                "steps",
                "T",
                "the number of steps of t ∈ (0, 1]",
                Domain::Int {
                    min: 2.0,
                    max: 1000.0,
                },
            )],
        ),
    };
    Entry {
        kind: p.kind(),
        label,
        equation,
        help,
        cite,
        options,
        // VE keeps a_t = 1 (no ᾱ_t to chart) and its σ_t spans decades.
        facts: json!({
            "chain": chain,
            "std": std,
            "exploding": matches!(p, ProcessConfig::Ve(_)),
        }),
    }
}

fn objectives() -> Vec<Entry> {
    Loss::ALL
        .iter()
        .map(|&o| {
            let (label, equation, help, cite) = match o {
                Loss::Ddpm => (
                    "DDPM L_simple",
                    "‖ε_θ(x_t, t) − z‖²",
                    "an ε-network: predict the noise that was added",
                    "Ho et al. 2020, eq. 14",
                ),
                Loss::FlowMatching => (
                    "flow matching (CFM)",
                    "‖u_θ(x_t, t) − (z − x_0)‖²",
                    "a velocity network: predict the straight path's direction from data to noise",
                    "Lipman et al. 2023, eq. 23; Liu et al. 2023, eq. 1",
                ),
                Loss::Ncsn => (
                    "NCSN (multi-level DSM)",
                    "½ ‖s_t s_θ(x_t, t) + z‖²",
                    "a score network, denoising score matching at every level, λ = s_t²",
                    "Song & Ermon 2019, eqs. 5–6",
                ),
                Loss::Dsm => (
                    "DSM (denoiser)",
                    "½ ‖x̂_θ(x_t, t) − x_0‖²",
                    "an x₀-network; its score is (a_t x̂_θ − x_t)/s_t²",
                    "Vincent 2011, §4.2",
                ),
                Loss::Ssm => (
                    "sliced SM",
                    "λ [vᵀ(∇ₓs_θ)v + ½ (vᵀs_θ)²]",
                    "score matching with Rademacher projections v, no noise targets",
                    "Song et al. 2019, eq. 7",
                ),
                Loss::Ism => (
                    "implicit SM",
                    "λ [tr(∇ₓs_θ) + ½ ‖s_θ‖²]",
                    "score matching with the Jacobian trace exact",
                    "Hyvärinen 2005, eq. 4",
                ),
                Loss::Esm => (
                    "explicit SM",
                    "λ ½ ‖s_θ − ∇log p_t‖²",
                    "regression on the exact perturbed score: Gaussian mixtures only",
                    "Hyvärinen 2005, eq. 2",
                ),
            };
            Entry {
                kind: o.name(),
                label,
                equation,
                help,
                cite,
                options: objective_options(o),
                facts: json!({
                    "parameterization": o.parameterization(),
                    // SSM's and ISM's losses go below zero (a linear axis for them).
                    "signed_loss": matches!(o, Loss::Ssm | Loss::Ism),
                    "needs_exact_score": o.needs_exact_score(),
                }),
            }
        })
        .collect()
}

/// A loss's own options: SSM's projections ([`Slicing`], under the objective's `slicing`).
fn objective_options(loss: Loss) -> Vec<Opt> {
    let value = json!({ "slicing": Slicing::default() });
    match loss {
        Loss::Ssm => vec![
            opt(
                &value,
                "slicing.projections",
                "projections",
                "M, the projections v per point (the variance falls as 1/M)",
                Domain::Int {
                    min: 1.0,
                    max: 16.0,
                },
            ),
            opt(
                &value,
                "slicing.projection",
                "v",
                "the law of v: Rademacher (±1, the lowest variance of vᵀAv) or Gaussian",
                choice(&[("rademacher", "Rademacher"), ("gaussian", "Gaussian")]),
            ),
            opt(
                &value,
                "slicing.variance_reduced",
                "SSM-VR",
                "take ½(vᵀs_θ)²'s expectation in closed form, ½‖s_θ‖² (eq. 8)",
                Domain::Bool,
            ),
        ],
        _ => Vec::new(),
    }
}

fn sources() -> Vec<Entry> {
    [
        ScoreSource::Pretrained,
        ScoreSource::Learned,
        ScoreSource::Oracle,
    ]
    .iter()
    .map(|&s| {
        let (kind, label, help) = match s {
            ScoreSource::Pretrained => (
                "pretrained",
                "pretrained",
                "a network trained ahead of time on this data set",
            ),
            ScoreSource::Learned => ("learned", "learned", "the network being trained here"),
            ScoreSource::Oracle => (
                "oracle",
                "exact (oracle)",
                "the exact score of the mixture's perturbed marginal",
            ),
        };
        // Where the chosen source cannot drive the panels, the first usable one in this order takes
        // over: the exact score, then the shipped model. The learned one waits for training.
        let gives_way_to = match s {
            ScoreSource::Oracle => Some(0),
            ScoreSource::Pretrained => Some(1),
            ScoreSource::Learned => None,
        };
        Entry {
            kind,
            label,
            equation: "",
            help,
            cite: "",
            options: Vec::new(),
            facts: json!({ "fallback_rank": gives_way_to }),
        }
    })
    .collect()
}

/// The named 2-D sets (`web`'s `setDataset`, `dplay train --data`), each with the model
/// `./build.sh weights` ships for it.
fn datasets() -> Vec<Dataset> {
    let mut out = vec![
        Dataset {
            kind: "mixture3",
            label: "3-component mixture",
            weights: "weights/ddpm_mixture",
        },
        Dataset {
            kind: "seeds",
            label: "⅕/⅘ two modes",
            weights: "weights/ddpm_seeds",
        },
    ];
    out.extend(Toy2d::ALL.iter().map(|t| Dataset {
        kind: t.name(),
        label: t.name(),
        weights: match t {
            Toy2d::Moons => "weights/ddpm_moons",
            Toy2d::SwissRoll => "weights/ddpm_swiss-roll",
            Toy2d::Rings => "weights/ddpm_rings",
            Toy2d::Checkerboard => "weights/ddpm_checkerboard",
            Toy2d::EightGaussians => "weights/ddpm_8gaussians",
        },
    }));
    out
}

/// [`TrainOptions`]' fields, each ranged by [`RANGES`].
fn guidance() -> Vec<Opt> {
    let d = Guidance::default();
    vec![
        opt(
            &d,
            "label",
            "class",
            "the class label every image of a run is conditioned on",
            Domain::Int {
                min: 0.0,
                max: MAX_LABEL,
            },
        ),
        opt(
            &d,
            "scale",
            "guidance s",
            "classifier-free guidance ε_∅ + s (ε_c − ε_∅): 0 unconditional, 1 conditional, > 1 sharper towards the class (Ho & Salimans 2022)",
            Domain::Num {
                min: 0.0,
                max: MAX_SCALE,
                log: false,
            },
        ),
        opt(
            &d,
            "null_label",
            "null label",
            "the unconditional label guidance compares with; empty: the last",
            Domain::OptionalNum {
                min: 0.0,
                max: MAX_LABEL,
            },
        ),
    ]
}

fn training() -> Vec<Opt> {
    let d = TrainOptions::default();
    let range = |key: &str| {
        let &(_, min, max) = RANGES
            .iter()
            .find(|(k, ..)| *k == key)
            .expect("every training option has a range");
        (min, max)
    };
    let int = |key: &'static str, label, help| {
        let (min, max) = range(key);
        opt(&d, key, label, help, Domain::Int { min, max })
    };
    let (lr_min, lr_max) = range("lr");
    vec![
        int("hidden", "width", "the MLP's hidden width"),
        int("depth", "depth", "the MLP's residual blocks"),
        opt(
            &d,
            "lr",
            "lr",
            "Adam's peak learning rate, reached after a linear warm-up over a tenth of the run (at most 100 steps), then decayed by a cosine",
            Domain::Num {
                min: lr_min,
                max: lr_max,
                log: true,
            },
        ),
        int("batch_size", "batch", "points per optimiser step"),
        int(
            "steps",
            "schedule steps",
            "the optimiser steps the learning-rate schedule spans",
        ),
        int(
            "seed",
            "seed",
            "the seed of the initial weights and of every batch",
        ),
    ]
}

/// The catalogue.
pub fn catalogue() -> Catalogue {
    Catalogue {
        processes: processes(),
        objectives: objectives(),
        sources: sources(),
        samplers: samplers(),
        datasets: datasets(),
        training: training(),
        guidance: guidance(),
    }
}

/// The catalogue as JSON.
pub fn catalogue_json() -> String {
    serde_json::to_string(&catalogue()).expect("the catalogue serialises")
}

/// The option keys of the sampler `kind` (empty for an unknown one).
pub fn sampler_options(kind: &str) -> Vec<&'static str> {
    samplers()
        .into_iter()
        .find(|e| e.kind == kind)
        .map(|e| e.options.iter().map(|o| o.key).collect())
        .unwrap_or_default()
}
