//! The 2-D toy sets of the score-matching literature, sampled on the host from a seeded RNG.
//! Their densities are not Gaussian mixtures (except 8 Gaussians), so they train networks but
//! have no oracle score.

use rand::Rng;
use rand_distr::{Distribution, StandardNormal, Uniform};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// A named 2-D distribution. Each is scaled to roughly unit variance per coordinate, the scale
/// the VP process and the default schedules assume.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Toy2d {
    /// Two interleaved half circles (scikit-learn's `make_moons`), noise 0.05, centred.
    Moons,
    /// A 2-D swiss roll: `t (cos t, sin t)` for `t ~ U(1.5π, 4.5π)`, scaled by 1/5, noise 0.1.
    SwissRoll,
    /// Two concentric rings of radii 1 and 2 (equal numbers of points), noise 0.05.
    Rings,
    /// A 4×4 checkerboard on `[-2, 2]²`, uniform on the 8 dark squares.
    Checkerboard,
    /// Eight Gaussians of std 0.1 evenly spaced on the circle of radius 2.
    EightGaussians,
}

impl Toy2d {
    pub const ALL: [Toy2d; 5] = [
        Toy2d::Moons,
        Toy2d::SwissRoll,
        Toy2d::Rings,
        Toy2d::Checkerboard,
        Toy2d::EightGaussians,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Toy2d::Moons => "moons",
            Toy2d::SwissRoll => "swiss-roll",
            Toy2d::Rings => "rings",
            Toy2d::Checkerboard => "checkerboard",
            Toy2d::EightGaussians => "8gaussians",
        }
    }

    /// `n` points, row-major `[n, 2]`.
    pub fn sample<R: Rng + ?Sized>(self, n: usize, rng: &mut R) -> Vec<f32> {
        let u = Uniform::new(0.0f64, 1.0).expect("0 < 1");
        let z = |rng: &mut R| -> f64 { StandardNormal.sample(rng) };
        let tau = std::f64::consts::TAU;
        let mut out = Vec::with_capacity(2 * n);
        for i in 0..n {
            let (x, y) = match self {
                Toy2d::Moons => {
                    // Upper moon (cos θ, sin θ), lower moon (1 - cos θ, 0.5 - sin θ), θ ~ U(0, π),
                    // shifted by (-0.5, -0.25) to centre the pair.
                    let th = u.sample(rng) * std::f64::consts::PI;
                    let (x, y) = if i % 2 == 0 {
                        (th.cos(), th.sin())
                    } else {
                        (1.0 - th.cos(), 0.5 - th.sin())
                    };
                    (x - 0.5 + 0.05 * z(rng), y - 0.25 + 0.05 * z(rng))
                }
                Toy2d::SwissRoll => {
                    let t = 1.5 * std::f64::consts::PI * (1.0 + 2.0 * u.sample(rng));
                    (
                        t * t.cos() / 5.0 + 0.1 * z(rng),
                        t * t.sin() / 5.0 + 0.1 * z(rng),
                    )
                }
                Toy2d::Rings => {
                    let r = if i % 2 == 0 { 1.0 } else { 2.0 };
                    let th = u.sample(rng) * tau;
                    (r * th.cos() + 0.05 * z(rng), r * th.sin() + 0.05 * z(rng))
                }
                Toy2d::Checkerboard => {
                    // Cell (a, b) of the 4×4 board is dark when a + b is even.
                    let a = (u.sample(rng) * 4.0).floor().min(3.0);
                    let mut b = (u.sample(rng) * 2.0).floor().min(1.0) * 2.0;
                    if (a as i64) % 2 == 1 {
                        b += 1.0;
                    }
                    (a - 2.0 + u.sample(rng), b - 2.0 + u.sample(rng))
                }
                Toy2d::EightGaussians => {
                    let k = (u.sample(rng) * 8.0).floor().min(7.0);
                    let th = k * tau / 8.0;
                    (2.0 * th.cos() + 0.1 * z(rng), 2.0 * th.sin() + 0.1 * z(rng))
                }
            };
            out.extend([x as f32, y as f32]);
        }
        out
    }
}

impl std::str::FromStr for Toy2d {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Toy2d::ALL
            .into_iter()
            .find(|t| t.name() == s)
            .ok_or_else(|| {
                let names: Vec<_> = Toy2d::ALL.iter().map(|t| t.name()).collect();
                Error::invalid(format!(
                    "unknown 2-D data set '{s}' (expected one of {})",
                    names.join(", ")
                ))
            })
    }
}
