//! Keras 3's losses over the output layer, and the gradient of their batch mean.
//!
//! Each loss is the mean over the batch of a per-sample loss: the mean over the outputs for mse,
//! mae, huber and binary cross-entropy, the sum for categorical cross-entropy (sparse labels arrive
//! one-hot). Probabilities are clipped to [ε, 1 − ε] (ε = 1e-7) for the reported loss, as Keras
//! does. With a sigmoid output and binary cross-entropy, or a softmax output and categorical, the
//! gradient skips the activation: the fused, stable σ(z) − y and softmax(z) − y. Categorical
//! cross-entropy over any other output normalizes each row by its sum first, as Keras.
use crate::abi::code::{LOG_SOFTMAX, SIGMOID, SOFTMAX};
use crate::abi::{LossDesc, loss_code as code};
use crate::activation::rowwise;
use crate::math::{Exp, Log1p};
use crate::simd::*;

const EPSILON: f32 = 1e-7;

/// The lane-0 value of a vector function of one float: the loss runs element by element (its cost
/// is O(outputs), against the layers' O(inputs × outputs)), which keeps the math out of line once.
fn scalar(x: f32, f: impl Fn(v128) -> v128) -> f32 {
    f32x4_extract_lane::<0>(f(f32x4_splat(x)))
}

/// ln x for positive normal x: x = m·2^e with m ∈ [1, 2), ln x = e·ln 2 + log1p(m − 1); NaN for NaN
/// (the clip passes NaN through, and NaN's bits would otherwise read as a finite ~89).
#[inline(never)]
fn ln(x: f32) -> f32 {
    if x.is_nan() {
        return x;
    }
    let bits = x.to_bits();
    let exponent = (bits >> 23) as i32 - 127;
    let mantissa = f32::from_bits((bits & 0x007f_ffff) | 0x3f80_0000);
    log1p(mantissa - 1.0) + exponent as f32 * core::f32::consts::LN_2
}

/// log1p(z) for z ∈ [0, 1].
#[inline(never)]
fn log1p(z: f32) -> f32 {
    scalar(z, |v| Log1p::new().eval(v))
}

#[inline(never)]
fn exp(x: f32) -> f32 {
    scalar(x, |v| Exp::new().eval(v))
}

/// The sigmoid and log1p(e^−|z|), for binary cross-entropy on logits, from one exponential (as
/// `math::sigmoid_with_slope`: neither side overflows or cancels).
#[inline(never)]
fn sigmoid_and_softplus_tail(z: f32) -> (f32, f32) {
    let e = exp(-z.abs());
    let sigmoid = if z >= 0.0 { 1.0 } else { e } / (1.0 + e);
    (sigmoid, log1p(e))
}

/// One pass over `n` outputs `a` and targets `y`: `f(a, y)` gives each element's loss and
/// gradient; the gradient, times `scale`, goes to `grad` (which may equal `a`). Returns the sum
/// of the losses, in double (the loss of a large batch is a long sum).
#[inline(never)]
unsafe fn elementwise(a: *const f32, y: *const f32, n: usize, grad: *mut f32, scale: f32, f: &dyn Fn(f32, f32) -> (f32, f32)) -> f64 {
    let mut total = 0.0;
    for i in 0..n {
        let (loss, g) = unsafe { f(*a.add(i), *y.add(i)) };
        unsafe { *grad.add(i) = g * scale };
        total += loss as f64;
    }
    total
}

/// Categorical cross-entropy of outputs that are not a softmax's, as Keras computes it: each row
/// normalized by its sum, p = a/Σa, then clipped. With g = dL/dp (−y/p inside the clip, 0 where it
/// clips), dL/da_k = (g_k − Σⱼ gⱼ·pⱼ)/Σa. Returns the sum of the rows' losses.
#[inline(never)]
unsafe fn normalized_crossentropy(a: *const f32, y: *const f32, rows: usize, cols: usize, grad: *mut f32) -> f64 {
    let mut total = 0.0;
    for r in 0..rows {
        let (a, y, grad) = unsafe { (a.add(r * cols), y.add(r * cols), grad.add(r * cols)) };
        let sum: f32 = (0..cols).map(|j| unsafe { *a.add(j) }).sum();
        let mut dot = 0.0;
        for j in 0..cols {
            let (p, t) = unsafe { (*a.add(j) / sum, *y.add(j)) };
            let c = p.clamp(EPSILON, 1.0 - EPSILON);
            total += (-t * ln(c)) as f64;
            let g = if p > EPSILON && p < 1.0 - EPSILON { -t / c } else { 0.0 };
            dot += g * p;
            unsafe { *grad.add(j) = g };
        }
        for j in 0..cols {
            unsafe { *grad.add(j) = (*grad.add(j) - dot) / sum / rows as f32 };
        }
    }
    total
}

/// Writes into `grad` (rows × cols) the gradient of the batch's mean loss with respect to the
/// output layer's activations `a`, or, when it returns true (fused), its pre-activation; stores
/// the mean loss in `desc.value`. `y` holds the targets (rows × cols, one-hot for sparse labels).
/// Returns None for an unknown loss code.
#[inline(never)]
pub unsafe fn loss(desc: &mut LossDesc, activation: u32, a: *const f32, y: *const f32, rows: usize, cols: usize, grad: *mut f32) -> Option<bool> {
    let n = rows * cols;
    let clip = |p: f32| p.clamp(EPSILON, 1.0 - EPSILON);
    let logits = desc.from_logits != 0;
    // Keras divides by the number of elements for the per-output means, by the rows otherwise.
    let per_element = 1.0 / n as f32;
    let (total, count, fused) = unsafe {
        match desc.code {
            code::MEAN_SQUARED_ERROR => (elementwise(a, y, n, grad, per_element, &|a, y| ((a - y) * (a - y), 2.0 * (a - y))), n, false),
            code::MEAN_ABSOLUTE_ERROR => {
                let sign = |d: f32| if d > 0.0 { 1.0 } else if d < 0.0 { -1.0 } else { 0.0 };
                (elementwise(a, y, n, grad, per_element, &|a, y| ((a - y).abs(), sign(a - y))), n, false)
            }
            code::HUBER => {
                let delta = desc.delta;
                let huber = |d: f32| {
                    let loss = if d.abs() <= delta { 0.5 * d * d } else { delta * (d.abs() - 0.5 * delta) };
                    (loss, d.clamp(-delta, delta))
                };
                (elementwise(a, y, n, grad, per_element, &|a, y| huber(a - y)), n, false)
            }
            code::BINARY_CROSSENTROPY if logits => {
                // max(z, 0) − z·y + log1p(e^−|z|): no overflow, no clipping.
                let bce = |z: f32, y: f32| {
                    let (sigmoid, tail) = sigmoid_and_softplus_tail(z);
                    (z.max(0.0) - z * y + tail, sigmoid - y)
                };
                (elementwise(a, y, n, grad, per_element, &bce), n, false)
            }
            code::BINARY_CROSSENTROPY => {
                let fused = activation == SIGMOID;
                let bce = |p: f32, y: f32| {
                    let c = clip(p);
                    let loss = -(y * ln(c) + (1.0 - y) * ln(1.0 - c));
                    // Unfused, through the clip, which passes no gradient where it clips.
                    let inside = p > EPSILON && p < 1.0 - EPSILON;
                    (loss, if fused { p - y } else if inside { (c - y) / (c * (1.0 - c)) } else { 0.0 })
                };
                (elementwise(a, y, n, grad, per_element, &bce), n, fused)
            }
            code::CATEGORICAL_CROSSENTROPY if logits => {
                // log_softmax in place in grad: the loss is −Σ y·log p, the gradient e^(log p) − y.
                rowwise(LOG_SOFTMAX, a, rows, cols, grad, core::ptr::null_mut());
                (elementwise(grad, y, n, grad, 1.0 / rows as f32, &|log_p, y| (-y * log_p, exp(log_p) - y)), rows, false)
            }
            code::CATEGORICAL_CROSSENTROPY if activation == SOFTMAX => {
                (elementwise(a, y, n, grad, 1.0 / rows as f32, &|p, y| (-y * ln(clip(p)), p - y)), rows, true)
            }
            code::CATEGORICAL_CROSSENTROPY => (normalized_crossentropy(a, y, rows, cols, grad), rows, false),
            _ => return None,
        }
    };
    desc.value = (total / count.max(1) as f64) as f32;
    Some(fused)
}
