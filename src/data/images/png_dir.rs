//! A folder of PNG images, all of one size, read in file-name order. Grayscale files give one
//! channel and colour files three (alpha is dropped); a folder must not mix the two.

use std::path::Path;

use super::ImageSet;
use crate::error::{Error, Result};

/// One PNG file as `(channels, height, width, bytes)` in CHW order.
pub(crate) fn decode(path: &Path) -> Result<(usize, usize, usize, Vec<u8>)> {
    let bytes = std::fs::read(path).map_err(|e| Error::read(path, e))?;
    decode_png(&bytes, &path.display().to_string())
}

/// One PNG's bytes as `(channels, height, width, bytes)` in CHW order. The header's size is a
/// claim: its buffers (the decoded frame and the CHW copy) are checked against the memory one
/// job may hold before they are allocated.
pub fn decode_png(bytes: &[u8], shown: &str) -> Result<(usize, usize, usize, Vec<u8>)> {
    let mut decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    // Expand palettes and low bit depths to 8-bit gray or RGB(A); 16-bit samples drop to 8.
    decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    let mut reader = decoder
        .read_info()
        .map_err(|e| Error::format(shown, format!("not a readable PNG: {e}")))?;
    let (w, h) = (reader.info().width, reader.info().height);
    let size = reader
        .output_buffer_size()
        .ok_or_else(|| Error::format(shown, format!("a {w}×{h} PNG is too large to decode")))?;
    crate::budget::check(&crate::budget::Need::new(
        format!("{shown}: decoding a {w}×{h} PNG"),
        0,
        2,
        size as u64,
    ))?;
    let mut buf = vec![0; size];
    let info = reader
        .next_frame(&mut buf)
        .map_err(|e| Error::format(shown, format!("not a readable PNG: {e}")))?;
    let (w, h) = (info.width as usize, info.height as usize);
    let src_channels = info.color_type.samples();
    let channels = if src_channels <= 2 { 1 } else { 3 };
    let mut chw = vec![0u8; channels * h * w];
    for y in 0..h {
        let row = &buf[y * info.line_size..];
        for x in 0..w {
            for c in 0..channels {
                chw[(c * h + y) * w + x] = row[x * src_channels + c];
            }
        }
    }
    Ok((channels, h, w, chw))
}

/// Every `*.png` in `dir` (not recursive), sorted by name.
pub fn read_png_dir(dir: impl AsRef<Path>) -> Result<ImageSet> {
    let dir = dir.as_ref();
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| Error::read(dir, e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e.eq_ignore_ascii_case("png")))
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(Error::format(
            dir.display().to_string(),
            "the folder holds no .png images",
        ));
    }
    let mut shape = None;
    let mut pixels = Vec::new();
    for f in &files {
        let (c, h, w, data) = decode(f)?;
        let first = *shape.get_or_insert((c, h, w));
        if (c, h, w) != first {
            return Err(Error::format(
                f.display().to_string(),
                format!(
                    "{c}×{h}×{w} (channels×height×width), but {} is {}×{}×{}",
                    files[0].display(),
                    first.0,
                    first.1,
                    first.2
                ),
            ));
        }
        pixels.extend(data);
    }
    let (c, h, w) = shape.expect("at least one file");
    ImageSet::new(c, h, w, pixels, None)
}
