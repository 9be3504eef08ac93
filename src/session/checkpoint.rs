//! A training run's weights read back without blocking (WebGPU forbids a synchronous read), in the
//! form [`crate::train::params`] restores: burn module paths with their parameter ids.

use burn::module::Module;

use crate::error::{Error, Result};
use crate::train::{params, ParamEntry};

/// Every float parameter of `module`, read asynchronously.
pub async fn collect_async<M: Module>(module: &M) -> Result<Vec<ParamEntry>> {
    let pending = params::pending(module);
    let mut entries = Vec::with_capacity(pending.len());
    for (path, id, shape, values) in pending {
        let values = values
            .into_data_async()
            .await
            .map_err(|e| Error::Device(format!("{e:?}")))?
            .try_into_vec::<f32>()
            .map_err(|e| Error::Device(format!("{e:?}")))?;
        entries.push(ParamEntry {
            path,
            id,
            shape,
            values,
        });
    }
    Ok(entries)
}
