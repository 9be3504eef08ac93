//! Data sets. Gaussian mixtures carry their exact density and score, at every noise level
//! through [`MixtureScore`]; the 2-D toy sets ([`Toy2d`]) and a user's CSV points
//! ([`PointSet`]) train networks; [`images`] reads digit and photo data sets.

pub mod grid;
pub mod images;
pub mod mixture;
pub mod oracle;
pub mod points;
pub mod source;
pub mod toy;

pub use grid::{oracle_field, row_distance, Grid};
pub use mixture::{GaussianMixture, MixtureSpec};
pub use oracle::MixtureScore;
pub use points::PointSet;
pub use toy::Toy2d;
