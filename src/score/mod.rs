//! Training objectives.

pub mod ddpm;

pub use ddpm::l_simple;
