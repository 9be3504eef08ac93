//! The IDX format of MNIST and Fashion-MNIST (LeCun et al.): a big-endian header
//! `0x00 0x00 <type> <ndim>`, then `ndim` u32 sizes, then the data. Only unsigned bytes
//! (type `0x08`), the type of both images and labels, are read. Files ending in `.gz` are
//! decompressed first.

use std::path::Path;

use super::ImageSet;
use crate::error::{Error, Result};

/// An IDX array of unsigned bytes.
#[derive(Debug, Clone, PartialEq)]
pub struct IdxArray {
    pub shape: Vec<usize>,
    pub data: Vec<u8>,
}

/// Parse IDX bytes (already decompressed). `origin` names the source in messages.
pub fn parse_idx(bytes: &[u8], origin: &str) -> Result<IdxArray> {
    let bad = |m: String| Error::format(origin, format!("not an IDX file: {m}"));
    if bytes.len() < 4 {
        return Err(bad(format!(
            "{} bytes, shorter than the 4-byte magic",
            bytes.len()
        )));
    }
    if bytes[0] != 0 || bytes[1] != 0 {
        return Err(bad(format!(
            "magic starts {:#04x} {:#04x}, expected 0x00 0x00",
            bytes[0], bytes[1]
        )));
    }
    if bytes[2] != 0x08 {
        return Err(bad(format!(
            "element type {:#04x}; only unsigned bytes (0x08) are supported",
            bytes[2]
        )));
    }
    let ndim = bytes[3] as usize;
    if ndim == 0 {
        return Err(bad("zero dimensions".into()));
    }
    let header = 4 + 4 * ndim;
    if bytes.len() < header {
        return Err(bad(format!("the header of {ndim} sizes is truncated")));
    }
    let shape: Vec<usize> = (0..ndim)
        .map(|i| {
            let b = &bytes[4 + 4 * i..8 + 4 * i];
            u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize
        })
        .collect();
    let count = shape
        .iter()
        .try_fold(1usize, |a, &s| a.checked_mul(s))
        .ok_or_else(|| bad(format!("sizes {shape:?} overflow")))?;
    let data = &bytes[header..];
    if data.len() != count {
        return Err(bad(format!(
            "sizes {shape:?} need {count} bytes of data, the file has {}",
            data.len()
        )));
    }
    Ok(IdxArray {
        shape,
        data: data.to_vec(),
    })
}

/// Gunzip `bytes` if they start with gzip's magic `1f 8b`, else return them as they are.
pub fn gunzip_if_gzip(bytes: &[u8], origin: &str) -> Result<Vec<u8>> {
    if !bytes.starts_with(&[0x1f, 0x8b]) {
        return Ok(bytes.to_vec());
    }
    // A few KiB of gzip can inflate to gigabytes: stop at what one job may hold.
    let limit = crate::budget::Memory::of_machine().limit();
    crate::budget::read_bounded(
        flate2::read::GzDecoder::new(bytes),
        limit,
        origin,
        "the gzip data",
    )
}

/// Read an IDX file, gunzipping `*.gz`.
pub fn read_idx(path: impl AsRef<Path>) -> Result<IdxArray> {
    let path = path.as_ref();
    let raw = std::fs::read(path).map_err(|e| Error::read(path, e))?;
    let origin = path.display().to_string();
    let bytes = if path.extension().is_some_and(|e| e == "gz") {
        if !raw.starts_with(&[0x1f, 0x8b]) {
            return Err(Error::format(&origin, "bad gzip data: no gzip header"));
        }
        gunzip_if_gzip(&raw, &origin)?
    } else {
        raw
    };
    parse_idx(&bytes, &origin)
}

/// One-channel images `[n, rows, cols]` from IDX bytes, gzipped or not (the page fetches the
/// shipped digits as bytes).
pub fn idx_images_from_bytes(bytes: &[u8], origin: &str) -> Result<ImageSet> {
    let a = parse_idx(&gunzip_if_gzip(bytes, origin)?, origin)?;
    images_of(a, origin)
}

fn images_of(a: IdxArray, origin: &str) -> Result<ImageSet> {
    if a.shape.len() != 3 {
        return Err(Error::format(
            origin,
            format!(
                "images need 3 dimensions [n, rows, cols], the file has {:?}",
                a.shape
            ),
        ));
    }
    ImageSet::new(1, a.shape[1], a.shape[2], a.data, None).map_err(|e| Error::format(origin, e))
}

/// An image file `[n, rows, cols]` as one-channel images.
pub fn read_idx_images(path: impl AsRef<Path>) -> Result<ImageSet> {
    let path = path.as_ref();
    images_of(read_idx(path)?, &path.display().to_string())
}

/// A label file `[n]`.
pub fn read_idx_labels(path: impl AsRef<Path>) -> Result<Vec<u8>> {
    let path = path.as_ref();
    let a = read_idx(path)?;
    if a.shape.len() != 1 {
        return Err(Error::format(
            path.display().to_string(),
            format!("labels need 1 dimension, the file has {:?}", a.shape),
        ));
    }
    Ok(a.data)
}

/// The IDX bytes of `[n, dims…]` unsigned bytes (used to write the shipped digits and tests).
pub fn to_idx(shape: &[usize], data: &[u8]) -> Vec<u8> {
    let mut out = vec![0, 0, 0x08, shape.len() as u8];
    for &s in shape {
        out.extend((s as u32).to_be_bytes());
    }
    out.extend_from_slice(data);
    out
}
