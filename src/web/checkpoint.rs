//! A training run's weights read back without blocking (WebGPU forbids a synchronous read), in the
//! form [`crate::train::params`] restores: burn module paths with their parameter ids.

use burn::module::{Module, ModuleVisitor, Param};
use burn::prelude::*;

use crate::error::{Error, Result};
use crate::train::ParamEntry;

/// The float parameters of a module, still on the device: path, id, shape and values flattened.
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
        let n: usize = shape.iter().product();
        self.out.push((
            self.path.join("."),
            param.id.val(),
            shape,
            tensor.reshape([n]),
        ));
    }
}

/// Every float parameter of `module`, read asynchronously.
pub async fn collect_async<M: Module>(module: &M) -> Result<Vec<ParamEntry>> {
    let mut v = Pending::default();
    module.visit(&mut v);
    let mut entries = Vec::with_capacity(v.out.len());
    for (path, id, shape, values) in v.out {
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
