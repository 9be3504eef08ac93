//! One error type for every boundary: CLI, files, wasm.

use std::path::{Path, PathBuf};

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A parameter or an input that breaks a rule; the message says which.
    #[error("{0}")]
    Invalid(String),
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Format { path: String, message: String },
    #[error("device error: {0}")]
    Device(String),
}

impl Error {
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::Invalid(message.into())
    }

    pub fn format(path: impl AsRef<Path>, message: impl std::fmt::Display) -> Self {
        Self::Format {
            path: path.as_ref().display().to_string(),
            message: message.to_string(),
        }
    }

    pub fn read(path: impl AsRef<Path>, source: std::io::Error) -> Self {
        Self::Read {
            path: path.as_ref().to_path_buf(),
            source,
        }
    }

    pub fn write(path: impl AsRef<Path>, source: std::io::Error) -> Self {
        Self::Write {
            path: path.as_ref().to_path_buf(),
            source,
        }
    }
}
