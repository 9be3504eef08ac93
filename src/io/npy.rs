//! NumPy `.npy` (format 1.0) for float32 arrays, C order, little-endian.

use std::path::Path;

use crate::error::{Error, Result};

/// Encode a float32 array of `shape` as `.npy` bytes.
pub fn encode_f32(values: &[f32], shape: &[usize]) -> Vec<u8> {
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    let shape_txt = if dims.len() == 1 {
        format!("({},)", dims[0])
    } else {
        format!("({})", dims.join(", "))
    };
    let mut header = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': {shape_txt}, }}");
    // magic(6) + version(2) + header_len(2) + header, padded with spaces to a multiple of 64, ending in \n.
    let total = 10 + header.len() + 1;
    header.push_str(&" ".repeat((64 - total % 64) % 64));
    header.push('\n');
    let mut out = Vec::with_capacity(10 + header.len() + values.len() * 4);
    out.extend_from_slice(b"\x93NUMPY\x01\x00");
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    for v in values {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out
}

pub fn write_f32(path: impl AsRef<Path>, values: &[f32], shape: &[usize]) -> Result<()> {
    crate::io::write_atomic(path.as_ref(), &encode_f32(values, shape))
}

/// Decode a float32 `.npy` into `(values, shape)`.
pub fn decode_f32(bytes: &[u8], origin: &str) -> Result<(Vec<f32>, Vec<usize>)> {
    let bad = |m: &str| Error::format(origin, format!("not a float32 .npy file: {m}"));
    if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
        return Err(bad("missing magic"));
    }
    let (hlen, start) = match bytes[6] {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        2 | 3 if bytes.len() >= 12 => (
            u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
            12,
        ),
        _ => return Err(bad("unsupported version")),
    };
    let header = bytes
        .get(start..start + hlen)
        .ok_or_else(|| bad("truncated header"))?;
    let header = std::str::from_utf8(header).map_err(|_| bad("header is not text"))?;
    if !header.contains("'descr': '<f4'") {
        return Err(bad(&format!(
            "dtype is not little-endian float32 (header {})",
            header.trim()
        )));
    }
    if header.contains("'fortran_order': True") {
        return Err(bad("Fortran order is not supported"));
    }
    let s = header.find("'shape': (").ok_or_else(|| bad("no shape"))? + 10;
    let e = header[s..].find(')').ok_or_else(|| bad("no shape"))? + s;
    let shape: Vec<usize> = header[s..e]
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| p.parse::<usize>().map_err(|_| bad("bad shape")))
        .collect::<Result<_>>()?;
    let n: usize = shape.iter().product();
    let data = &bytes[start + hlen..];
    if data.len() != n * 4 {
        return Err(bad(&format!(
            "shape {shape:?} needs {} bytes of data, found {}",
            n * 4,
            data.len()
        )));
    }
    let values = data
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    Ok((values, shape))
}

pub fn read_f32(path: impl AsRef<Path>) -> Result<(Vec<f32>, Vec<usize>)> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|e| Error::read(path, e))?;
    decode_f32(&bytes, &path.display().to_string())
}
