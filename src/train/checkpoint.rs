//! Checkpoints of a training run, written so that a run killed at any instant (SIGKILL, power
//! loss) resumes from the last complete one:
//!
//! ```text
//! OUT/checkpoints/step-000500/{model.safetensors, ema.safetensors, optimizer.bpk, state.json}
//! OUT/checkpoints/latest        "step-000500", replaced atomically once the folder is complete
//! ```
//!
//! The weights are keyed by burn module path with each parameter's id in the header metadata (the
//! optimiser's moments are keyed by id); `state.json` holds the step and the loss of every step
//! so far, so the resumed run's loss curve continues the original one.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{params, TrainerState};
use crate::error::{Error, Result};
use crate::io::write_atomic;

pub const DIR: &str = "checkpoints";
const LATEST: &str = "latest";
const MODEL: &str = "model.safetensors";
const EMA: &str = "ema.safetensors";
const OPTIMIZER: &str = "optimizer.bpk";
const STATE: &str = "state.json";

/// A trainer's state and the loss of each step taken.
#[derive(Debug, Clone)]
pub struct Checkpoint {
    pub state: TrainerState,
    pub losses: Vec<f32>,
}

#[derive(Serialize, Deserialize)]
struct StateFile {
    step: usize,
    losses: Vec<f32>,
}

/// Write a checkpoint under `run/checkpoints/`, point `latest` at it, then drop older ones.
pub fn save(run: &Path, ck: &Checkpoint) -> Result<PathBuf> {
    let root = run.join(DIR);
    let name = format!("step-{:06}", ck.state.step);
    let dir = root.join(&name);
    std::fs::create_dir_all(&dir).map_err(|e| Error::write(&dir, e))?;
    write_atomic(&dir.join(MODEL), &params::to_safetensors(&ck.state.model)?)?;
    if let Some(ema) = &ck.state.ema {
        write_atomic(&dir.join(EMA), &params::to_safetensors(ema)?)?;
    }
    write_atomic(&dir.join(OPTIMIZER), &ck.state.optimizer)?;
    let state = serde_json::to_vec(&StateFile {
        step: ck.state.step,
        losses: ck.losses.clone(),
    })
    .map_err(|e| Error::invalid(e.to_string()))?;
    write_atomic(&dir.join(STATE), &state)?;
    sync_dir(&dir);
    write_atomic(&root.join(LATEST), name.as_bytes())?;
    sync_dir(&root);
    if let Ok(read) = std::fs::read_dir(&root) {
        for e in read.flatten() {
            let n = e.file_name().to_string_lossy().to_string();
            if n.starts_with("step-") && n != name {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
    }
    Ok(dir)
}

/// The checkpoint `latest` points at, if the run has one.
pub fn load_latest(run: &Path) -> Result<Option<Checkpoint>> {
    let root = run.join(DIR);
    let latest = root.join(LATEST);
    let name = match std::fs::read_to_string(&latest) {
        Ok(n) => n.trim().to_string(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::read(&latest, e)),
    };
    if !name.starts_with("step-") || name.contains(['/', '\\']) {
        return Err(Error::format(
            &latest,
            format!("names '{name}', not a checkpoint"),
        ));
    }
    let dir = root.join(&name);
    let read = |f: &str| {
        let p = dir.join(f);
        std::fs::read(&p).map_err(|e| Error::read(&p, e))
    };
    let state: StateFile =
        serde_json::from_slice(&read(STATE)?).map_err(|e| Error::format(dir.join(STATE), e))?;
    let model = params::from_safetensors(&read(MODEL)?, &dir.join(MODEL))?;
    let ema = if dir.join(EMA).exists() {
        Some(params::from_safetensors(&read(EMA)?, &dir.join(EMA))?)
    } else {
        None
    };
    if state.losses.len() != state.step {
        return Err(Error::format(
            dir.join(STATE),
            format!("{} losses for {} steps", state.losses.len(), state.step),
        ));
    }
    Ok(Some(Checkpoint {
        state: TrainerState {
            step: state.step,
            model,
            ema,
            optimizer: read(OPTIMIZER)?,
        },
        losses: state.losses,
    }))
}

/// Make a rename durable (best effort: not every platform can open a directory).
fn sync_dir(dir: &Path) {
    if let Ok(f) = std::fs::File::open(dir) {
        let _ = f.sync_all();
    }
}
