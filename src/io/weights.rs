//! Weights as safetensors (float32, PyTorch names and layouts) with a JSON config beside them.

use std::collections::HashMap;

use burn::prelude::*;
use safetensors::tensor::{Dtype, TensorView};
use safetensors::SafeTensors;

use crate::error::{Error, Result};

/// One parameter on its way to or from a file: its PyTorch name and shape, values flattened.
pub struct NamedTensor {
    pub name: String,
    pub shape: Vec<usize>,
    pub values: Tensor<1>,
}

/// A parameter read back from the device.
pub struct HostTensor {
    pub name: String,
    pub shape: Vec<usize>,
    pub values: Vec<f32>,
}

/// Read parameters back to the host (synchronous: native devices and flex).
/// `[rows, cols]` → `[cols, rows]` on the host, so loaded weights (PyTorch's `[out, in]`) are
/// contiguous like trained ones: a transposed view would change the matmul's summation order and
/// its last bits.
pub(crate) fn transpose_host(data: TensorData, rows: usize, cols: usize) -> Result<TensorData> {
    let v = data
        .try_into_vec::<f32>()
        .map_err(|e| Error::invalid(format!("{e:?}")))?;
    let mut t = vec![0.0f32; v.len()];
    for r in 0..rows {
        for c in 0..cols {
            t[c * rows + r] = v[r * cols + c];
        }
    }
    Ok(TensorData::new(t, [cols, rows]))
}

pub fn to_host(tensors: Vec<NamedTensor>) -> Result<Vec<HostTensor>> {
    tensors
        .into_iter()
        .map(|t| {
            let values = t
                .values
                .try_into_data()
                .map_err(|e| Error::Device(format!("{e:?}")))?
                .try_into_vec::<f32>()
                .map_err(|e| Error::Device(format!("{e:?}")))?;
            Ok(HostTensor {
                name: t.name,
                shape: t.shape,
                values,
            })
        })
        .collect()
}

/// Read parameters back to the host without blocking (required on WebGPU).
pub async fn to_host_async(tensors: Vec<NamedTensor>) -> Result<Vec<HostTensor>> {
    let mut out = Vec::with_capacity(tensors.len());
    for t in tensors {
        let values = t
            .values
            .into_data_async()
            .await
            .map_err(|e| Error::Device(format!("{e:?}")))?
            .try_into_vec::<f32>()
            .map_err(|e| Error::Device(format!("{e:?}")))?;
        out.push(HostTensor {
            name: t.name,
            shape: t.shape,
            values,
        });
    }
    Ok(out)
}

/// Serialise to safetensors bytes; `metadata` lands in the header's `__metadata__`.
pub fn to_safetensors(
    tensors: &[HostTensor],
    metadata: HashMap<String, String>,
) -> Result<Vec<u8>> {
    let bytes: Vec<Vec<u8>> = tensors
        .iter()
        .map(|t| t.values.iter().flat_map(|v| v.to_le_bytes()).collect())
        .collect();
    let views: Vec<(String, TensorView<'_>)> = tensors
        .iter()
        .zip(&bytes)
        .map(|(t, bytes)| {
            TensorView::new(Dtype::F32, t.shape.clone(), bytes)
                .map(|v| (t.name.clone(), v))
                .map_err(|e| Error::invalid(format!("tensor {}: {e}", t.name)))
        })
        .collect::<Result<_>>()?;
    safetensors::serialize(views, Some(metadata))
        .map_err(|e| Error::invalid(format!("safetensors: {e}")))
}

/// Why `bytes` cannot be a whole safetensors file, when the reason is that it is cut short: the
/// layout is an 8-byte little-endian header length `N`, `N` bytes of JSON header, then the data
/// that the header's `data_offsets` index.
fn truncation(bytes: &[u8]) -> Option<String> {
    let Some(len) = bytes.get(..8) else {
        return Some(format!(
            "truncated: {} bytes, shorter than the 8-byte header length of a safetensors file",
            bytes.len()
        ));
    };
    let n = u64::from_le_bytes(len.try_into().ok()?);
    let rest = (bytes.len() - 8) as u64;
    if n > rest {
        // A length beyond any plausible header is not truncation but another kind of file.
        return (n < 100_000_000).then(|| {
            format!("truncated: the header declares {n} bytes of metadata, only {rest} follow")
        });
    }
    let header: serde_json::Value = serde_json::from_slice(&bytes[8..8 + n as usize]).ok()?;
    let need = header
        .as_object()?
        .iter()
        .filter(|(k, _)| *k != "__metadata__")
        .filter_map(|(_, v)| v.get("data_offsets")?.get(1)?.as_u64())
        .max()?;
    let have = rest - n;
    (need > have).then(|| {
        format!(
            "truncated: the tensors need {need} bytes of data, the file has {have} (an incomplete download or copy?)"
        )
    })
}

/// A parsed safetensors file that hands out float32 tensors by name, checking shapes.
pub struct WeightFile<'a> {
    origin: String,
    st: SafeTensors<'a>,
}

impl<'a> WeightFile<'a> {
    pub fn parse(bytes: &'a [u8], origin: &str) -> Result<Self> {
        let st = SafeTensors::deserialize(bytes).map_err(|e| {
            let why = truncation(bytes).unwrap_or_else(|| e.to_string());
            Error::format(origin, format!("not a valid safetensors file: {why}"))
        })?;
        Ok(Self {
            origin: origin.to_string(),
            st,
        })
    }

    /// The tensor `name` as float32 data of exactly `shape`.
    pub fn get(&self, name: &str, shape: &[usize]) -> Result<TensorData> {
        let view = self
            .st
            .tensor(name)
            .map_err(|_| Error::format(&self.origin, format!("tensor '{name}' is missing")))?;
        if view.dtype() != Dtype::F32 {
            return Err(Error::format(
                &self.origin,
                format!("tensor '{name}' has dtype {:?}, expected F32", view.dtype()),
            ));
        }
        if view.shape() != shape {
            return Err(Error::format(
                &self.origin,
                format!(
                    "tensor '{name}' has shape {:?}, the config expects {shape:?}",
                    view.shape()
                ),
            ));
        }
        let values: Vec<f32> = view
            .data()
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        Ok(TensorData::new(values, shape.to_vec()))
    }

    /// Every tensor's name and shape, as the file's header gives them.
    pub fn shapes(&self) -> Vec<(String, Vec<usize>)> {
        self.st
            .tensors()
            .into_iter()
            .map(|(name, view)| (name, view.shape().to_vec()))
            .collect()
    }

    pub fn names(&self) -> Vec<String> {
        self.st.names().into_iter().map(|s| s.to_string()).collect()
    }
}
