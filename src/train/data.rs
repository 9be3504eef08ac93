//! What a 2-D (or low-D) trainer draws its batches from: a Gaussian mixture (exact score known,
//! so every objective applies), a named toy set, or a user's points (the empirical law). The
//! [`DataSpec`] recorded in a model's card says which, and rebuilds the mixture for the oracle.

use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::data::{GaussianMixture, MixtureSpec, PointSet, Toy2d};
use crate::error::{Error, Result};

#[derive(Debug, Clone, PartialEq)]
pub enum TrainData {
    Mixture(GaussianMixture),
    Toy(Toy2d),
    Points(PointSet),
}

impl From<GaussianMixture> for TrainData {
    fn from(m: GaussianMixture) -> Self {
        Self::Mixture(m)
    }
}

impl From<Toy2d> for TrainData {
    fn from(t: Toy2d) -> Self {
        Self::Toy(t)
    }
}

impl From<PointSet> for TrainData {
    fn from(p: PointSet) -> Self {
        Self::Points(p)
    }
}

impl TrainData {
    pub fn dim(&self) -> usize {
        match self {
            Self::Mixture(m) => m.dim(),
            Self::Toy(_) => 2,
            Self::Points(p) => p.dim(),
        }
    }

    /// `n` draws, row-major `[n, dim]`.
    pub fn sample<R: Rng + ?Sized>(&self, n: usize, rng: &mut R) -> Vec<f32> {
        match self {
            Self::Mixture(m) => m.sample(n, rng),
            Self::Toy(t) => t.sample(n, rng),
            Self::Points(p) => p.sample(n, rng),
        }
    }

    /// The mixture, where the data is one (its exact score is then known).
    pub fn mixture(&self) -> Option<&GaussianMixture> {
        match self {
            Self::Mixture(m) => Some(m),
            _ => None,
        }
    }

    /// What the card records. `origin` names a point set's source (a file, "drawn").
    pub fn spec(&self, origin: &str) -> DataSpec {
        match self {
            Self::Mixture(m) => DataSpec::Mixture(m.spec().clone()),
            Self::Toy(t) => DataSpec::Toy { toy: *t },
            Self::Points(p) => DataSpec::Points {
                source: origin.to_string(),
                n: p.len(),
                dim: p.dim(),
            },
        }
    }
}

/// The training data as a model card records it. Untagged, so the cards written before toy sets
/// and point sets existed (a bare mixture) still read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum DataSpec {
    Mixture(MixtureSpec),
    Toy {
        toy: Toy2d,
    },
    Points {
        source: String,
        n: usize,
        dim: usize,
    },
}

impl DataSpec {
    pub fn mixture(&self) -> Option<&MixtureSpec> {
        match self {
            Self::Mixture(m) => Some(m),
            _ => None,
        }
    }

    /// The mixture, or an error naming what the model was trained on instead.
    pub fn require_mixture(&self, why: &str) -> Result<GaussianMixture> {
        match self {
            Self::Mixture(m) => GaussianMixture::new(m.clone()),
            other => Err(Error::invalid(format!(
                "{why} needs a Gaussian mixture, but the model was trained on {}",
                other.describe()
            ))),
        }
    }

    pub fn dim(&self) -> usize {
        match self {
            Self::Mixture(m) => m.means.first().map_or(0, Vec::len),
            Self::Toy { .. } => 2,
            Self::Points { dim, .. } => *dim,
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Self::Mixture(m) => format!("a {}-component mixture", m.weights.len()),
            Self::Toy { toy } => format!("the {} toy set", toy.name()),
            Self::Points { source, n, .. } => format!("{n} points from {source}"),
        }
    }
}
