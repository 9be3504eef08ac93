//! Sample-quality measures for low-dimensional samples (row-major `[n, d]` `f32` arrays).

use serde::Serialize;

use crate::data::GaussianMixture;
use crate::error::{Error, Result};

fn rows(x: &[f32], d: usize) -> Result<usize> {
    if d == 0 || x.len() % d != 0 {
        return Err(Error::invalid(format!(
            "{} values are not rows of dimension {d}",
            x.len()
        )));
    }
    Ok(x.len() / d)
}

/// Mean and covariance of the points assigned to one mixture component.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ComponentStats {
    pub count: usize,
    /// `count / n`.
    pub weight: f64,
    pub mean: Vec<f64>,
    /// The unbiased sample covariance, `d×d` (zeros when `count < 2`).
    pub cov: Vec<Vec<f64>>,
}

/// The component each point belongs to, by highest responsibility under `mix`
/// ([`GaussianMixture::nearest_component`]).
pub fn assign_components(mix: &GaussianMixture, x: &[f32]) -> Result<Vec<usize>> {
    let d = mix.dim();
    let n = rows(x, d)?;
    let mut p = vec![0.0f64; d];
    Ok((0..n)
        .map(|i| {
            for (j, v) in p.iter_mut().enumerate() {
                *v = x[i * d + j] as f64;
            }
            mix.nearest_component(&p)
        })
        .collect())
}

/// Fraction of points nearest to each component: the mixture weights a sampler recovered.
pub fn component_weights(mix: &GaussianMixture, x: &[f32]) -> Result<Vec<f64>> {
    Ok(component_stats(mix, x)?.iter().map(|s| s.weight).collect())
}

/// Weight, mean and covariance of the points assigned to each component.
pub fn component_stats(mix: &GaussianMixture, x: &[f32]) -> Result<Vec<ComponentStats>> {
    let d = mix.dim();
    let n = rows(x, d)?;
    if n == 0 {
        return Err(Error::invalid("no points to measure"));
    }
    let labels = assign_components(mix, x)?;
    let k = mix.num_components();
    let mut out = Vec::with_capacity(k);
    for c in 0..k {
        let idx: Vec<usize> = (0..n).filter(|&i| labels[i] == c).collect();
        let m = idx.len();
        let mut mean = vec![0.0; d];
        for &i in &idx {
            for (j, v) in mean.iter_mut().enumerate() {
                *v += x[i * d + j] as f64;
            }
        }
        mean.iter_mut().for_each(|v| *v /= m.max(1) as f64);
        let mut cov = vec![vec![0.0; d]; d];
        if m >= 2 {
            for &i in &idx {
                for a in 0..d {
                    for b in 0..d {
                        cov[a][b] +=
                            (x[i * d + a] as f64 - mean[a]) * (x[i * d + b] as f64 - mean[b]);
                    }
                }
            }
            cov.iter_mut().flatten().for_each(|v| *v /= (m - 1) as f64);
        }
        out.push(ComponentStats {
            count: m,
            weight: m as f64 / n as f64,
            mean,
            cov,
        });
    }
    Ok(out)
}

/// The energy distance `2E‖X-Y‖ - E‖X-X'‖ - E‖Y-Y'‖` (Székely & Rizzo 2013, eq. 2.1), estimated
/// with all pairs (V-statistic within each sample, so 0 only for identical samples). It is ≥ 0 and
/// 0 exactly when the laws agree. Cost `O((n+m)²)`: subsample large sets first.
pub fn energy_distance(x: &[f32], y: &[f32], d: usize) -> Result<f64> {
    let (n, m) = (rows(x, d)?, rows(y, d)?);
    if n == 0 || m == 0 {
        return Err(Error::invalid(
            "the energy distance needs two non-empty samples",
        ));
    }
    let mean_dist = |a: &[f32], na: usize, b: &[f32], nb: usize| -> f64 {
        let mut s = 0.0;
        for i in 0..na {
            let p = &a[i * d..(i + 1) * d];
            for j in 0..nb {
                let q = &b[j * d..(j + 1) * d];
                s += p
                    .iter()
                    .zip(q)
                    .map(|(u, v)| (*u as f64 - *v as f64).powi(2))
                    .sum::<f64>()
                    .sqrt();
            }
        }
        s / (na * nb) as f64
    };
    Ok(2.0 * mean_dist(x, n, y, m) - mean_dist(x, n, x, n) - mean_dist(y, m, y, m))
}

/// Points of a `per_side × per_side` grid (2-D mixtures) where `mix`'s density is at least
/// `fraction` of its largest value on the grid and at the component means. The grid spans every
/// component's `μ_k ± 3.1 √max_i Σ_k,ii`, which holds each component's `p ≥ 1%·peak` ellipse
/// (Mahalanobis `r² < 2 ln 100 ≈ 9.2`, reaching `√(9.2 Σ_ii) < 3.1 √Σ_ii` along axis i).
/// Row-major `[m, 2]`.
pub fn dense_region_grid(
    mix: &GaussianMixture,
    fraction: f64,
    per_side: usize,
) -> Result<Vec<f32>> {
    if mix.dim() != 2 || per_side < 2 || !(fraction > 0.0 && fraction < 1.0) {
        return Err(Error::invalid(format!(
            "a dense-region grid needs a 2-D mixture, ≥ 2 points per side and 0 < fraction < 1 \
             (got dimension {}, {per_side}, {fraction})",
            mix.dim()
        )));
    }
    let (mut lo, mut hi) = ([f64::INFINITY; 2], [f64::NEG_INFINITY; 2]);
    for (mu, cov) in mix.means().iter().zip(mix.covs()) {
        let half = 3.1 * cov[0][0].max(cov[1][1]).sqrt();
        for i in 0..2 {
            lo[i] = lo[i].min(mu[i] - half);
            hi[i] = hi[i].max(mu[i] + half);
        }
    }
    let step = |i: usize, k: usize| lo[i] + (hi[i] - lo[i]) * k as f64 / (per_side - 1) as f64;
    let mut grid = Vec::with_capacity(2 * per_side * per_side);
    for a in 0..per_side {
        for b in 0..per_side {
            grid.extend([step(0, a) as f32, step(1, b) as f32]);
        }
    }
    let (log_p, _) = mix.log_prob_and_score_batch(&grid);
    let peak = mix
        .means()
        .iter()
        .map(|m| mix.log_prob_and_score(m).0)
        .chain(log_p.iter().copied())
        .fold(f64::NEG_INFINITY, f64::max);
    let keep = peak + fraction.ln();
    Ok(grid
        .chunks_exact(2)
        .zip(&log_p)
        .filter(|(_, &l)| l >= keep)
        .flat_map(|(p, _)| p.iter().copied())
        .collect())
}

/// The relative L² error of a score estimate over points `x`, `√(Σ ‖ŝ - ∇log p‖² / Σ ‖∇log p‖²)`,
/// against `mix`'s exact score. (A pointwise ratio would divide by zero where the score
/// vanishes, at a mode.)
pub fn relative_score_error(mix: &GaussianMixture, x: &[f32], estimate: &[f32]) -> Result<f64> {
    rows(x, mix.dim())?;
    if estimate.len() != x.len() {
        return Err(Error::invalid(format!(
            "{} score values for {} coordinates",
            estimate.len(),
            x.len()
        )));
    }
    let (_, truth) = mix.log_prob_and_score_batch(x);
    let err: f64 = estimate
        .iter()
        .zip(&truth)
        .map(|(&a, &b)| (a as f64 - b).powi(2))
        .sum();
    let norm: f64 = truth.iter().map(|b| b * b).sum();
    if norm == 0.0 {
        return Err(Error::invalid("the exact score vanishes on every point"));
    }
    Ok((err / norm).sqrt())
}
