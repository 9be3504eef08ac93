//! Host-side randomness. Every random draw comes from a seeded [`StdRng`] and is uploaded, so a
//! seed gives the same numbers on flex, wgpu and WebGPU, and a run can be replayed exactly.

use burn::prelude::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, StandardNormal};

pub use rand::rngs::StdRng as Rng64;

pub fn rng(seed: u64) -> StdRng {
    StdRng::seed_from_u64(seed)
}

/// A seed for stream `(a, b)` of `seed`: SplitMix64's finaliser of the three mixed, so streams of
/// neighbouring indices are unrelated.
pub fn stream_seed(seed: u64, a: u64, b: u64) -> u64 {
    let mut z =
        seed ^ a.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ b.wrapping_mul(0xd1b5_4a32_d192_ed03);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// `n` standard-normal floats.
pub fn normal_vec<R: Rng + ?Sized>(rng: &mut R, n: usize) -> Vec<f32> {
    (0..n).map(|_| StandardNormal.sample(rng)).collect()
}

/// A `[rows, cols]` tensor of N(0, 1) draws.
pub fn normal<R: Rng + ?Sized>(rng: &mut R, shape: [usize; 2], device: &Device) -> Tensor<2> {
    Tensor::from_data(
        TensorData::new(normal_vec(rng, shape[0] * shape[1]), shape),
        device,
    )
}

/// `n` integers uniform on `0..high`.
pub fn uniform_steps<R: Rng + ?Sized>(rng: &mut R, n: usize, high: usize) -> Vec<usize> {
    let u = rand::distr::Uniform::new(0, high).expect("high > 0");
    (0..n).map(|_| u.sample(rng)).collect()
}
