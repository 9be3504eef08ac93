//! Image data sets as `u8` pixels, `[n, channels, height, width]` (PyTorch's NCHW), from the
//! formats users download: MNIST/Fashion-MNIST IDX (gzipped or not), CIFAR-10 binary batches and
//! folders of PNGs. The shipped digits are IDX files too (see `build.sh`).

pub mod cifar;
pub mod idx;
pub mod png_dir;

use rand::Rng;

use crate::error::{Error, Result};

pub use cifar::read_cifar10;
pub use idx::{idx_images_from_bytes, read_idx, read_idx_images, read_idx_labels, IdxArray};
pub use png_dir::read_png_dir;

/// Images with optional class labels.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageSet {
    pub channels: usize,
    pub height: usize,
    pub width: usize,
    /// `n · channels · height · width` bytes, NCHW.
    pub pixels: Vec<u8>,
    pub labels: Option<Vec<u8>>,
}

impl ImageSet {
    /// Check the sizes agree and the set is not empty.
    pub fn new(
        channels: usize,
        height: usize,
        width: usize,
        pixels: Vec<u8>,
        labels: Option<Vec<u8>>,
    ) -> Result<Self> {
        let per = channels * height * width;
        if per == 0 || pixels.is_empty() {
            return Err(Error::invalid("the image data set is empty"));
        }
        if pixels.len() % per != 0 {
            return Err(Error::invalid(format!(
                "{} bytes are not whole {channels}×{height}×{width} images",
                pixels.len()
            )));
        }
        if let Some(l) = &labels {
            if l.len() != pixels.len() / per {
                return Err(Error::invalid(format!(
                    "{} labels for {} images",
                    l.len(),
                    pixels.len() / per
                )));
            }
        }
        Ok(Self {
            channels,
            height,
            width,
            pixels,
            labels,
        })
    }

    pub fn len(&self) -> usize {
        self.pixels.len() / self.image_size()
    }

    pub fn is_empty(&self) -> bool {
        self.pixels.is_empty()
    }

    /// `channels · height · width`.
    pub fn image_size(&self) -> usize {
        self.channels * self.height * self.width
    }

    /// Image `i` scaled to `[-1, 1]` (`2p/255 - 1`, DDPM's data scaling, Ho et al. 2020 §3.3).
    pub fn image_f32(&self, i: usize) -> Vec<f32> {
        let s = self.image_size();
        self.pixels[i * s..(i + 1) * s]
            .iter()
            .map(|&p| p as f32 * (2.0 / 255.0) - 1.0)
            .collect()
    }

    /// `n` images drawn uniformly with replacement, scaled to `[-1, 1]`, row-major
    /// `[n, channels·height·width]`.
    pub fn sample<R: Rng + ?Sized>(&self, n: usize, rng: &mut R) -> Vec<f32> {
        crate::noise::uniform_steps(rng, n, self.len())
            .into_iter()
            .flat_map(|i| self.image_f32(i))
            .collect()
    }
}
