//! The forward process the page shows: chosen by its config (VP, sub-VP or VE with their
//! parameters), its tables for the charts, the closed-form marginal and the one-step chain.

use super::{read, Change, Session};
use crate::error::Error;
use crate::noise;
use crate::process::{Process, ProcessConfig};

impl Session {
    /// Show, train on and sample the process `config` (a [`ProcessConfig`] as JSON, e.g.
    /// `{"kind": "ve", "sigma_min": 0.1, "sigma_max": 20, "levels": 10}` or `{"kind": "vp",
    /// "schedule": {"kind": "cosine", "steps": 500, "beta_start": 0.0001, "beta_end": 0.02}}`).
    /// Returns its number of steps T (levels L for VE). The drawn data's noise and any running
    /// sampler are dropped.
    pub fn set_process(&mut self, config: &str) -> Result<usize, Error> {
        let config: ProcessConfig = serde_json::from_str(config)
            .map_err(|e| Error::invalid(format!("not a process: {e}")))?;
        config.validate()?;
        self.process = config.build()?;
        self.changed(Change::Process);
        Ok(self.process.num_steps())
    }

    /// The page's process as JSON ([`ProcessConfig`]).
    pub fn process_config(&self) -> String {
        serde_json::to_string(&self.process.config()).expect("a process config serialises")
    }

    /// The page's process in words, e.g. "VP (linear β, T = 1000)".
    pub fn process_label(&self) -> String {
        self.process.config().describe()
    }

    /// T, the number of steps (levels) of the page's process.
    pub fn num_steps(&self) -> usize {
        self.process.num_steps()
    }

    /// The process's tables for t = 0..T-1 as three rows `[3, T]` of its marginal
    /// `N(a_t x_0, s_t² I)`: the signal power a_t² (ᾱ_t for VP and sub-VP, 1 for VE),
    /// SNR_t = a_t²/s_t² and the std s_t (√(1-ᾱ_t), 1-ᾱ_t or σ_t).
    pub fn forward_tables(&self) -> Vec<f32> {
        marginal_tables(&self.process)
    }

    /// The forward marginal at scrubber position `k ∈ 0..=T`: `x_k = a x₀ + s ε` at table index
    /// k-1 (k = 0 is the data itself), using the noise fixed by `drawData`.
    pub async fn forward_at(&self, k: usize) -> Result<Vec<f32>, Error> {
        let (x0, eps) = self
            .x0
            .clone()
            .ok_or_else(|| Error::invalid("call drawData first"))?;
        let steps = self.process.num_steps();
        if k > steps {
            return Err(Error::invalid(format!("t = {k} is past T = {steps}")));
        }
        let x = if k == 0 {
            x0
        } else {
            let n = x0.dims()[0];
            self.process.q_sample(x0, &vec![k - 1; n], eps)
        };
        read(x).await
    }

    /// Run the process's one-step chain (fresh noise each step; for VP DDPM's
    /// `x_t = √α_t x_{t-1} + √β_t ε`) `k` more steps from the drawn data; returns the current `x`
    /// and its step via `chainStep`.
    pub async fn chain_steps(&mut self, k: usize, seed: u64) -> Result<Vec<f32>, Error> {
        let (mut x, mut t) = self
            .chain
            .take()
            .ok_or_else(|| Error::invalid("call drawData first"))?;
        let [n, d] = x.dims();
        let mut rng = noise::rng(seed ^ (t as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        for _ in 0..k.min(self.process.num_steps().saturating_sub(t)) {
            x = self
                .process
                .q_step(x, t, noise::normal(&mut rng, [n, d], &self.device));
            t += 1;
        }
        self.chain = Some((x.clone(), t));
        read(x).await
    }

    /// How many chain steps have been taken since `drawData`.
    pub fn chain_step(&self) -> usize {
        self.chain.as_ref().map(|c| c.1).unwrap_or(0)
    }
}

/// `[3, T]` rows of a process's marginal `N(a_t x_0, s_t² I)` for t = 0..T-1: a_t², SNR_t =
/// a_t²/s_t² and s_t.
pub fn marginal_tables(p: &impl Process) -> Vec<f32> {
    let m: Vec<_> = (0..p.num_steps()).map(|t| p.marginal(t)).collect();
    let rows: Vec<f32> = m
        .iter()
        .map(|m| m.mean_coef * m.mean_coef)
        .chain(m.iter().map(|m| m.snr()))
        .chain(m.iter().map(|m| m.std))
        .map(|v| v as f32)
        .collect();
    rows
}
