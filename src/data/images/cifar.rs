//! CIFAR-10's binary batches (`data_batch_1.bin` … `test_batch.bin`): records of one label byte
//! and 3072 pixel bytes, the red, green and blue 32×32 planes in turn (already CHW).

use std::path::Path;

use super::ImageSet;
use crate::error::{Error, Result};

const SIDE: usize = 32;
const RECORD: usize = 1 + 3 * SIDE * SIDE;

/// One binary batch's records, appended to `pixels` and `labels`.
fn parse_batch(
    bytes: &[u8],
    origin: &str,
    pixels: &mut Vec<u8>,
    labels: &mut Vec<u8>,
) -> Result<()> {
    if bytes.is_empty() || bytes.len() % RECORD != 0 {
        return Err(Error::format(
            origin,
            format!(
                "not a CIFAR-10 batch: {} bytes is not a whole number of {RECORD}-byte records",
                bytes.len()
            ),
        ));
    }
    for rec in bytes.chunks_exact(RECORD) {
        if rec[0] > 9 {
            return Err(Error::format(
                origin,
                format!("label {} out of range 0..=9", rec[0]),
            ));
        }
        labels.push(rec[0]);
        pixels.extend_from_slice(&rec[1..]);
    }
    Ok(())
}

/// One binary batch from its bytes.
pub fn parse_cifar10(bytes: &[u8], origin: &str) -> Result<ImageSet> {
    let (mut pixels, mut labels) = (Vec::new(), Vec::new());
    parse_batch(bytes, origin, &mut pixels, &mut labels)?;
    ImageSet::new(3, SIDE, SIDE, pixels, Some(labels))
}

/// Read and concatenate CIFAR-10 binary batch files.
pub fn read_cifar10<P: AsRef<Path>>(paths: &[P]) -> Result<ImageSet> {
    if paths.is_empty() {
        return Err(Error::invalid("no CIFAR-10 batch files given"));
    }
    let mut pixels = Vec::new();
    let mut labels = Vec::new();
    for path in paths {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|e| Error::read(path, e))?;
        parse_batch(
            &bytes,
            &path.display().to_string(),
            &mut pixels,
            &mut labels,
        )?;
    }
    ImageSet::new(3, SIDE, SIDE, pixels, Some(labels))
}
