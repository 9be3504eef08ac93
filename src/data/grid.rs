//! Regular grids over the plane, for fields evaluated at many points in one batch: the density
//! `p_t` and score `∇log p_t` of a perturbed mixture, and a model's score against it.

use super::MixtureScore;
use crate::error::{Error, Result};
use crate::process::Marginal;

/// `size × size` points on `[-half_width, half_width]²`; point `i·size + j` is
/// `(c_j, c_i)` with `c_j = -h + 2h j/(size-1)`, so x varies fastest and y grows with the row.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Grid {
    pub size: usize,
    pub half_width: f64,
}

impl Grid {
    pub fn new(size: usize, half_width: f64) -> Result<Self> {
        if size < 2 {
            return Err(Error::invalid(format!(
                "a grid needs at least 2 points a side, got {size}"
            )));
        }
        if !(half_width > 0.0 && half_width.is_finite()) {
            return Err(Error::invalid(format!(
                "the grid's half-width must be positive and finite, got {half_width}"
            )));
        }
        Ok(Self { size, half_width })
    }

    /// `c_j`, the coordinate of column (or row) `j`.
    pub fn coord(&self, j: usize) -> f64 {
        -self.half_width + 2.0 * self.half_width * j as f64 / (self.size - 1) as f64
    }

    pub fn len(&self) -> usize {
        self.size * self.size
    }

    pub fn is_empty(&self) -> bool {
        false
    }

    /// All points, row-major `[size², 2]`.
    pub fn points(&self) -> Vec<f32> {
        (0..self.len())
            .flat_map(|i| {
                [
                    self.coord(i % self.size) as f32,
                    self.coord(i / self.size) as f32,
                ]
            })
            .collect()
    }
}

/// The exact field of a mixture's perturbed marginal `p_t = Σ π_k N(a μ_k, a² Σ_k + s² I)` on a
/// grid: `log p_t` per point and `∇log p_t` row-major `[size², 2]`.
pub fn oracle_field(
    oracle: &MixtureScore,
    grid: &Grid,
    m: Marginal,
) -> Result<(Vec<f64>, Vec<f64>)> {
    if oracle.mixture().dim() != 2 {
        return Err(Error::invalid(format!(
            "a grid covers the plane; the mixture has dimension {}",
            oracle.mixture().dim()
        )));
    }
    oracle.log_prob_and_score(&grid.points(), m)
}

/// `‖a_i - b_i‖` for each row of two row-major `[n, d]` arrays: a model's score against the exact
/// one, point by point.
pub fn row_distance(a: &[f32], b: &[f64], d: usize) -> Result<Vec<f64>> {
    if d == 0 || a.len() != b.len() || a.len() % d != 0 {
        return Err(Error::invalid(format!(
            "cannot compare {} values with {} values in rows of {d}",
            a.len(),
            b.len()
        )));
    }
    Ok(a.chunks(d)
        .zip(b.chunks(d))
        .map(|(p, q)| {
            p.iter()
                .zip(q)
                .map(|(u, v)| (*u as f64 - v).powi(2))
                .sum::<f64>()
                .sqrt()
        })
        .collect())
}
