//! The wasm views of the session's results: getters that hand JS typed arrays.

use js_sys::Float32Array;
use wasm_bindgen::prelude::*;

use crate::session;

/// One reverse step's result for drawing: the 2-D panel's points, or image mode's grid (each row
/// an image, `c·h·w` wide).
#[wasm_bindgen]
#[derive(Debug)]
pub struct Frame(pub(super) session::Frame);

#[wasm_bindgen]
impl Frame {
    /// The current sample, `[n, d]` row-major.
    #[wasm_bindgen(getter)]
    pub fn x(&self) -> Float32Array {
        Float32Array::from(&self.0.x[..])
    }
    /// The model's x̂₀ at the last step.
    #[wasm_bindgen(getter, js_name = x0Pred)]
    pub fn x0_pred(&self) -> Float32Array {
        Float32Array::from(&self.0.x0_pred[..])
    }
    /// The table index of the step just taken.
    #[wasm_bindgen(getter)]
    pub fn t(&self) -> usize {
        self.0.t
    }
    /// Reverse steps still to go (0 when x is a finished sample).
    #[wasm_bindgen(getter)]
    pub fn remaining(&self) -> usize {
        self.0.remaining
    }
}

/// The score field on a grid at one t (see [`super::Playground::score_field`]).
#[wasm_bindgen]
#[derive(Debug)]
pub struct ScoreField(pub(super) session::ScoreField);

#[wasm_bindgen]
impl ScoreField {
    /// The grid points, `[size², 2]`, x fastest, from the bottom-left corner.
    #[wasm_bindgen(getter)]
    pub fn points(&self) -> Float32Array {
        Float32Array::from(&self.0.points[..])
    }
    /// `log p_t` per grid point, `[size²]`.
    #[wasm_bindgen(getter, js_name = logP)]
    pub fn log_p(&self) -> Float32Array {
        Float32Array::from(&self.0.log_p[..])
    }
    /// The exact `∇log p_t`, `[size², 2]`.
    #[wasm_bindgen(getter, js_name = trueScore)]
    pub fn true_score(&self) -> Float32Array {
        Float32Array::from(&self.0.true_score[..])
    }
    /// Why the chosen source has no field here (then `learnedScore` is empty).
    #[wasm_bindgen(getter)]
    pub fn note(&self) -> Option<String> {
        self.0.note.clone()
    }
    /// The chosen source's score (a network through its parameterisation), `[size², 2]`.
    #[wasm_bindgen(getter, js_name = learnedScore)]
    pub fn learned_score(&self) -> Float32Array {
        Float32Array::from(&self.0.learned_score[..])
    }
    /// `‖s_θ - ∇log p_t‖` per grid point, `[size²]`.
    #[wasm_bindgen(getter)]
    pub fn error(&self) -> Float32Array {
        Float32Array::from(&self.0.error[..])
    }
}

/// Every compared sampler after a round of steps: their samples stacked, `[m, n, d]` row-major,
/// the steps each one still has to go and, once all are done, the mixture weights each sample
/// recovered, `[m, K]` (points by nearest component).
#[wasm_bindgen]
#[derive(Debug)]
pub struct Comparison(pub(super) session::Comparison);

#[wasm_bindgen]
impl Comparison {
    #[wasm_bindgen(getter)]
    pub fn x(&self) -> Float32Array {
        Float32Array::from(&self.0.x[..])
    }

    #[wasm_bindgen(getter)]
    pub fn remaining(&self) -> Vec<u32> {
        self.0.remaining.clone()
    }

    /// Empty until every sampler is done.
    #[wasm_bindgen(getter)]
    pub fn weights(&self) -> Float32Array {
        Float32Array::from(&self.0.weights[..])
    }
}
