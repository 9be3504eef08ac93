//! Data sets. Gaussian mixtures carry their exact density and score.

pub mod mixture;

pub use mixture::{GaussianMixture, MixtureSpec};
