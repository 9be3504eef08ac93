//! diffusers' `scheduler_config.json`: the β schedule a UNet was trained with. A folder saved by
//! `DDPMPipeline.save_pretrained` (e.g. `google/ddpm-cifar10-32`) keeps it beside the UNet's
//! files; `dplay train` writes one too. Without it, DDPM's schedule (linear β 1e-4..0.02,
//! T = 1000, the default of diffusers' schedulers) is assumed.

use std::path::Path;

use serde_json::{json, Value};

use crate::error::{Error, Result};
use crate::schedule::{BetaSchedule, ScheduleConfig};

pub const SCHEDULER_FILE: &str = "scheduler_config.json";

/// The JSON of a `DDPMScheduler` with `schedule` (ε-prediction, x̂₀ clipped to [-1, 1]).
pub fn scheduler_json(schedule: &ScheduleConfig) -> String {
    let kind = match schedule.kind {
        BetaSchedule::Linear => "linear",
        BetaSchedule::Cosine => "squaredcos_cap_v2",
    };
    serde_json::to_string_pretty(&json!({
        "_class_name": "DDPMScheduler",
        "num_train_timesteps": schedule.steps,
        "beta_start": schedule.beta_start,
        "beta_end": schedule.beta_end,
        "beta_schedule": kind,
        "prediction_type": "epsilon",
        "clip_sample": true,
        "variance_type": "fixed_small",
    }))
    .expect("a JSON object")
}

/// Parse a scheduler config; `origin` names it in errors.
pub fn parse_scheduler(text: &str, origin: &str) -> Result<ScheduleConfig> {
    let v: Value =
        serde_json::from_str(text).map_err(|e| Error::format(origin, format!("not JSON: {e}")))?;
    let d = ScheduleConfig::default();
    let num = |k: &str, default: f64| -> Result<f64> {
        match v.get(k) {
            None | Some(Value::Null) => Ok(default),
            Some(x) => x
                .as_f64()
                .ok_or_else(|| Error::format(origin, format!("'{k}' is not a number"))),
        }
    };
    let kind = match v.get("beta_schedule").and_then(Value::as_str) {
        None | Some("linear") => BetaSchedule::Linear,
        Some("squaredcos_cap_v2") => BetaSchedule::Cosine,
        Some(other) => {
            return Err(Error::format(
                origin,
                format!("beta_schedule '{other}' is not supported (linear, squaredcos_cap_v2)"),
            ))
        }
    };
    if let Some(p) = v.get("prediction_type").and_then(Value::as_str) {
        if p != "epsilon" {
            return Err(Error::format(
                origin,
                format!("prediction_type '{p}' is not supported (epsilon)"),
            ));
        }
    }
    let steps = num("num_train_timesteps", d.steps as f64)?;
    if steps < 1.0 || steps.fract() != 0.0 {
        return Err(Error::format(
            origin,
            "num_train_timesteps must be a positive integer",
        ));
    }
    let s = ScheduleConfig {
        kind,
        steps: steps as usize,
        beta_start: num("beta_start", d.beta_start)?,
        beta_end: num("beta_end", d.beta_end)?,
    };
    s.validate().map_err(|e| Error::format(origin, e))?;
    Ok(s)
}

/// The schedule of the model in `dir`: its `scheduler_config.json`, else DDPM's default.
pub fn read_schedule(dir: &Path) -> Result<ScheduleConfig> {
    let path = dir.join(SCHEDULER_FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) => parse_scheduler(&text, &path.display().to_string()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(ScheduleConfig::default()),
        Err(e) => Err(Error::read(&path, e)),
    }
}

/// The x̂₀ clipping a scheduler config asks for: diffusers' `clip_sample` (default true) clips to
/// `[-r, r]` with `r = clip_sample_range` (default 1). Dynamic `thresholding` (Imagen's) is not
/// implemented by the samplers, so a config that turns it on is refused rather than run otherwise.
pub fn parse_clip(text: &str, origin: &str) -> Result<Option<f64>> {
    let v: Value =
        serde_json::from_str(text).map_err(|e| Error::format(origin, format!("not JSON: {e}")))?;
    if v.get("thresholding").and_then(Value::as_bool) == Some(true) {
        return Err(Error::format(
            origin,
            "thresholding (dynamic x̂₀ thresholding) is not supported; set it to false",
        ));
    }
    let clip = match v.get("clip_sample") {
        None | Some(Value::Null) => true,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(Error::format(origin, "'clip_sample' is not true or false")),
    };
    let range = match v.get("clip_sample_range") {
        None | Some(Value::Null) => 1.0,
        Some(x) => x
            .as_f64()
            .filter(|r| *r > 0.0 && r.is_finite())
            .ok_or_else(|| Error::format(origin, "'clip_sample_range' is not a positive number"))?,
    };
    Ok(clip.then_some(range))
}
