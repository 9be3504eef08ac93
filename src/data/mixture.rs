//! Gaussian mixtures `p = Σ π_k N(μ_k, Σ_k)`: the toy data with a known density and score.
//!
//! Every perturbed marginal of a mixture is again a mixture (DESIGN.md, "Ground truth"):
//! VP gives `N(√ᾱ μ_k, ᾱ Σ_k + (1-ᾱ) I)`, VE gives `N(μ_k, Σ_k + σ² I)`. [`GaussianMixture::perturbed`]
//! builds either, so the exact score is available at every noise level.

use std::path::Path;

use rand::Rng;
use rand_distr::weighted::WeightedIndex;
use rand_distr::{Distribution, StandardNormal};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// How far `Σ π_k` may stray from 1 (JSON written by hand with 3 significant digits passes).
const WEIGHT_SUM_TOL: f64 = 1e-6;

/// The JSON file format: `{"weights": [..], "means": [[..], ..], "covs": [[[..]]]}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MixtureSpec {
    pub weights: Vec<f64>,
    pub means: Vec<Vec<f64>>,
    pub covs: Vec<Vec<Vec<f64>>>,
}

/// A validated mixture with each covariance's Cholesky factor.
#[derive(Debug, Clone, PartialEq)]
pub struct GaussianMixture {
    spec: MixtureSpec,
    dim: usize,
    /// Lower-triangular L_k with Σ_k = L_k L_kᵀ, row-major d×d.
    chol: Vec<Vec<f64>>,
}

impl GaussianMixture {
    /// Parse and validate a mixture from JSON text. `origin` names the source in messages.
    pub fn from_json(text: &str, origin: &str) -> Result<Self> {
        let spec: MixtureSpec = serde_json::from_str(text).map_err(|e| {
            Error::format(origin, format!("not a mixture JSON ({e}); expected {{\"weights\": [..], \"means\": [[..], ..], \"covs\": [[[..]], ..]}}"))
        })?;
        Self::new(spec).map_err(|e| match e {
            Error::Invalid(m) => Error::format(origin, m),
            other => other,
        })
    }

    /// Read a mixture JSON file.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| Error::read(path, e))?;
        Self::from_json(&text, &path.display().to_string())
    }

    pub fn new(spec: MixtureSpec) -> Result<Self> {
        let k = spec.weights.len();
        if k == 0 {
            return Err(Error::invalid("the mixture has no components"));
        }
        if spec.means.len() != k || spec.covs.len() != k {
            return Err(Error::invalid(format!(
                "{k} weights but {} means and {} covariances",
                spec.means.len(),
                spec.covs.len()
            )));
        }
        if let Some((i, w)) = spec
            .weights
            .iter()
            .enumerate()
            .find(|(_, w)| !w.is_finite() || **w < 0.0)
        {
            return Err(Error::invalid(format!(
                "weight {i} is {w}; weights must be non-negative"
            )));
        }
        let sum: f64 = spec.weights.iter().sum();
        if (sum - 1.0).abs() > WEIGHT_SUM_TOL {
            return Err(Error::invalid(format!("the weights sum to {sum}, not 1")));
        }
        let dim = spec.means[0].len();
        if dim == 0 {
            return Err(Error::invalid("the means have dimension 0"));
        }
        let mut chol = Vec::with_capacity(k);
        for (c, (mean, cov)) in spec.means.iter().zip(&spec.covs).enumerate() {
            if mean.len() != dim {
                return Err(Error::invalid(format!(
                    "mean {c} has dimension {}, mean 0 has {dim}",
                    mean.len()
                )));
            }
            if mean.iter().any(|v| !v.is_finite()) {
                return Err(Error::invalid(format!("mean {c} is not finite")));
            }
            if cov.len() != dim || cov.iter().any(|row| row.len() != dim) {
                return Err(Error::invalid(format!("covariance {c} is not {dim}×{dim}")));
            }
            let flat: Vec<f64> = cov.iter().flatten().copied().collect();
            if flat.iter().any(|v| !v.is_finite()) {
                return Err(Error::invalid(format!("covariance {c} is not finite")));
            }
            for i in 0..dim {
                for j in 0..i {
                    let (a, b) = (flat[i * dim + j], flat[j * dim + i]);
                    if (a - b).abs() > 1e-9 * (1.0 + a.abs().max(b.abs())) {
                        return Err(Error::invalid(format!("covariance {c} is not symmetric")));
                    }
                }
            }
            let l = cholesky(&flat, dim).ok_or_else(|| {
                Error::invalid(format!("covariance {c} is not positive definite"))
            })?;
            chol.push(l);
        }
        Ok(Self { spec, dim, chol })
    }

    pub fn dim(&self) -> usize {
        self.dim
    }

    pub fn num_components(&self) -> usize {
        self.spec.weights.len()
    }

    pub fn spec(&self) -> &MixtureSpec {
        &self.spec
    }

    pub fn weights(&self) -> &[f64] {
        &self.spec.weights
    }

    pub fn means(&self) -> &[Vec<f64>] {
        &self.spec.means
    }

    pub fn covs(&self) -> &[Vec<Vec<f64>>] {
        &self.spec.covs
    }

    /// Draw `n` points, row-major `[n, dim]`, with their component labels.
    pub fn sample_labeled<R: Rng + ?Sized>(&self, n: usize, rng: &mut R) -> (Vec<f32>, Vec<usize>) {
        let pick = WeightedIndex::new(&self.spec.weights).expect("weights validated in new()");
        let d = self.dim;
        let mut out = Vec::with_capacity(n * d);
        let mut labels = Vec::with_capacity(n);
        let mut z = vec![0.0f64; d];
        for _ in 0..n {
            let k = pick.sample(rng);
            z.iter_mut().for_each(|v| *v = StandardNormal.sample(rng));
            let (mu, l) = (&self.spec.means[k], &self.chol[k]);
            for i in 0..d {
                let lz: f64 = (0..=i).map(|j| l[i * d + j] * z[j]).sum();
                out.push((mu[i] + lz) as f32);
            }
            labels.push(k);
        }
        (out, labels)
    }

    /// Draw `n` points, row-major `[n, dim]`.
    pub fn sample<R: Rng + ?Sized>(&self, n: usize, rng: &mut R) -> Vec<f32> {
        self.sample_labeled(n, rng).0
    }

    /// The law of `a·x + s·z`, `x ~ p`, `z ~ N(0, I)`: components `N(a μ_k, a² Σ_k + s² I)`.
    /// VP at step t is `a = √ᾱ_t, s = √(1-ᾱ_t)`; VE at level σ is `a = 1, s = σ`.
    pub fn perturbed(&self, a: f64, s: f64) -> Result<Self> {
        let d = self.dim;
        let means = self
            .spec
            .means
            .iter()
            .map(|m| m.iter().map(|v| a * v).collect())
            .collect();
        let covs = self
            .spec
            .covs
            .iter()
            .map(|c| {
                (0..d)
                    .map(|i| {
                        (0..d)
                            .map(|j| a * a * c[i][j] + if i == j { s * s } else { 0.0 })
                            .collect()
                    })
                    .collect()
            })
            .collect();
        Self::new(MixtureSpec {
            weights: self.spec.weights.clone(),
            means,
            covs,
        })
    }

    /// `log p(x)` and `∇ₓ log p(x)` at one point (log-sum-exp over components).
    pub fn log_prob_and_score(&self, x: &[f64]) -> (f64, Vec<f64>) {
        let d = self.dim;
        let mut logs = Vec::with_capacity(self.num_components());
        let mut grads = Vec::with_capacity(self.num_components());
        for (k, w) in self.spec.weights.iter().enumerate() {
            let l = &self.chol[k];
            let diff: Vec<f64> = (0..d).map(|i| x[i] - self.spec.means[k][i]).collect();
            // Σ⁻¹(x-μ) by two triangular solves: L y = diff, Lᵀ g = y.
            let y = forward_solve(l, &diff, d);
            let g = backward_solve_t(l, &y, d);
            let maha: f64 = y.iter().map(|v| v * v).sum();
            let log_det: f64 = (0..d).map(|i| 2.0 * l[i * d + i].ln()).sum();
            let lp = w.ln() - 0.5 * (maha + log_det + d as f64 * (2.0 * std::f64::consts::PI).ln());
            logs.push(lp);
            grads.push(g);
        }
        let m = logs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let resp: Vec<f64> = logs.iter().map(|l| (l - m).exp()).collect();
        let z: f64 = resp.iter().sum();
        let log_p = m + z.ln();
        let mut score = vec![0.0; d];
        for (r, g) in resp.iter().zip(&grads) {
            for i in 0..d {
                score[i] -= r / z * g[i];
            }
        }
        (log_p, score)
    }

    /// Per component, the precision `P_k = Σ_k⁻¹ = L_k⁻ᵀ L_k⁻¹` (row-major `d×d`) and the log
    /// normaliser `log(π_k (2π)^{-d/2} |Σ_k|^{-1/2})`, so that
    /// `log π_k N(x; μ_k, Σ_k) = c_k - ½ (x-μ_k)ᵀ P_k (x-μ_k)`.
    pub fn precisions(&self) -> (Vec<Vec<f64>>, Vec<f64>) {
        let d = self.dim;
        let k = self.num_components();
        let mut precision = Vec::with_capacity(k);
        let mut log_c = Vec::with_capacity(k);
        for c in 0..k {
            let l = &self.chol[c];
            let mut p = vec![0.0; d * d];
            for j in 0..d {
                let e: Vec<f64> = (0..d).map(|i| if i == j { 1.0 } else { 0.0 }).collect();
                let col = backward_solve_t(l, &forward_solve(l, &e, d), d);
                for i in 0..d {
                    p[i * d + j] = col[i];
                }
            }
            precision.push(p);
            let log_det: f64 = (0..d).map(|i| 2.0 * l[i * d + i].ln()).sum();
            log_c.push(
                self.spec.weights[c].ln()
                    - 0.5 * (log_det + d as f64 * (2.0 * std::f64::consts::PI).ln()),
            );
        }
        (precision, log_c)
    }

    /// `log p` and `∇ₓ log p` for every row of `x` (row-major `[n, dim]`), as
    /// [`GaussianMixture::log_prob_and_score`] gives them one at a time, with each covariance
    /// inverted once per call instead of once per point.
    pub fn log_prob_and_score_batch(&self, x: &[f32]) -> (Vec<f64>, Vec<f64>) {
        let d = self.dim;
        let k = self.num_components();
        let n = x.len() / d;
        let (precision, log_c) = self.precisions();
        let mut log_p = Vec::with_capacity(n);
        let mut score = vec![0.0; n * d];
        let mut logs = vec![0.0; k];
        let mut grads = vec![0.0; k * d];
        let mut diff = vec![0.0; d];
        for r in 0..n {
            let xr = &x[r * d..(r + 1) * d];
            for c in 0..k {
                let mu = &self.spec.means[c];
                for i in 0..d {
                    diff[i] = xr[i] as f64 - mu[i];
                }
                let p = &precision[c];
                let mut maha = 0.0;
                for i in 0..d {
                    let g: f64 = (0..d).map(|j| p[i * d + j] * diff[j]).sum();
                    grads[c * d + i] = g;
                    maha += g * diff[i];
                }
                logs[c] = log_c[c] - 0.5 * maha;
            }
            let m = logs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let z: f64 = logs.iter().map(|l| (l - m).exp()).sum();
            log_p.push(m + z.ln());
            let out = &mut score[r * d..(r + 1) * d];
            for c in 0..k {
                let w = (logs[c] - m).exp() / z;
                for i in 0..d {
                    out[i] -= w * grads[c * d + i];
                }
            }
        }
        (log_p, score)
    }

    /// Index of the component with the highest responsibility for `x`.
    pub fn nearest_component(&self, x: &[f64]) -> usize {
        let d = self.dim;
        (0..self.num_components())
            .map(|k| {
                let l = &self.chol[k];
                let diff: Vec<f64> = (0..d).map(|i| x[i] - self.spec.means[k][i]).collect();
                let y = forward_solve(l, &diff, d);
                let log_det: f64 = (0..d).map(|i| 2.0 * l[i * d + i].ln()).sum();
                self.spec.weights[k].ln() - 0.5 * (y.iter().map(|v| v * v).sum::<f64>() + log_det)
            })
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(k, _)| k)
            .unwrap_or(0)
    }
}

/// Cholesky factor of a symmetric d×d matrix, or None when it is not positive definite.
fn cholesky(a: &[f64], d: usize) -> Option<Vec<f64>> {
    let mut l = vec![0.0; d * d];
    for i in 0..d {
        for j in 0..=i {
            let s: f64 = (0..j).map(|k| l[i * d + k] * l[j * d + k]).sum();
            if i == j {
                let v = a[i * d + i] - s;
                if v.is_nan() || v <= 1e-12 * (1.0 + a[i * d + i].abs()) {
                    return None;
                }
                l[i * d + j] = v.sqrt();
            } else {
                l[i * d + j] = (a[i * d + j] - s) / l[j * d + j];
            }
        }
    }
    Some(l)
}

fn forward_solve(l: &[f64], b: &[f64], d: usize) -> Vec<f64> {
    let mut y = vec![0.0; d];
    for i in 0..d {
        let s: f64 = (0..i).map(|j| l[i * d + j] * y[j]).sum();
        y[i] = (b[i] - s) / l[i * d + i];
    }
    y
}

fn backward_solve_t(l: &[f64], y: &[f64], d: usize) -> Vec<f64> {
    let mut x = vec![0.0; d];
    for i in (0..d).rev() {
        let s: f64 = (i + 1..d).map(|j| l[j * d + i] * x[j]).sum();
        x[i] = (y[i] - s) / l[i * d + i];
    }
    x
}
