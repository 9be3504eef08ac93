//! Dormand–Prince 5(4) (Dormand & Prince 1980; Hairer, Nørsett & Wanner, *Solving ODEs I*,
//! §II.4–5, Table 5.2): an explicit Runge–Kutta pair that propagates the fifth-order solution,
//! estimates its error by the embedded fourth-order one, reuses its last stage as the next
//! step's first (FSAL), and picks each step from the error, as scipy's `RK45` (which score_sde's
//! `likelihood.py` calls through `solve_ivp`). The state is one tensor on the device; each step
//! reads back one number, the error norm.

use burn::prelude::*;

use crate::error::{Error, Result};

/// `c_i`, the stage times.
const C: [f64; 6] = [0.0, 1.0 / 5.0, 3.0 / 10.0, 4.0 / 5.0, 8.0 / 9.0, 1.0];
/// `a_ij`, the stage weights (row `i` has `i` entries).
const A: [&[f64]; 6] = [
    &[],
    &[1.0 / 5.0],
    &[3.0 / 40.0, 9.0 / 40.0],
    &[44.0 / 45.0, -56.0 / 15.0, 32.0 / 9.0],
    &[
        19372.0 / 6561.0,
        -25360.0 / 2187.0,
        64448.0 / 6561.0,
        -212.0 / 729.0,
    ],
    &[
        9017.0 / 3168.0,
        -355.0 / 33.0,
        46732.0 / 5247.0,
        49.0 / 176.0,
        -5103.0 / 18656.0,
    ],
];
/// `b_i`, the fifth-order weights (the seventh stage, at the new point, has weight 0).
const B: [f64; 6] = [
    35.0 / 384.0,
    0.0,
    500.0 / 1113.0,
    125.0 / 192.0,
    -2187.0 / 6784.0,
    11.0 / 84.0,
];
/// `b_i - b*_i` against the fourth-order weights, all seven stages.
const E: [f64; 7] = [
    71.0 / 57600.0,
    0.0,
    -71.0 / 16695.0,
    71.0 / 1920.0,
    -17253.0 / 339200.0,
    22.0 / 525.0,
    -1.0 / 40.0,
];

/// The step controller's safety factor and bounds on the change of `h` (scipy's `RK45`).
const SAFETY: f64 = 0.9;
const MIN_FACTOR: f64 = 0.2;
const MAX_FACTOR: f64 = 10.0;

/// Relative and absolute tolerances: a step is kept when the RMS over all entries of
/// `err / (atol + rtol · max(|y|, |y_new|))` is at most 1.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tolerance {
    pub rtol: f64,
    pub atol: f64,
}

impl Tolerance {
    /// score_sde's `likelihood.py`: rtol = atol = 1e-5.
    pub const SCORE_SDE: Self = Self {
        rtol: 1e-5,
        atol: 1e-5,
    };

    pub fn validate(self) -> Result<Self> {
        let ok = |v: f64| v > 0.0 && v.is_finite() && v < 1.0;
        if !(ok(self.rtol) && ok(self.atol)) {
            return Err(Error::invalid(format!(
                "the tolerances must lie in (0, 1), got rtol {} and atol {}",
                self.rtol, self.atol
            )));
        }
        Ok(self)
    }
}

/// The end state and what it cost.
#[derive(Debug, Clone)]
pub struct Solution {
    pub y: Tensor<2>,
    /// Evaluations of the right-hand side.
    pub nfe: usize,
    pub accepted: usize,
    pub rejected: usize,
}

/// `RMS(v / scale)`, read back.
fn rms_ratio(v: Tensor<2>, scale: Tensor<2>) -> Result<f64> {
    let ms = (v / scale).square().mean().into_data();
    let ms = ms
        .try_into_vec::<f32>()
        .map_err(|e| Error::Device(format!("cannot read the error norm back: {e:?}")))?[0];
    Ok((ms as f64).sqrt())
}

/// Integrate `dy/dt = f(t, y)` from `t0` to `t1` (either direction) within `tol`, with at most
/// `max_nfe` evaluations of `f`.
pub fn solve(
    mut f: impl FnMut(f64, Tensor<2>) -> Result<Tensor<2>>,
    y0: Tensor<2>,
    t0: f64,
    t1: f64,
    tol: Tolerance,
    max_nfe: usize,
) -> Result<Solution> {
    let tol = tol.validate()?;
    let dir = if t1 >= t0 { 1.0 } else { -1.0 };
    let span = (t1 - t0).abs();
    let scale = |a: &Tensor<2>, b: &Tensor<2>| {
        a.clone().abs().max_pair(b.clone().abs()) * tol.rtol + tol.atol
    };
    let (mut t, mut y) = (t0, y0);
    let mut k1 = f(t, y.clone())?;
    let mut nfe = 1;
    // The initial step (Hairer et al., §II.4, "Starting step size"): h₀ from the sizes of y and
    // f, then h₁ from the change of f over h₀, the smaller, capped at 100 h₀.
    let h = {
        let s0 = scale(&y, &y);
        let (d0, d1) = (
            rms_ratio(y.clone(), s0.clone())?,
            rms_ratio(k1.clone(), s0.clone())?,
        );
        let h0 = if d0 < 1e-5 || d1 < 1e-5 {
            1e-6
        } else {
            0.01 * d0 / d1
        }
        .min(span);
        let y1 = y.clone() + k1.clone() * (dir * h0);
        let k = f(t + dir * h0, y1)?;
        nfe += 1;
        let d2 = rms_ratio(k - k1.clone(), s0)? / h0;
        let h1 = if d1.max(d2) <= 1e-15 {
            (h0 * 1e-3).max(1e-6)
        } else {
            (0.01 / d1.max(d2)).powf(0.2)
        };
        (100.0 * h0).min(h1).min(span)
    };
    let (mut h, mut accepted, mut rejected, mut just_rejected) = (h, 0, 0, false);
    while (t1 - t) * dir > 0.0 {
        if nfe + 6 > max_nfe {
            return Err(Error::invalid(format!(
                "the ODE solver took {nfe} evaluations and reached t = {t:.6} of {t1}: loosen rtol/atol or raise the budget"
            )));
        }
        let last = (t1 - t).abs() <= h;
        let hs = if last { t1 - t } else { dir * h };
        let mut k = vec![k1.clone()];
        for i in 1..6 {
            let yi = A[i]
                .iter()
                .zip(&k)
                .fold(y.clone(), |acc, (a, ki)| acc + ki.clone() * (hs * a));
            k.push(f(t + C[i] * hs, yi)?);
        }
        let y_new = B
            .iter()
            .zip(&k)
            .fold(y.clone(), |acc, (b, ki)| acc + ki.clone() * (hs * b));
        let k7 = f(t + hs, y_new.clone())?;
        nfe += 6;
        k.push(k7.clone());
        let err = E
            .iter()
            .zip(&k)
            .skip(1)
            .fold(k[0].clone() * (hs * E[0]), |acc, (e, ki)| {
                acc + ki.clone() * (hs * e)
            });
        let norm = rms_ratio(err, scale(&y, &y_new))?;
        if !norm.is_finite() {
            return Err(Error::invalid(format!(
                "the ODE's right-hand side is not finite near t = {t:.6}"
            )));
        }
        // h ∝ norm^{-1/5}, the error of a fourth-order estimate being O(h⁵); no growth right
        // after a rejection (scipy's `step_rejected`).
        let factor = if norm == 0.0 {
            MAX_FACTOR
        } else {
            (SAFETY * norm.powf(-0.2)).min(MAX_FACTOR)
        };
        if norm <= 1.0 {
            t = if last { t1 } else { t + hs };
            y = y_new;
            k1 = k7;
            accepted += 1;
            h *= if just_rejected {
                factor.min(1.0)
            } else {
                factor
            };
            just_rejected = false;
        } else {
            rejected += 1;
            just_rejected = true;
            h *= factor.max(MIN_FACTOR);
            if h < 1e-12 * span {
                return Err(Error::invalid(format!(
                    "the ODE solver's step fell below {:.1e} at t = {t:.6}: the right-hand side is too stiff or rough for rtol/atol",
                    1e-12 * span
                )));
            }
        }
    }
    Ok(Solution {
        y,
        nfe,
        accepted,
        rejected,
    })
}
