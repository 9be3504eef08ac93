//! The seeds' experiments on `p = ⅕ N((-5,-5), I) + ⅘ N((5,5), I)` (Song & Ermon 2019, §3):
//!
//! - (a) [`score_error_vs_density`]: a score network trained by denoising score matching is
//!   accurate where the data are and wrong in low-density regions (§3.2.1, Figure 2);
//! - (b) [`langevin_vs_annealed`]: plain Langevin dynamics with the exact score gets the mixture
//!   weights wrong, annealed Langevin gets them right (§3.2.2, Figure 3).

pub mod langevin_vs_annealed;
pub mod score_error;

pub use langevin_vs_annealed::{
    langevin_vs_annealed, LangevinVsAnnealed, LangevinVsAnnealedConfig,
};
pub use score_error::{score_error_vs_density, DensityBin, ScoreError, ScoreErrorConfig};

use crate::data::{GaussianMixture, MixtureSpec};

/// `⅕ N((-5,-5), I) + ⅘ N((5,5), I)`, the same as `data/seeds_two_modes.json`.
pub fn seeds_two_modes() -> GaussianMixture {
    let eye = vec![vec![1.0, 0.0], vec![0.0, 1.0]];
    GaussianMixture::new(MixtureSpec {
        weights: vec![0.2, 0.8],
        means: vec![vec![-5.0, -5.0], vec![5.0, 5.0]],
        covs: vec![eye.clone(), eye],
    })
    .expect("a valid mixture")
}
