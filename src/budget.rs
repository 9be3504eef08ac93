//! What a job needs, checked before it starts. Each job states its need as `fixed + per_item ·
//! items` bytes from the request alone (points, dimensions, batch, T, levels, width); the check
//! compares it with what this machine can give and refuses, with one line that names the limit
//! and says how many items would fit, before anything is allocated.

use crate::error::{Error, Result};
use crate::model::MlpConfig;
use crate::score::{Loss, Objective};

/// A job may take at most this share of the memory that is available when it starts: the
/// estimates are upper bounds of the tensors a job holds, not of the allocator's slack, the
/// page's other data or the other processes that start meanwhile.
const SHARE: f64 = 0.75;

/// `DPLAY_MEMORY` (bytes, or a number with K, M, G or T, binary) overrides the machine's figure:
/// the same job then fits, or does not, on every machine (the tests use it).
pub const OVERRIDE_VAR: &str = "DPLAY_MEMORY";

/// Where the figure of available memory comes from, for the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemorySource {
    /// Linux's estimate of memory available without swapping (`MemAvailable`).
    MemAvailable,
    /// WebAssembly's 32-bit address space: 4 GiB for the whole page.
    Wasm32,
    /// No figure could be read: an assumed 4 GiB.
    Assumed,
    /// [`OVERRIDE_VAR`].
    Override,
}

impl MemorySource {
    fn describe(self) -> &'static str {
        match self {
            Self::MemAvailable => "this machine has available (MemAvailable)",
            Self::Wasm32 => "WebAssembly's 4 GiB address space allows",
            Self::Assumed => "assumed available (no figure could be read)",
            Self::Override => "DPLAY_MEMORY allows",
        }
    }
}

/// The memory a job may use.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Memory {
    /// Bytes available when the job starts.
    pub available: u64,
    pub source: MemorySource,
}

/// A job's memory: `fixed + per_item · items` bytes.
#[derive(Debug, Clone, PartialEq)]
pub struct Need {
    /// What the job is, e.g. "sampling 10000 points".
    pub what: String,
    pub fixed: u64,
    pub per_item: u64,
    pub items: u64,
    /// What an item is, plural, for the message: "points", "rows of the batch", "steps".
    pub unit: &'static str,
    /// The option that sets the number of items, for the message.
    pub knob: Option<&'static str>,
}

impl Need {
    pub fn new(what: impl Into<String>, fixed: u64, per_item: u64, items: u64) -> Self {
        Self {
            what: what.into(),
            fixed,
            per_item,
            items,
            unit: "items",
            knob: None,
        }
    }

    pub fn with_knob(mut self, knob: &'static str) -> Self {
        self.knob = Some(knob);
        self
    }

    pub fn with_unit(mut self, unit: &'static str) -> Self {
        self.unit = unit;
        self
    }

    /// The bytes, exactly (no overflow, whatever the request).
    pub fn bytes(&self) -> u128 {
        self.fixed as u128 + self.per_item as u128 * self.items as u128
    }
}

const GIB: f64 = (1u64 << 30) as f64;

/// A byte count as people read it: "512 MiB", "3.2 GiB", "7.5e3 GiB".
pub fn human(bytes: u128) -> String {
    let b = bytes as f64;
    if b < GIB {
        format!("{:.0} MiB", (b / (1u64 << 20) as f64).max(1.0))
    } else if b < 1e4 * GIB {
        format!("{:.1} GiB", b / GIB)
    } else {
        format!("{:.1e} GiB", b / GIB)
    }
}

/// `4096`, `512M`, `2G`, `1.5T`: bytes, binary multiples.
pub fn parse_bytes(text: &str) -> Option<u64> {
    let t = text.trim();
    let (num, mult) = match t.chars().last()?.to_ascii_uppercase() {
        'K' => (&t[..t.len() - 1], 1u64 << 10),
        'M' => (&t[..t.len() - 1], 1 << 20),
        'G' => (&t[..t.len() - 1], 1 << 30),
        'T' => (&t[..t.len() - 1], 1 << 40),
        _ => (t, 1),
    };
    let v: f64 = num.trim().parse().ok()?;
    (v.is_finite() && v >= 0.0 && v * (mult as f64) < u64::MAX as f64)
        .then_some((v * mult as f64) as u64)
}

impl Memory {
    /// What this machine (or this page) can give now: [`OVERRIDE_VAR`] if set, else Linux's
    /// `MemAvailable`, WebAssembly's address space, or an assumed 4 GiB.
    pub fn of_machine() -> Self {
        if let Some(b) = std::env::var(OVERRIDE_VAR)
            .ok()
            .and_then(|v| parse_bytes(&v))
        {
            return Self {
                available: b,
                source: MemorySource::Override,
            };
        }
        if cfg!(target_arch = "wasm32") {
            return Self {
                available: 4 << 30,
                source: MemorySource::Wasm32,
            };
        }
        match mem_available() {
            Some(b) => Self {
                available: b,
                source: MemorySource::MemAvailable,
            },
            None => Self {
                available: 4 << 30,
                source: MemorySource::Assumed,
            },
        }
    }

    /// The bytes a job may take: [`SHARE`] of what is available.
    pub fn limit(&self) -> u64 {
        (self.available as f64 * SHARE) as u64
    }

    /// How many items fit beside the fixed part (0 when the fixed part alone does not).
    pub fn max_items(&self, need: &Need) -> u64 {
        let limit = self.limit();
        if need.fixed >= limit {
            return 0;
        }
        (limit - need.fixed) / need.per_item.max(1)
    }

    /// Refuse a job that does not fit, saying how many of its items would.
    pub fn check(&self, need: &Need) -> Result<()> {
        if need.bytes() <= self.limit() as u128 {
            return Ok(());
        }
        let fits = match self.max_items(need) {
            0 => "it does not fit even with one".to_string(),
            n => match need.knob {
                Some(k) => format!("at most {n} {} would fit ({k} {n})", need.unit),
                None => format!("at most {n} {} would fit", need.unit),
            },
        };
        Err(Error::invalid(format!(
            "{} needs about {}, more than the {} of the {} {} ({}% of it for one job); {fits}",
            need.what,
            human(need.bytes()),
            human(self.limit() as u128),
            human(self.available as u128),
            self.source.describe(),
            (SHARE * 100.0) as u32,
        )))
    }
}

/// Check `need` against [`Memory::of_machine`].
pub fn check(need: &Need) -> Result<()> {
    Memory::of_machine().check(need)
}

/// The tables of a process with `steps` steps (levels): a few dozen f64 per step (β, ᾱ, the
/// posterior's coefficients, σ, their f32 copies), bounded by 256 bytes each.
pub fn check_tables(what: &str, steps: usize) -> Result<()> {
    check(&Need::new(format!("{what} with {steps} steps"), 0, 256, steps as u64).with_unit("steps"))
}

/// Read `reader` to its end, but no further than `limit` bytes: a compressed stream's size is
/// only a claim until it is inflated. Past the limit, the error says `what` inflates too far.
pub fn read_bounded(
    reader: impl std::io::Read,
    limit: u64,
    origin: &str,
    what: &str,
) -> Result<Vec<u8>> {
    use std::io::Read;
    let mut out = Vec::new();
    reader
        .take(limit.saturating_add(1))
        .read_to_end(&mut out)
        .map_err(|e| Error::format(origin, format!("{what} is damaged: {e}")))?;
    if out.len() as u64 > limit {
        return Err(Error::format(
            origin,
            format!(
                "{what} inflates past {}, the memory one job may use",
                human(limit as u128)
            ),
        ));
    }
    Ok(out)
}

/// Bytes per float: every tensor is float32.
const F32: u64 = 4;

/// A residual MLP's weights, `[hidden, in] + [hidden]` per linear layer.
pub fn mlp_params(m: &MlpConfig) -> u64 {
    let (d, h, e) = (m.dim as u64, m.hidden as u64, m.time_dim as u64);
    let lin = |i: u64, o: u64| i * o + o;
    lin(d, h) + lin(e, h) + lin(h, h) + m.depth as u64 * lin(h, h) + lin(h, d)
}

/// One sampling step of an MLP, per point: the time embedding and its two layers (`time_dim +
/// 2·hidden`), the input layer, each block's linear output, activation and sum (`3·hidden`),
/// and the sampler's own vectors (x, x̂₀, noise, the update: `16·d` with temporaries); doubled
/// for the temporaries an element-wise chain allocates before the last one is dropped.
pub fn mlp_sampling_per_point(m: &MlpConfig) -> u64 {
    let (d, h, e) = (m.dim as u64, m.hidden as u64, m.time_dim as u64);
    2 * F32 * (e + 3 * h + 3 * h * m.depth as u64 + 16 * d)
}

/// One training step of an MLP on `batch` rows: the weights with their gradient and Adam's two
/// moments (4 copies), and per row every activation the backward pass keeps and its gradient
/// (2 × the forward's), times the passes an objective makes (ISM's exact trace: one tangent per
/// dimension; sliced score matching: one per projection).
pub fn mlp_training(m: &MlpConfig, batch: usize, objective: &Objective) -> Need {
    let tangents = match objective.loss {
        Loss::Ism => 1 + m.dim as u64,
        Loss::Ssm => 1 + objective.slicing.projections as u64,
        _ => 1,
    };
    let per_row = 2 * mlp_sampling_per_point(m) * tangents;
    Need::new(
        format!(
            "training a {}-wide, {}-block MLP at batch {batch}",
            m.hidden, m.depth
        ),
        4 * F32 * mlp_params(m),
        per_row,
        batch as u64,
    )
    .with_unit("rows of the batch")
    .with_knob("batch size")
}

/// The exact score of a `k`-component mixture in `d` dimensions, per point: each component's
/// difference, precision product, quadratic form and log-weight (`3·k·d + k·d² + 2·k`), doubled
/// for temporaries, and
/// the sampler's vectors (`16·d`).
pub fn mixture_per_point(k: usize, d: usize) -> u64 {
    let (k, d) = (k as u64, d as u64);
    F32 * (2 * (3 * k * d + k * d * d + 2 * k) + 16 * d)
}

/// A UNet job on `batch` images of `d` values, from its parameter count and its largest
/// activation at batch 1 ([`crate::model::unet::memory::largest_activation`]). A forward pass
/// holds a resnet block's input, two normalised and convolved maps and the time-embedded sum,
/// and the up path the skip states of every level: an estimated 8 × the largest map per image,
/// plus the sampler's vectors (`16·d`). Training keeps every activation for the backward pass
/// and its gradient (3 × that), and the weights with their gradient and Adam's moments (4 ×).
pub fn unet_job(
    what: String,
    params: u64,
    largest_activation: u64,
    d: usize,
    batch: usize,
    training: bool,
) -> Need {
    let forward = 8u64
        .saturating_mul(largest_activation)
        .saturating_add(16 * F32 * d as u64);
    let (copies, passes) = if training { (4, 3) } else { (1, 1) };
    Need::new(what, F32 * copies * params, passes * forward, batch as u64)
        .with_unit("images at once")
}

/// Refuse to write `bytes` where the file system has less free space (Unix; elsewhere nothing is
/// checked).
pub fn check_disk(path: &std::path::Path, bytes: u128) -> Result<()> {
    let Some(free) = free_space(path) else {
        return Ok(());
    };
    if bytes <= free as u128 {
        return Ok(());
    }
    Err(Error::invalid(format!(
        "{} would be {}, more than the {} free on its file system",
        path.display(),
        human(bytes),
        human(free as u128)
    )))
}

#[cfg(all(unix, not(target_arch = "wasm32")))]
fn free_space(path: &std::path::Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt;
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    let c = std::ffi::CString::new(dir.as_os_str().as_bytes()).ok()?;
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: `c` is a NUL-terminated path and `st` a statvfs the call fills in.
    if unsafe { libc::statvfs(c.as_ptr(), &mut st) } != 0 {
        return None;
    }
    Some(st.f_bavail as u64 * st.f_frsize as u64)
}

#[cfg(not(all(unix, not(target_arch = "wasm32"))))]
fn free_space(_: &std::path::Path) -> Option<u64> {
    None
}

/// Linux's `MemAvailable` from `/proc/meminfo`, in bytes.
fn mem_available() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_sizes() {
        assert_eq!(parse_bytes("4096"), Some(4096));
        assert_eq!(parse_bytes("2G"), Some(2 << 30));
        assert_eq!(parse_bytes("1.5k"), Some(1536));
        assert_eq!(parse_bytes("-1G"), None);
        assert_eq!(parse_bytes("nanG"), None);
        assert_eq!(parse_bytes(""), None);
    }

    #[test]
    fn inflates_no_further_than_the_limit() {
        use std::io::Write;
        // 1 MiB of zeros gzips to about 1 KiB: a bomb in miniature.
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gz.write_all(&vec![0u8; 1 << 20]).unwrap();
        let bytes = gz.finish().unwrap();
        let read = |limit| read_bounded(flate2::read::GzDecoder::new(&bytes[..]), limit, "x", "it");
        let msg = read(4096).unwrap_err().to_string();
        assert!(msg.contains("inflates past"), "{msg}");
        assert_eq!(read(1 << 20).unwrap().len(), 1 << 20);
    }

    #[test]
    fn refuses_with_what_fits() {
        let m = Memory {
            available: 4 << 30,
            source: MemorySource::Override,
        };
        let need = Need::new("sampling", 1 << 20, 1 << 10, 1 << 30).with_unit("points");
        let msg = m.check(&need).unwrap_err().to_string();
        // 3 GiB limit, 1 MiB fixed, 1 KiB per point: (3·2^30 − 2^20)/2^10 points.
        let fits = ((3u64 << 30) - (1 << 20)) / 1024;
        assert!(msg.contains(&format!("at most {fits} points")), "{msg}");
        assert!(msg.contains("1024.0 GiB"), "{msg}");
        assert!(m
            .check(&Need {
                items: fits,
                ..need.clone()
            })
            .is_ok());
        assert!(m
            .check(&Need {
                items: fits + 1,
                ..need
            })
            .is_err());
        let huge = Need::new("x", u64::MAX, u64::MAX, u64::MAX);
        assert!(m
            .check(&huge)
            .unwrap_err()
            .to_string()
            .contains("not fit even with one"));
    }
}
