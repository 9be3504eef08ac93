//! Will a UNet run on this device? WebGPU binds every tensor as one storage buffer, so a tensor
//! larger than the adapter's `maxStorageBufferBindingSize` (or a buffer larger than
//! `maxBufferSize`) cannot exist there, however much memory the GPU has; the CPU backend in
//! WebAssembly has a 4 GiB address space for the whole page. Both are checked before anything is
//! allocated: the largest weight tensor (from the safetensors header) and the largest activation
//! one forward pass at batch `b` allocates (from the config).

use super::config::{DownBlockType, UNet2DConfig, UpBlockType};
use crate::error::{Error, Result};

/// Bytes per element: every tensor is float32.
const F32: u64 = 4;

/// Where the limits come from, for the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitSource {
    /// A WebGPU (or wgpu) adapter's `GPUSupportedLimits`.
    WebGpu,
    /// A cap chosen for the CPU backend (no adapter limits exist).
    Cpu,
}

/// The per-buffer limits a model must fit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DeviceLimits {
    pub source: LimitSource,
    pub max_storage_buffer_binding_size: u64,
    pub max_buffer_size: u64,
}

impl DeviceLimits {
    /// One tensor of at most 1 GiB on the CPU backend: a quarter of wasm32's 4 GiB address space,
    /// which also holds the weights, the other activations and the page's own data.
    pub const CPU_CAP: u64 = 1 << 30;

    pub fn webgpu(max_storage_buffer_binding_size: u64, max_buffer_size: u64) -> Self {
        Self {
            source: LimitSource::WebGpu,
            max_storage_buffer_binding_size,
            max_buffer_size,
        }
    }

    pub fn cpu(cap: u64) -> Self {
        Self {
            source: LimitSource::Cpu,
            max_storage_buffer_binding_size: cap,
            max_buffer_size: cap,
        }
    }

    /// The limits by name, smallest first.
    fn named(&self) -> Vec<(String, u64)> {
        let mut v = match self.source {
            LimitSource::WebGpu => vec![
                (
                    "this adapter's maxStorageBufferBindingSize".to_string(),
                    self.max_storage_buffer_binding_size,
                ),
                (
                    "this adapter's maxBufferSize".to_string(),
                    self.max_buffer_size,
                ),
            ],
            LimitSource::Cpu => vec![(
                "the CPU backend's cap per tensor".to_string(),
                self.max_storage_buffer_binding_size
                    .min(self.max_buffer_size),
            )],
        };
        v.sort_by_key(|(_, b)| *b);
        v
    }
}

impl Default for DeviceLimits {
    fn default() -> Self {
        Self::cpu(Self::CPU_CAP)
    }
}

/// One buffer the model needs: what it is and its size.
#[derive(Debug, Clone, PartialEq)]
pub struct Allocation {
    pub what: String,
    pub bytes: u64,
    /// Whether the size grows with the batch (activations) or not (weights).
    pub per_image: Option<u64>,
}

/// `1.5 GiB`, `128 MiB`, `19.7 KiB`: binary units, as adapters report their limits.
pub fn fmt_bytes(b: u64) -> String {
    const UNITS: [&str; 5] = ["bytes", "KiB", "MiB", "GiB", "TiB"];
    let mut v = b as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < UNITS.len() {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{b} bytes")
    } else if v >= 100.0 || v.fract() == 0.0 {
        format!("{v:.0} {}", UNITS[u])
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

/// The largest tensor of a weights file, from its header's `(name, shape)` list.
pub fn largest_weight(shapes: &[(String, Vec<usize>)]) -> Option<Allocation> {
    shapes
        .iter()
        .map(|(name, shape)| {
            let n = shape.iter().fold(1u64, |n, &s| n.saturating_mul(s as u64));
            (name, shape, n.saturating_mul(F32))
        })
        .max_by_key(|(_, _, b)| *b)
        .map(|(name, shape, bytes)| Allocation {
            what: format!(
                "the weight tensor '{name}' ({} floats × 4 bytes = {})",
                shape
                    .iter()
                    .map(|s| s.to_string())
                    .collect::<Vec<_>>()
                    .join("×"),
                fmt_bytes(bytes)
            ),
            bytes,
            per_image: None,
        })
}

/// The largest activation of one forward pass of `config` on `batch` images `[c, h, w]`: feature
/// maps `b·C·H·W` (with an up block's resnet input, the concatenation of its input and a skip
/// state) and attention scores `b·heads·(HW)²` (`softmax(QKᵀ/√d)`, one row per query position).
pub fn largest_activation(config: &UNet2DConfig, image: [usize; 3], batch: usize) -> Allocation {
    let [c, h, w] = image.map(|v| v as u64);
    let b = batch as u64;
    let ch: Vec<u64> = config
        .block_out_channels
        .iter()
        .map(|&c| c as u64)
        .collect();
    let n = ch.len();
    // Level i works at h/2^i × w/2^i.
    let res = |i: usize| (h >> i, w >> i);
    let heads = |c: u64| (c / config.head_dim(c as usize).max(1) as u64).max(1);
    let mut all: Vec<(String, u64)> = Vec::new();
    let mut maps = |name: String, channels: u64, (y, x): (u64, u64)| {
        all.push((
            format!("the feature maps of {name} ({channels} channels × {y}×{x})"),
            channels.saturating_mul(y).saturating_mul(x),
        ))
    };
    maps("the input".into(), c, (h, w));
    maps("conv_in".into(), ch[0], res(0));
    let mut scores = Vec::new();
    let down = config.down_types().unwrap_or_default();
    for (i, t) in down.iter().enumerate() {
        maps(format!("down_blocks.{i}"), ch[i], res(i));
        if *t == DownBlockType::Attn {
            scores.push((format!("down_blocks.{i}"), heads(ch[i]), res(i)));
        }
    }
    if config.mid_block_type.is_some() && config.add_attention {
        scores.push(("mid_block".into(), heads(ch[n - 1]), res(n - 1)));
    }
    let rev: Vec<u64> = ch.iter().rev().copied().collect();
    let up = config.up_types().unwrap_or_default();
    for (i, t) in up.iter().enumerate() {
        let level = n - 1 - i;
        let prev = rev[i.saturating_sub(1)];
        let skip = rev[i].max(rev[(i + 1).min(n - 1)]);
        maps(
            format!("the resnet input of up_blocks.{i} (input and skip concatenated)"),
            prev.max(rev[i]) + skip,
            res(level),
        );
        if *t == UpBlockType::Attn {
            scores.push((format!("up_blocks.{i}"), heads(rev[i]), res(level)));
        }
    }
    for (name, heads, (y, x)) in scores {
        let hw = y.saturating_mul(x);
        all.push((
            format!("the attention scores of {name} ({heads} heads × {hw}² positions)"),
            heads.saturating_mul(hw).saturating_mul(hw),
        ));
    }
    // The first of equals: the down path's, where the buffer is first allocated.
    let (what, floats) = all
        .into_iter()
        .reduce(|a, b| if b.1 > a.1 { b } else { a })
        .expect("the input is always there");
    Allocation {
        what: format!(
            "{what} at batch {batch}: {batch} × {floats} floats × 4 bytes = {}",
            fmt_bytes(b.saturating_mul(floats).saturating_mul(F32))
        ),
        bytes: b.saturating_mul(floats).saturating_mul(F32),
        per_image: Some(floats.saturating_mul(F32)),
    }
}

/// An error naming each allocation that exceeds a limit, and which limit, or `Ok`.
pub fn check(allocations: &[&Allocation], limits: &DeviceLimits) -> Result<()> {
    let named = limits.named();
    let mut problems = Vec::new();
    for a in allocations {
        let exceeded: Vec<&(String, u64)> = named.iter().filter(|(_, l)| a.bytes > *l).collect();
        let Some((limit, bytes)) = exceeded.first() else {
            continue;
        };
        let mut p = format!("{} exceeds {limit} ({})", a.what, fmt_bytes(*bytes));
        if let Some(per) = a.per_image {
            let fit = bytes / per.max(1);
            if fit >= 1 {
                p.push_str(&format!("; at most {fit} images at once would fit"));
            } else {
                p.push_str("; even one image is too large");
            }
        }
        problems.push(p);
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Error::invalid(format!(
            "too large for this device: {}",
            problems.join("; and ")
        )))
    }
}
