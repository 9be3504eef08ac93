//! A module's float parameters by burn module path, with their [`ParamId`]s. The optimiser keys
//! its state by parameter id, so a checkpoint records the ids and [`apply`] restores them: the
//! reloaded model and the reloaded Adam moments then meet again, and `--resume` continues exactly.

use std::collections::HashMap;
use std::path::Path;

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param, ParamId};
use burn::prelude::*;
use safetensors::tensor::Dtype;
use safetensors::SafeTensors;

use crate::error::{Error, Result};
use crate::io::weights::{to_safetensors as write_safetensors, HostTensor};

#[derive(Debug, Clone, PartialEq)]
pub struct ParamEntry {
    /// burn's module path, e.g. `blocks.0.linear.weight`.
    pub path: String,
    pub id: u64,
    pub shape: Vec<usize>,
    pub values: Vec<f32>,
}

/// Every float parameter with its path, id and shape, still on the device (flattened): read
/// the values synchronously with [`collect`], or asynchronously on WebGPU.
pub fn pending<M: Module>(module: &M) -> Vec<(String, u64, Vec<usize>, Tensor<1>)> {
    let mut v = Pending::default();
    module.visit(&mut v);
    v.out
}

/// Read every float parameter (synchronously: native code, or flex in the browser).
pub fn collect<M: Module>(module: &M) -> Result<Vec<ParamEntry>> {
    pending(module)
        .into_iter()
        .map(|(path, id, shape, values)| {
            let values = values
                .into_data()
                .try_into_vec::<f32>()
                .map_err(|e| Error::Device(format!("{e:?}")))?;
            Ok(ParamEntry {
                path,
                id,
                shape,
                values,
            })
        })
        .collect()
}

/// `module` with each parameter replaced by the entry of the same path, id included. Every
/// parameter must be present with its shape; extra entries are an error too.
pub fn apply<M: Module>(module: M, entries: &[ParamEntry]) -> Result<M> {
    let mut m = Applier {
        path: Vec::new(),
        entries,
        used: vec![false; entries.len()],
        error: None,
    };
    let module = module.map(&mut m);
    if let Some(e) = m.error {
        return Err(e);
    }
    if let Some(i) = m.used.iter().position(|u| !u) {
        return Err(Error::invalid(format!(
            "the saved state has a parameter '{}' the model does not",
            entries[i].path
        )));
    }
    Ok(module)
}

#[derive(Default)]
struct Pending {
    path: Vec<String>,
    out: Vec<(String, u64, Vec<usize>, Tensor<1>)>,
}

impl ModuleVisitor for Pending {
    fn enter_module(&mut self, name: &str, _container_type: &str) {
        self.path.push(name.to_string());
    }

    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.pop();
    }

    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let tensor = param.val();
        let shape = tensor.dims().to_vec();
        self.out.push((
            self.path.join("."),
            param.id.val(),
            shape,
            tensor.reshape([-1]),
        ));
    }
}

struct Applier<'a> {
    path: Vec<String>,
    entries: &'a [ParamEntry],
    used: Vec<bool>,
    error: Option<Error>,
}

impl ModuleMapper for Applier<'_> {
    fn enter_module(&mut self, name: &str, _container_type: &str) {
        self.path.push(name.to_string());
    }

    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.pop();
    }

    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let path = self.path.join(".");
        let Some(i) = self.entries.iter().position(|e| e.path == path) else {
            self.error
                .get_or_insert_with(|| Error::invalid(format!("the saved state has no '{path}'")));
            return param;
        };
        self.used[i] = true;
        let e = &self.entries[i];
        let shape: Vec<usize> = param.lazy_shape().iter().copied().collect();
        if e.shape != shape {
            self.error.get_or_insert_with(|| {
                Error::invalid(format!(
                    "'{path}' is {:?} in the saved state but {shape:?} in the model",
                    e.shape
                ))
            });
            return param;
        }
        let device = param.lazy_device();
        let tensor = Tensor::<D>::from_data(TensorData::new(e.values.clone(), shape), &device);
        param.transform_for_load(tensor, ParamId::from(e.id))
    }
}

/// Safetensors bytes keyed by module path, with the parameter ids in the header metadata.
pub fn to_safetensors(entries: &[ParamEntry]) -> Result<Vec<u8>> {
    let ids: HashMap<&str, u64> = entries.iter().map(|e| (e.path.as_str(), e.id)).collect();
    let meta = HashMap::from([(
        "param_ids".to_string(),
        serde_json::to_string(&ids).map_err(|e| Error::invalid(e.to_string()))?,
    )]);
    let host: Vec<HostTensor> = entries
        .iter()
        .map(|e| HostTensor {
            name: e.path.clone(),
            shape: e.shape.clone(),
            values: e.values.clone(),
        })
        .collect();
    write_safetensors(&host, meta)
}

/// The inverse of [`to_safetensors`]; `path` names the file in errors.
pub fn from_safetensors(bytes: &[u8], path: &Path) -> Result<Vec<ParamEntry>> {
    let bad = |m: String| Error::format(path, m);
    let (_, header) = SafeTensors::read_metadata(bytes)
        .map_err(|e| bad(format!("not a valid safetensors file: {e}")))?;
    let ids: HashMap<String, u64> = header
        .metadata()
        .as_ref()
        .and_then(|m| m.get("param_ids"))
        .ok_or_else(|| bad("no parameter ids in the header".into()))
        .and_then(|s| serde_json::from_str(s).map_err(|e| bad(format!("parameter ids: {e}"))))?;
    let st = SafeTensors::deserialize(bytes)
        .map_err(|e| bad(format!("not a valid safetensors file: {e}")))?;
    st.tensors()
        .into_iter()
        .map(|(name, view)| {
            if view.dtype() != Dtype::F32 {
                return Err(bad(format!("'{name}' is {:?}, expected F32", view.dtype())));
            }
            let id = *ids
                .get(&name)
                .ok_or_else(|| bad(format!("no parameter id for '{name}'")))?;
            Ok(ParamEntry {
                values: view
                    .data()
                    .chunks_exact(4)
                    .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                    .collect(),
                shape: view.shape().to_vec(),
                path: name,
                id,
            })
        })
        .collect()
}
