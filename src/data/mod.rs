//! Data sets. Gaussian mixtures carry their exact density and score, at every noise level
//! through [`MixtureScore`].

pub mod grid;
pub mod mixture;
pub mod oracle;

pub use grid::{oracle_field, row_distance, Grid};
pub use mixture::{GaussianMixture, MixtureSpec};
pub use oracle::MixtureScore;
