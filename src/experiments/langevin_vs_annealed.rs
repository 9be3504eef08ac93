//! Experiment (b) (Song & Ermon 2019, §3.2.2 and Figure 3): Langevin dynamics with the *exact*
//! score mixes too slowly between separated modes, so from uniform initial points it keeps the
//! initial split instead of ⅕/⅘ (far from the boundary, each mode's score ignores the other's
//! weight); annealed Langevin over σ from large to small recovers the weights (§4.3).

use burn::prelude::*;
use serde::{Deserialize, Serialize};

use crate::data::oracle::to_host;
use crate::data::{GaussianMixture, MixtureScore};
use crate::error::Result;
use crate::metrics::component_weights;
use crate::noise;
use crate::process::{ProcessConfig, VeConfig};
use crate::sampler::{no_data, SamplerSpec, ScoreSource};

/// Everything that defines experiment (b); seeds included.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LangevinVsAnnealedConfig {
    /// Number of chains.
    pub n: usize,
    pub seed: u64,
    /// Initial points uniform on `[-r, r]²`.
    pub init_radius: f64,
    /// Plain Langevin: step ε and number of steps, on the exact data score.
    pub langevin_step: f64,
    pub langevin_steps: usize,
    /// Annealed Langevin: the VE levels, steps per level and base step ε (α_i = ε σ_i²/σ_L²).
    pub levels: VeConfig,
    pub n_per_level: usize,
    pub annealed_eps: f64,
}

impl Default for LangevinVsAnnealedConfig {
    /// σ geometric from 20 to 1 over 10 levels, 100 steps each (NCSN's toy setting, §4.3); plain
    /// Langevin gets the same total of 1000 steps.
    fn default() -> Self {
        Self {
            n: 2000,
            seed: 0,
            init_radius: 8.0,
            langevin_step: 0.1,
            langevin_steps: 1000,
            levels: VeConfig {
                sigma_min: 1.0,
                sigma_max: 20.0,
                levels: 10,
            },
            n_per_level: 100,
            annealed_eps: 0.1,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LangevinVsAnnealed {
    pub config: LangevinVsAnnealedConfig,
    pub true_weights: Vec<f64>,
    /// Weights by nearest component after plain Langevin.
    pub langevin_weights: Vec<f64>,
    /// Weights by nearest component after annealed Langevin.
    pub annealed_weights: Vec<f64>,
}

/// Run plain and annealed Langevin with the exact score of `mix` from the same uniform points.
pub fn langevin_vs_annealed(
    mix: &GaussianMixture,
    config: &LangevinVsAnnealedConfig,
    device: &Device,
) -> Result<LangevinVsAnnealed> {
    let d = mix.dim();
    // Two walks of the n points, each with its own copy.
    crate::budget::check(
        &crate::budget::Need::new(
            format!("walking {} points twice", config.n),
            0,
            2 * crate::budget::mixture_per_point(mix.num_components(), d),
            config.n as u64,
        )
        .with_unit("points")
        .with_knob("--n"),
    )?;
    let oracle = MixtureScore::new(mix.clone());
    let mut rng = noise::rng(config.seed);
    let x_init =
        crate::sampler::langevin::uniform(&mut rng, config.n, d, config.init_radius, device);

    // Both on the oracle of the VE levels: plain Langevin at the data, annealed over the levels.
    let levels = ProcessConfig::Ve(config.levels).build()?;
    let mut plain = SamplerSpec::Langevin {
        steps: config.langevin_steps,
        step_size: config.langevin_step,
    }
    .build_on(
        &levels,
        ScoreSource::Oracle,
        no_data,
        config.seed.wrapping_add(1),
    )?;
    plain.reset(x_init.clone());
    let x_plain = to_host(plain.run(&oracle)?)?;

    let mut annealed = SamplerSpec::AnnealedLangevin {
        levels: config.levels.levels,
        n_per_level: config.n_per_level,
        step_size: config.annealed_eps,
        sigma_min: config.levels.sigma_min,
        sigma_max: Some(config.levels.sigma_max),
    }
    .build_on(
        &levels,
        ScoreSource::Oracle,
        no_data,
        config.seed.wrapping_add(2),
    )?;
    annealed.reset(x_init);
    let x_annealed = to_host(annealed.run(&oracle)?)?;

    Ok(LangevinVsAnnealed {
        config: *config,
        true_weights: mix.weights().to_vec(),
        langevin_weights: component_weights(mix, &x_plain)?,
        annealed_weights: component_weights(mix, &x_annealed)?,
    })
}
