//! NumPy `.npy` (format 1.0) for float32 arrays, C order, little-endian.

use std::path::Path;

use crate::error::{Error, Result};

/// The `.npy` header of a float32 array of `shape`: magic, version, length and the dict, padded
/// to a multiple of 64 bytes.
fn header_f32(shape: &[usize]) -> Vec<u8> {
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
    let mut out = Vec::with_capacity(10 + header.len());
    out.extend_from_slice(b"\x93NUMPY\x01\x00");
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    out
}

/// Encode a float32 array of `shape` as `.npy` bytes.
pub fn encode_f32(values: &[f32], shape: &[usize]) -> Vec<u8> {
    let mut out = header_f32(shape);
    out.reserve(values.len() * 4);
    for v in values {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out
}

pub fn write_f32(path: impl AsRef<Path>, values: &[f32], shape: &[usize]) -> Result<()> {
    crate::io::write_atomic(path.as_ref(), &encode_f32(values, shape))
}

/// A float32 `.npy` of a known shape written in pieces, so that memory is flat in its size. It
/// goes to a temporary file renamed into place by [`NpyWriter::finish`] once every value has
/// come: a reader never sees a partial array, and a writer dropped early leaves nothing.
pub struct NpyWriter {
    path: std::path::PathBuf,
    tmp: std::path::PathBuf,
    file: Option<std::io::BufWriter<std::fs::File>>,
    expected: u128,
    written: u128,
}

impl NpyWriter {
    pub fn create(path: impl AsRef<Path>, shape: &[usize]) -> Result<Self> {
        use std::io::Write;
        let path = path.as_ref().to_path_buf();
        let name = path
            .file_name()
            .ok_or_else(|| Error::invalid(format!("{} is not a file path", path.display())))?;
        let tmp = path.with_file_name(format!(".{}.tmp", name.to_string_lossy()));
        let mut file = std::fs::File::create(&tmp)
            .map(std::io::BufWriter::new)
            .map_err(|e| Error::write(&path, e))?;
        file.write_all(&header_f32(shape))
            .map_err(|e| Error::write(&path, e))?;
        Ok(Self {
            path,
            tmp,
            file: Some(file),
            expected: shape.iter().map(|&d| d as u128).product(),
            written: 0,
        })
    }

    /// Append the next values in C order.
    pub fn append(&mut self, values: &[f32]) -> Result<()> {
        use std::io::Write;
        if self.written + values.len() as u128 > self.expected {
            return Err(Error::invalid(format!(
                "{}: more values than its shape holds",
                self.path.display()
            )));
        }
        let file = self.file.as_mut().expect("open until finish");
        let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        file.write_all(&bytes)
            .map_err(|e| Error::write(&self.path, e))?;
        self.written += values.len() as u128;
        Ok(())
    }

    /// Sync and rename into place; every value must have come.
    pub fn finish(mut self) -> Result<()> {
        if self.written != self.expected {
            return Err(Error::invalid(format!(
                "{}: {} of its {} values written",
                self.path.display(),
                self.written,
                self.expected
            )));
        }
        let file = self.file.take().expect("open until finish");
        file.into_inner()
            .map_err(|e| Error::write(&self.path, e.into_error()))
            .and_then(|f| f.sync_all().map_err(|e| Error::write(&self.path, e)))?;
        std::fs::rename(&self.tmp, &self.path).map_err(|e| Error::write(&self.path, e))
    }
}

impl Drop for NpyWriter {
    fn drop(&mut self) {
        if self.file.take().is_some() {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// The numbers of a `.npy` array, by dtype.
#[derive(Debug, Clone, PartialEq)]
pub enum NpyValues {
    F32(Vec<f32>),
    I64(Vec<i64>),
}

impl NpyValues {
    /// The dtype as NumPy writes it.
    pub fn descr(&self) -> &'static str {
        match self {
            Self::F32(_) => "float32",
            Self::I64(_) => "int64",
        }
    }
}

/// The number of elements of `shape`, refused where it overflows (a lying header).
fn element_count(shape: &[usize], origin: &str) -> Result<usize> {
    shape
        .iter()
        .try_fold(1usize, |n, &d| n.checked_mul(d))
        .ok_or_else(|| Error::format(origin, format!("the shape {shape:?} overflows")))
}

/// Decode a little-endian float32 or int64 `.npy` into `(values, shape)`.
pub fn decode(bytes: &[u8], origin: &str) -> Result<(NpyValues, Vec<usize>)> {
    let bad = |m: &str| Error::format(origin, format!("not a float32 or int64 .npy file: {m}"));
    let (header, data) = split_header(bytes, origin)?;
    let shape = parse_shape(header, origin)?;
    let n = element_count(&shape, origin)?;
    let (values, width) = if header.contains("'descr': '<f4'") {
        (NpyValues::F32(Vec::new()), 4)
    } else if header.contains("'descr': '<i8'") {
        (NpyValues::I64(Vec::new()), 8)
    } else {
        return Err(bad(&format!(
            "unsupported dtype (header {})",
            header.trim()
        )));
    };
    check_len(data, n, width, &shape, origin)?;
    let values = match values {
        NpyValues::F32(_) => NpyValues::F32(le_f32(data)),
        NpyValues::I64(_) => NpyValues::I64(
            data.chunks_exact(8)
                .map(|b| i64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]))
                .collect(),
        ),
    };
    Ok((values, shape))
}

pub fn read(path: impl AsRef<Path>) -> Result<(NpyValues, Vec<usize>)> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|e| Error::read(path, e))?;
    decode(&bytes, &path.display().to_string())
}

/// The header text and the data after it.
fn split_header<'a>(bytes: &'a [u8], origin: &str) -> Result<(&'a str, &'a [u8])> {
    let bad = |m: &str| Error::format(origin, format!("not a .npy file: {m}"));
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
    if header.contains("'fortran_order': True") {
        return Err(bad("Fortran order is not supported"));
    }
    Ok((header, &bytes[start + hlen..]))
}

fn parse_shape(header: &str, origin: &str) -> Result<Vec<usize>> {
    let bad = || Error::format(origin, "not a .npy file: bad shape");
    let s = header.find("'shape': (").ok_or_else(bad)? + 10;
    let e = header[s..].find(')').ok_or_else(bad)? + s;
    header[s..e]
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| p.parse::<usize>().map_err(|_| bad()))
        .collect()
}

fn check_len(data: &[u8], n: usize, width: usize, shape: &[usize], origin: &str) -> Result<()> {
    if data.len() != n * width {
        return Err(Error::format(
            origin,
            format!(
                "not a .npy file: shape {shape:?} needs {} bytes of data, found {}",
                n * width,
                data.len()
            ),
        ));
    }
    Ok(())
}

fn le_f32(data: &[u8]) -> Vec<f32> {
    data.chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}

/// Decode a float32 `.npy` into `(values, shape)`.
pub fn decode_f32(bytes: &[u8], origin: &str) -> Result<(Vec<f32>, Vec<usize>)> {
    let bad = |m: &str| Error::format(origin, format!("not a float32 .npy file: {m}"));
    let (header, data) = split_header(bytes, origin)?;
    if !header.contains("'descr': '<f4'") {
        return Err(bad(&format!(
            "dtype is not little-endian float32 (header {})",
            header.trim()
        )));
    }
    let shape = parse_shape(header, origin)?;
    let n = element_count(&shape, origin)?;
    check_len(data, n, 4, &shape, origin)?;
    Ok((le_f32(data), shape))
}

pub fn read_f32(path: impl AsRef<Path>) -> Result<(Vec<f32>, Vec<usize>)> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|e| Error::read(path, e))?;
    decode_f32(&bytes, &path.display().to_string())
}
