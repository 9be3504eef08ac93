//! Samplers side by side on the exact score of the page's mixture. The score panel runs plain and
//! annealed Langevin from one seed: with the true score, plain Langevin still recovers the wrong
//! mixture weights, because between well-separated modes it mixes too slowly to move mass across
//! the low-density gap, and annealing from large σ fixes that (Song & Ermon 2019, §3.2.2).

use super::{read, Session};
use crate::error::Error;
use crate::metrics;
use crate::noise;
use crate::sampler::{SamplerSpec, ScoreSource};

/// Every compared sampler after a round of steps: their samples stacked, `[m, n, d]` row-major,
/// the steps each one still has to go and, once all are done, the mixture weights each sample
/// recovered, `[m, K]` (points by nearest component).
#[derive(Debug)]
pub struct Comparison {
    pub x: Vec<f32>,
    pub remaining: Vec<u32>,
    /// Empty until every sampler is done.
    pub weights: Vec<f32>,
}

impl Session {
    /// Begin the samplers `specs` (a JSON array of [`SamplerSpec`]s) side by side, each on `n`
    /// points from `seed`, all driven by the exact score of the page's mixture (on the CPU).
    /// Returns each one's number of steps.
    pub fn start_comparison(
        &mut self,
        specs: &str,
        n: usize,
        seed: u64,
    ) -> Result<Vec<u32>, Error> {
        let specs: Vec<SamplerSpec> = serde_json::from_str(specs)
            .map_err(|e| Error::invalid(format!("not a list of samplers: {e}")))?;
        if specs.is_empty() || n == 0 {
            return Err(Error::invalid(
                "compare at least one sampler on at least one point",
            ));
        }
        self.oracle()?;
        let data = self.train_data()?;
        let config = self.process.config();
        let mut samplers = Vec::with_capacity(specs.len());
        for spec in specs {
            spec.support(&config, ScoreSource::Oracle)?;
            let points = || Ok((data.sample(2000, &mut noise::rng(seed)), data.dim()));
            let mut sampler = spec.build_on(&self.process, ScoreSource::Oracle, points, seed)?;
            sampler.reset_from_prior(n, data.dim(), &self.host);
            samplers.push(sampler);
        }
        let totals = samplers.iter().map(|s| s.remaining() as u32).collect();
        self.comparison = samplers;
        Ok(totals)
    }

    /// Take up to `ks[i]` steps of compared sampler `i`; the last round carries the weights.
    pub async fn comparison_steps(&mut self, ks: &[u32]) -> Result<Comparison, Error> {
        if self.comparison.is_empty() {
            return Err(Error::invalid("call startComparison first"));
        }
        if ks.len() != self.comparison.len() {
            return Err(Error::invalid(format!(
                "{} step counts for {} samplers",
                ks.len(),
                self.comparison.len()
            )));
        }
        let oracle = self.oracle()?;
        let mixture = oracle.mixture();
        let mut samples = Vec::with_capacity(ks.len());
        let mut remaining = Vec::with_capacity(ks.len());
        for (sampler, &k) in self.comparison.iter_mut().zip(ks) {
            for _ in 0..k {
                if sampler.done() {
                    break;
                }
                sampler.step(&oracle)?;
            }
            let current = sampler
                .current()
                .cloned()
                .ok_or_else(|| Error::invalid("no sample"))?;
            samples.push(read(current).await?);
            remaining.push(sampler.remaining() as u32);
        }
        // The weights once, in the round where the last walk ends.
        let weights = if remaining.iter().all(|&r| r == 0) {
            samples
                .iter()
                .map(|x| metrics::component_weights(mixture, x))
                .collect::<Result<Vec<_>, _>>()?
                .concat()
                .into_iter()
                .map(|w| w as f32)
                .collect()
        } else {
            Vec::new()
        };
        Ok(Comparison {
            x: samples.concat(),
            remaining,
            weights,
        })
    }
}
