//! A user's points from a CSV file: one point per line, comma-separated numbers, an optional
//! header line of names. Training draws from them with replacement (the empirical distribution).

use rand::Rng;

use crate::error::{Error, Result};

/// Points of one dimension, row-major `[n, dim]`.
#[derive(Debug, Clone, PartialEq)]
pub struct PointSet {
    dim: usize,
    values: Vec<f32>,
}

impl PointSet {
    /// Validated points: at least 2, all finite, `values.len()` a multiple of `dim`.
    pub fn new(values: Vec<f32>, dim: usize) -> Result<Self> {
        if dim == 0 || values.len() % dim != 0 {
            return Err(Error::invalid(format!(
                "{} values are not points of dimension {dim}",
                values.len()
            )));
        }
        if values.len() / dim < 2 {
            return Err(Error::invalid(format!(
                "a data set needs at least 2 points, got {}",
                values.len() / dim
            )));
        }
        if let Some(i) = values.iter().position(|v| !v.is_finite()) {
            return Err(Error::invalid(format!(
                "point {} holds a non-finite value ({})",
                i / dim + 1,
                values[i]
            )));
        }
        Ok(Self { dim, values })
    }

    /// Parse CSV text. `origin` names the source in messages, which give 1-based line numbers.
    pub fn from_csv(text: &str, origin: &str) -> Result<Self> {
        let mut dim = None;
        let mut values = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let fields: Vec<&str> = line.split(',').map(str::trim).collect();
            let parsed: std::result::Result<Vec<f32>, _> =
                fields.iter().map(|f| f.parse::<f32>()).collect();
            let row = match parsed {
                Ok(row) => row,
                // A first line of names is a header.
                Err(_)
                    if dim.is_none()
                        && values.is_empty()
                        && fields.iter().all(|f| f.parse::<f64>().is_err()) =>
                {
                    dim = Some(fields.len());
                    continue;
                }
                Err(_) => {
                    let bad = fields
                        .iter()
                        .find(|f| f.parse::<f32>().is_err())
                        .unwrap_or(&"");
                    return Err(Error::invalid(format!(
                        "{origin}, line {}: '{bad}' is not a number",
                        i + 1
                    )));
                }
            };
            let d = *dim.get_or_insert(row.len());
            if row.len() != d {
                return Err(Error::invalid(format!(
                    "{origin}, line {}: {} columns, expected {d}",
                    i + 1,
                    row.len()
                )));
            }
            if let Some(v) = row.iter().find(|v| !v.is_finite()) {
                return Err(Error::invalid(format!(
                    "{origin}, line {}: {v} is not a finite number",
                    i + 1
                )));
            }
            values.extend(row);
        }
        let dim = dim.ok_or_else(|| Error::invalid(format!("{origin} holds no points")))?;
        Self::new(values, dim).map_err(|e| Error::invalid(format!("{origin}: {e}")))
    }

    pub fn dim(&self) -> usize {
        self.dim
    }

    pub fn len(&self) -> usize {
        self.values.len() / self.dim
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    pub fn values(&self) -> &[f32] {
        &self.values
    }

    /// `n` points drawn uniformly with replacement, row-major `[n, dim]`.
    pub fn sample<R: Rng + ?Sized>(&self, n: usize, rng: &mut R) -> Vec<f32> {
        let idx = crate::noise::uniform_steps(rng, n, self.len());
        idx.into_iter()
            .flat_map(|i| {
                self.values[i * self.dim..(i + 1) * self.dim]
                    .iter()
                    .copied()
            })
            .collect()
    }
}
