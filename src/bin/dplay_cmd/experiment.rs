//! `dplay experiment`: the seeds' experiments.

use burn::prelude::*;
use clap::{Args, ValueEnum};

use diffusion_playground::error::{Error, Result};
use diffusion_playground::experiments::{
    langevin_vs_annealed, score_error_vs_density, seeds_two_modes, LangevinVsAnnealedConfig,
    ScoreErrorConfig,
};

#[derive(Clone, Copy, ValueEnum, PartialEq, Debug)]
enum ExperimentName {
    /// (b) Plain vs annealed Langevin with the exact score on ⅕N((-5,-5),I)+⅘N((5,5),I).
    LangevinVsAnnealed,
    /// (a) Error of a DSM-trained score network against the exact score, binned by density.
    #[value(alias = "score-error-vs-density")]
    LowDensityError,
}

#[derive(Args)]
pub(crate) struct ExperimentArgs {
    #[arg(value_enum)]
    name: ExperimentName,
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Number of chains (langevin-vs-annealed).
    #[arg(long, default_value_t = 2000)]
    n: usize,
    /// Training steps of the score network (low-density-error).
    #[arg(long, default_value_t = 1500)]
    train_steps: usize,
    /// Print the full report as JSON.
    #[arg(long)]
    json: bool,
}

pub(crate) fn experiment(a: ExperimentArgs) -> Result<()> {
    match a.name {
        ExperimentName::LangevinVsAnnealed => {
            if a.n == 0 {
                return Err(Error::invalid("--n must be at least 1"));
            }
            let config = LangevinVsAnnealedConfig {
                n: a.n,
                seed: a.seed,
                ..LangevinVsAnnealedConfig::default()
            };
            let r = langevin_vs_annealed(&seeds_two_modes(), &config, &Device::flex())?;
            if a.json {
                let text = serde_json::to_string(&r)
                    .map_err(|e| Error::invalid(format!("cannot encode the report: {e}")))?;
                println!("{text}");
            } else {
                println!("true weights:              {:.3?}", r.true_weights);
                println!("Langevin (exact score):    {:.3?}", r.langevin_weights);
                println!("annealed Langevin:         {:.3?}", r.annealed_weights);
            }
            Ok(())
        }
        ExperimentName::LowDensityError => {
            let config = ScoreErrorConfig {
                seed: a.seed,
                steps: a.train_steps,
                ..ScoreErrorConfig::default()
            };
            let r = score_error_vs_density(&seeds_two_modes(), &config, &Device::flex())?;
            if a.json {
                let text = serde_json::to_string(&r)
                    .map_err(|e| Error::invalid(format!("cannot encode the report: {e}")))?;
                println!("{text}");
            } else {
                println!(
                    "{:>16} {:>7} {:>14} {:>14}",
                    "log10 p_sigma", "points", "mean |err|^2", "mean |score|^2"
                );
                for b in &r.bins {
                    println!(
                        "{:>7} .. {:>5} {:>7} {:>14.4} {:>14.4}",
                        b.log10_p_lo, b.log10_p_hi, b.count, b.mean_sq_error, b.mean_sq_score
                    );
                }
                println!(
                    "p >= 1e-3: {:.4}   p < 1e-6: {:.4}",
                    r.high_density_error, r.low_density_error
                );
            }
            Ok(())
        }
    }
}
