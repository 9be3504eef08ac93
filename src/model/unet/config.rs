//! `config.json` of diffusers' `UNet2DModel` (`diffusers.models.unets.unet_2d`), read with serde.
//! Defaults are diffusers' `__init__` defaults; fields this crate does not use are kept verbatim so
//! a saved folder carries everything it was loaded with.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::{Error, Result};

/// The `_class_name` diffusers writes for this model.
pub const CLASS_NAME: &str = "UNet2DModel";

/// A down block type (`get_down_block`); only these two are built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DownBlockType {
    /// `DownBlock2D`: resnets, then a downsampler.
    Plain,
    /// `AttnDownBlock2D`: each resnet followed by self-attention, then a downsampler.
    Attn,
}

/// An up block type (`get_up_block`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpBlockType {
    /// `UpBlock2D`.
    Plain,
    /// `AttnUpBlock2D`.
    Attn,
}

impl DownBlockType {
    pub fn parse(name: &str) -> Result<Self> {
        match name {
            "DownBlock2D" => Ok(Self::Plain),
            "AttnDownBlock2D" => Ok(Self::Attn),
            other => Err(Error::invalid(format!(
                "unknown down block type '{other}' (supported: DownBlock2D, AttnDownBlock2D)"
            ))),
        }
    }
}

impl UpBlockType {
    pub fn parse(name: &str) -> Result<Self> {
        match name {
            "UpBlock2D" => Ok(Self::Plain),
            "AttnUpBlock2D" => Ok(Self::Attn),
            other => Err(Error::invalid(format!(
                "unknown up block type '{other}' (supported: UpBlock2D, AttnUpBlock2D)"
            ))),
        }
    }
}

fn default_channels() -> usize {
    3
}
fn default_true() -> bool {
    true
}
fn default_positional() -> String {
    "positional".into()
}
fn default_down_types() -> Vec<String> {
    [
        "DownBlock2D",
        "AttnDownBlock2D",
        "AttnDownBlock2D",
        "AttnDownBlock2D",
    ]
    .map(String::from)
    .to_vec()
}
fn default_up_types() -> Vec<String> {
    [
        "AttnUpBlock2D",
        "AttnUpBlock2D",
        "AttnUpBlock2D",
        "UpBlock2D",
    ]
    .map(String::from)
    .to_vec()
}
fn default_block_out() -> Vec<usize> {
    vec![224, 448, 672, 896]
}
fn default_layers() -> usize {
    2
}
fn default_one() -> f64 {
    1.0
}
fn default_padding() -> usize {
    1
}
fn default_conv() -> String {
    "conv".into()
}
fn default_silu() -> String {
    "silu".into()
}
fn default_head_dim() -> Option<usize> {
    Some(8)
}
fn default_groups() -> usize {
    32
}
fn default_eps() -> f64 {
    1e-5
}
fn default_shift() -> String {
    "default".into()
}
fn default_mid() -> Option<String> {
    Some("UNetMidBlock2D".into())
}

/// diffusers' `UNet2DModel` configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UNet2DConfig {
    #[serde(rename = "_class_name", default)]
    pub class_name: Option<String>,
    /// An int or `[h, w]`; informative only (any size divisible by 2^(blocks-1) runs).
    #[serde(default)]
    pub sample_size: Option<Value>,
    #[serde(default = "default_channels")]
    pub in_channels: usize,
    #[serde(default = "default_channels")]
    pub out_channels: usize,
    #[serde(default)]
    pub center_input_sample: bool,
    #[serde(default = "default_positional")]
    pub time_embedding_type: String,
    #[serde(default)]
    pub freq_shift: f64,
    #[serde(default = "default_true")]
    pub flip_sin_to_cos: bool,
    #[serde(default = "default_down_types")]
    pub down_block_types: Vec<String>,
    #[serde(default = "default_up_types")]
    pub up_block_types: Vec<String>,
    #[serde(default = "default_block_out")]
    pub block_out_channels: Vec<usize>,
    #[serde(default = "default_layers")]
    pub layers_per_block: usize,
    #[serde(default = "default_one")]
    pub mid_block_scale_factor: f64,
    #[serde(default = "default_padding")]
    pub downsample_padding: usize,
    #[serde(default = "default_conv")]
    pub downsample_type: String,
    #[serde(default = "default_conv")]
    pub upsample_type: String,
    #[serde(default)]
    pub dropout: f64,
    #[serde(default = "default_silu")]
    pub act_fn: String,
    #[serde(default = "default_head_dim")]
    pub attention_head_dim: Option<usize>,
    #[serde(default = "default_groups")]
    pub norm_num_groups: usize,
    #[serde(default)]
    pub attn_norm_num_groups: Option<usize>,
    #[serde(default = "default_eps")]
    pub norm_eps: f64,
    #[serde(default = "default_shift")]
    pub resnet_time_scale_shift: String,
    #[serde(default = "default_true")]
    pub add_attention: bool,
    #[serde(default)]
    pub class_embed_type: Option<String>,
    #[serde(default)]
    pub num_class_embeds: Option<usize>,
    #[serde(default = "default_mid")]
    pub mid_block_type: Option<String>,
    /// `time_embed_dim`; diffusers uses `4 · block_out_channels[0]` when absent.
    #[serde(default)]
    pub time_embedding_dim: Option<usize>,
    /// Every other key (`_diffusers_version`, `num_train_timesteps`, ...), written back unchanged.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Default for UNet2DConfig {
    fn default() -> Self {
        serde_json::from_str("{}").expect("every field has a default")
    }
}

impl UNet2DConfig {
    /// Parse `config.json` text; unknown keys are kept.
    pub fn from_json(text: &str) -> Result<Self> {
        let config: Self = serde_json::from_str(text)
            .map_err(|e| Error::invalid(format!("not a UNet2DModel config: {e}")))?;
        config.validate()?;
        Ok(config)
    }

    pub fn to_json(&self) -> Result<String> {
        let mut c = self.clone();
        c.class_name = Some(CLASS_NAME.into());
        serde_json::to_string_pretty(&c).map_err(|e| Error::invalid(e.to_string()))
    }

    /// DDPM's CIFAR-10 network (Ho et al. 2020, appendix B; `google/ddpm-cifar10-32`): 32×32×3,
    /// channels (128, 256, 256, 256), two resnets per level, self-attention at 16×16.
    pub fn ddpm_cifar10() -> Self {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect();
        Self {
            sample_size: Some(Value::from(32)),
            in_channels: 3,
            out_channels: 3,
            block_out_channels: vec![128, 256, 256, 256],
            layers_per_block: 2,
            down_block_types: s(&[
                "DownBlock2D",
                "AttnDownBlock2D",
                "DownBlock2D",
                "DownBlock2D",
            ]),
            up_block_types: s(&["UpBlock2D", "UpBlock2D", "AttnUpBlock2D", "UpBlock2D"]),
            attention_head_dim: None,
            norm_eps: 1e-6,
            flip_sin_to_cos: false,
            freq_shift: 1.0,
            ..Self::default()
        }
    }

    /// `sample_size` as `[h, w]` (an int `s` is `[s, s]`), if the config gives a usable one.
    pub fn sample_hw(&self) -> Option<[usize; 2]> {
        match self.sample_size.as_ref()? {
            Value::Number(s) => s.as_u64().map(|s| [s as usize; 2]),
            Value::Array(v) if v.len() == 2 => v[0]
                .as_u64()
                .zip(v[1].as_u64())
                .map(|(h, w)| [h as usize, w as usize]),
            _ => None,
        }
    }

    /// How much the down path shrinks an image: `2^(levels-1)` (every level but the last halves
    /// it), so `h` and `w` must be multiples of this.
    pub fn downsample_factor(&self) -> usize {
        1 << self.block_out_channels.len().saturating_sub(1)
    }

    /// `time_embed_dim`.
    pub fn time_embed_dim(&self) -> usize {
        self.time_embedding_dim
            .unwrap_or(4 * self.block_out_channels.first().copied().unwrap_or(0))
    }

    pub fn down_types(&self) -> Result<Vec<DownBlockType>> {
        self.down_block_types
            .iter()
            .map(|s| DownBlockType::parse(s))
            .collect()
    }

    pub fn up_types(&self) -> Result<Vec<UpBlockType>> {
        self.up_block_types
            .iter()
            .map(|s| UpBlockType::parse(s))
            .collect()
    }

    /// Attention head width at a block of `channels` (`attention_head_dim`, else one head).
    pub fn head_dim(&self, channels: usize) -> usize {
        self.attention_head_dim.unwrap_or(channels)
    }

    /// Reject every configuration this implementation would not compute as diffusers does.
    pub fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(Error::invalid(format!("UNet2DModel config: {m}")));
        if let Some(c) = &self.class_name {
            if c != CLASS_NAME {
                return bad(format!("_class_name is '{c}', expected '{CLASS_NAME}'"));
            }
        }
        let downs = self.down_types()?;
        let ups = self.up_types()?;
        let n = self.block_out_channels.len();
        if n == 0 || downs.len() != n || ups.len() != n {
            return bad(format!(
                "block_out_channels ({n}), down_block_types ({}) and up_block_types ({}) must have the same, non-zero length",
                downs.len(),
                ups.len()
            ));
        }
        if self.in_channels == 0 || self.out_channels == 0 || self.layers_per_block == 0 {
            return bad("in_channels, out_channels and layers_per_block must be at least 1".into());
        }
        for (key, value, supported) in [
            (
                "time_embedding_type",
                &self.time_embedding_type,
                "positional",
            ),
            ("act_fn", &self.act_fn, "silu"),
            ("downsample_type", &self.downsample_type, "conv"),
            ("upsample_type", &self.upsample_type, "conv"),
            (
                "resnet_time_scale_shift",
                &self.resnet_time_scale_shift,
                "default",
            ),
        ] {
            if value != supported {
                return bad(format!(
                    "{key} '{value}' is not supported (only '{supported}')"
                ));
            }
        }
        if let Some(m) = &self.mid_block_type {
            if m != "UNetMidBlock2D" {
                return bad(format!(
                    "unknown mid_block_type '{m}' (supported: UNetMidBlock2D)"
                ));
            }
        }
        if let Some(kind) = &self.class_embed_type {
            return bad(format!(
                "class_embed_type '{kind}' is not supported (null: a label embedding of num_class_embeds)"
            ));
        }
        if self.num_class_embeds == Some(0) {
            return bad("num_class_embeds must be at least 1".into());
        }
        if self.downsample_padding > 1 {
            return bad(format!(
                "downsample_padding {} (0 or 1)",
                self.downsample_padding
            ));
        }
        let g = self.norm_num_groups;
        let ch0 = self.block_out_channels[0];
        let mut all = self.block_out_channels.clone();
        all.push(ch0);
        for &c in &all {
            if g == 0 || c == 0 || c % g != 0 {
                return bad(format!(
                    "{c} channels cannot be split into norm_num_groups = {g} groups"
                ));
            }
        }
        if self.attention_head_dim == Some(0) {
            return bad("attention_head_dim must be at least 1".to_string());
        }
        for (i, t) in downs.iter().enumerate() {
            let c = self.block_out_channels[i];
            if *t == DownBlockType::Attn && c % self.head_dim(c) != 0 {
                return bad(format!(
                    "down block {i}: {c} channels are not a multiple of attention_head_dim {}",
                    self.head_dim(c)
                ));
            }
        }
        for (i, t) in ups.iter().enumerate() {
            let c = self.block_out_channels[n - 1 - i];
            if *t == UpBlockType::Attn && c % self.head_dim(c) != 0 {
                return bad(format!(
                    "up block {i}: {c} channels are not a multiple of attention_head_dim {}",
                    self.head_dim(c)
                ));
            }
        }
        let last = self.block_out_channels[n - 1];
        if self.mid_block_type.is_some() && self.add_attention {
            let ag = self.attn_norm_num_groups.unwrap_or(g);
            if ag == 0 || last % ag != 0 || last % self.head_dim(last) != 0 {
                return bad(format!(
                    "mid block: {last} channels do not fit attn groups {ag} / head dim {}",
                    self.head_dim(last)
                ));
            }
        }
        if !(self.norm_eps > 0.0 && self.mid_block_scale_factor != 0.0 && self.time_embed_dim() > 0)
        {
            return bad("norm_eps must be positive, mid_block_scale_factor non-zero".into());
        }
        Ok(())
    }
}
