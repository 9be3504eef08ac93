//! PNG figures the CLI writes while training: a scatter of samples over the data (2-D) and a grid
//! of images. Plain RGB rasters through the `png` crate.

use std::path::Path;

use crate::data::images::png_dir;
use crate::error::{Error, Result};

const BACKGROUND: [u8; 3] = [255, 255, 255];
const DATA: [u8; 3] = [190, 190, 190];
const SAMPLES: [u8; 3] = [31, 119, 180];

/// `data` (grey) and `samples` (blue), both row-major `[n, 2]`, on a `size`×`size` square whose
/// window is the data's bounding box padded by a tenth.
pub fn scatter_png(data: &[f32], samples: &[f32], size: usize) -> Result<Vec<u8>> {
    if size < 16 {
        return Err(Error::invalid("a scatter plot needs at least 16×16 pixels"));
    }
    let finite = |v: &&f32| v.is_finite();
    let xs = data.iter().step_by(2).filter(finite);
    let ys = data.iter().skip(1).step_by(2).filter(finite);
    let (x0, x1) = xs.fold((f32::MAX, f32::MIN), |(a, b), &v| (a.min(v), b.max(v)));
    let (y0, y1) = ys.fold((f32::MAX, f32::MIN), |(a, b), &v| (a.min(v), b.max(v)));
    if x0 > x1 || y0 > y1 {
        return Err(Error::invalid("no finite data points to plot"));
    }
    let span = (x1 - x0).max(y1 - y0).max(1e-6) * 1.2;
    let (cx, cy) = ((x0 + x1) / 2.0, (y0 + y1) / 2.0);
    let mut img = vec![BACKGROUND; size * size];
    let mut dot = |x: f32, y: f32, colour: [u8; 3]| {
        let px = ((x - cx) / span + 0.5) * size as f32;
        let py = (0.5 - (y - cy) / span) * size as f32;
        if !(px.is_finite() && py.is_finite()) {
            return;
        }
        for (dx, dy) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
            let (ix, iy) = (px as i64 + dx, py as i64 + dy);
            if (0..size as i64).contains(&ix) && (0..size as i64).contains(&iy) {
                img[iy as usize * size + ix as usize] = colour;
            }
        }
    };
    for p in data.chunks_exact(2) {
        dot(p[0], p[1], DATA);
    }
    for p in samples.chunks_exact(2) {
        dot(p[0], p[1], SAMPLES);
    }
    encode_rgb(&img.concat(), size, size)
}

/// A grid of `n` images `[n, c, h, w]` (c = 1 or 3) with values in `[-1, 1]`, `cols` per row,
/// one pixel of white between them.
pub fn grid_png(images: &[f32], shape: [usize; 4], cols: usize) -> Result<Vec<u8>> {
    let [n, c, h, w] = shape;
    if n == 0 || cols == 0 || !(c == 1 || c == 3) || images.len() != n * c * h * w {
        return Err(Error::invalid(format!(
            "cannot draw {} values as a grid of {shape:?} images",
            images.len()
        )));
    }
    let rows = n.div_ceil(cols);
    let (gw, gh) = (cols * (w + 1) + 1, rows * (h + 1) + 1);
    let mut img = vec![255u8; gw * gh * 3];
    let byte = |v: f32| ((v.clamp(-1.0, 1.0) + 1.0) * 127.5).round() as u8;
    for k in 0..n {
        let (ox, oy) = (1 + (k % cols) * (w + 1), 1 + (k / cols) * (h + 1));
        for y in 0..h {
            for x in 0..w {
                let at = |ch: usize| images[((k * c + ch) * h + y) * w + x];
                let rgb = if c == 1 {
                    [byte(at(0)); 3]
                } else {
                    [byte(at(0)), byte(at(1)), byte(at(2))]
                };
                let o = ((oy + y) * gw + ox + x) * 3;
                img[o..o + 3].copy_from_slice(&rgb);
            }
        }
    }
    encode_rgb(&img, gw, gh)
}

/// The inverse of [`grid_png`]: the first `n` tiles of a grid of `[c, h, w]` images, `cols` to a
/// row, as values in `[-1, 1]` (`byte / 127.5 − 1`: within half a grey level, 1/255, of what was
/// drawn).
pub fn read_grid_png(
    path: &Path,
    n: usize,
    [c, h, w]: [usize; 3],
    cols: usize,
) -> Result<Vec<f32>> {
    let shown = path.display().to_string();
    let (channels, gh, gw, chw) = png_dir::decode(path)?;
    let rows = n.div_ceil(cols.max(1));
    if n == 0 || cols == 0 || !(c == 1 || c == 3) || c > channels {
        return Err(Error::invalid(format!(
            "cannot read {n} tiles of {c}×{h}×{w} from a {channels}-channel grid"
        )));
    }
    if gw != cols * (w + 1) + 1 || gh < rows * (h + 1) + 1 {
        return Err(Error::format(
            &shown,
            format!("a {gw}×{gh} image is not a grid of {n} {w}×{h} tiles, {cols} to a row"),
        ));
    }
    let mut out = Vec::with_capacity(n * c * h * w);
    for k in 0..n {
        let (ox, oy) = (1 + (k % cols) * (w + 1), 1 + (k / cols) * (h + 1));
        for ch in 0..c {
            for y in 0..h {
                for x in 0..w {
                    let byte = chw[(ch * gh + oy + y) * gw + ox + x];
                    out.push(byte as f32 / 127.5 - 1.0);
                }
            }
        }
    }
    Ok(out)
}

fn encode_rgb(rgb: &[u8], width: usize, height: usize) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut enc = png::Encoder::new(&mut out, width as u32, height as u32);
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    let mut writer = enc
        .write_header()
        .map_err(|e| Error::invalid(format!("png: {e}")))?;
    writer
        .write_image_data(rgb)
        .map_err(|e| Error::invalid(format!("png: {e}")))?;
    writer
        .finish()
        .map_err(|e| Error::invalid(format!("png: {e}")))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_grid_read_back_is_within_half_a_grey_level_of_what_was_drawn() {
        let (n, c, h, w) = (5, 3, 4, 6);
        let images: Vec<f32> = (0..n * c * h * w)
            .map(|i| ((i * 37) % 101) as f32 / 50.0 - 1.0)
            .collect();
        let path = std::env::temp_dir().join(format!("dplay-grid-{}.png", std::process::id()));
        std::fs::write(&path, grid_png(&images, [n, c, h, w], 2).unwrap()).unwrap();
        let back = read_grid_png(&path, n, [c, h, w], 2).unwrap();
        let err = images
            .iter()
            .zip(&back)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f32::max);
        assert!(err <= 0.5 / 127.5 + 1e-6, "max error {err}");
        assert!(read_grid_png(&path, n, [c, h, w + 1], 2).is_err());
        std::fs::remove_file(&path).unwrap();
    }
}
