//! A whole Sequential model in one call: no JS↔wasm crossing or copy between layers.
use crate::abi::{AFFINE, ModelLayer, ModelStep, code, simdnet_activate, simdnet_dense, simdnet_prelu, simdnet_qdense, weight_format};
use crate::activation::rowwise;
use core::ops::Range;

/// Behind `abi::simdnet_model_forward`, whose doc states the contract.
#[allow(clippy::too_many_arguments)]
pub unsafe fn forward(
    table: *const ModelLayer,
    layers: usize,
    x: *const f32,
    batch: usize,
    hidden_a: *mut f32,
    hidden_b: *mut f32,
    y: *mut f32,
    scratch: *mut f32,
) -> u32 {
    unsafe { forward_rows(table, layers, x, 0..batch, hidden_a, hidden_b, y, scratch) }
}

/// `forward` over the batch's `rows` only: x, the hidden buffers and y keep the whole batch's
/// layout, `scratch` holds what `rows.len()` rows need (`scratch_len`). The pool runs chunks of rows
/// through the whole model this way, one thread each.
#[allow(clippy::too_many_arguments)]
pub unsafe fn forward_rows(
    table: *const ModelLayer,
    layers: usize,
    x: *const f32,
    rows: Range<usize>,
    hidden_a: *mut f32,
    hidden_b: *mut f32,
    y: *mut f32,
    scratch: *mut f32,
) -> u32 {
    let (first, batch) = (rows.start, rows.len());
    let mut src = x;
    for i in 0..layers {
        let entry = unsafe { &*table.add(i) };
        let (layer, weights) = (&entry.desc, entry.weights);
        let [p0, p1, p2] = layer.params;
        let outputs = layer.outputs as usize;
        let (inputs, packed, act) = (layer.inputs as usize, layer.packed, layer.activation);
        if i == 0 {
            src = unsafe { x.add(first * inputs) };
        }
        let dst = unsafe { destination(i, layers, hidden_a, hidden_b, y).add(first * outputs) };
        let status = unsafe {
            match weights {
                weight_format::F32 => simdnet_dense(src, batch, inputs, outputs, packed, act, p0, p1, p2, layer.slopes, dst, scratch),
                weight_format::INT8 => simdnet_qdense(src, batch, inputs, outputs, packed as *const u32, act, p0, p1, p2, layer.slopes, dst, scratch),
                _ => 1,
            }
        };
        if status != 0 || !unsafe { run_steps(entry, dst, batch, scratch) } {
            return 1 + i as u32;
        }
        src = dst;
    }
    0
}

/// Floats of scratch `forward` needs for `rows` rows of the model `layers`: what the host reserves
/// (ts/sequential.ts), from the same functions; `abi::TOO_LARGE` when that does not fit in usize.
#[cfg(simdnet_threads)]
pub fn scratch_len(layers: &[ModelLayer], rows: usize) -> usize {
    use crate::abi::{LayerDesc, simdnet_dense_scratch_len, simdnet_qdense_scratch_len};
    use crate::activation::rowwise_scratch_len;
    let layer_len = |entry: &ModelLayer| {
        let LayerDesc { inputs, outputs, activation, .. } = entry.desc;
        let kernel = if entry.weights == weight_format::INT8 { simdnet_qdense_scratch_len } else { simdnet_dense_scratch_len };
        // By index: `steps` is null when there are none, which a slice may not be.
        let steps = (0..entry.step_count as usize).map(|j| rowwise_scratch_len(unsafe { (*entry.steps.add(j)).code }, outputs as usize));
        steps.fold(kernel(rows, inputs as usize, outputs as usize, activation), usize::max)
    };
    layers.iter().map(layer_len).max().unwrap_or(0)
}

/// Where layer `i` of `layers` writes: `y` for the last, else `hidden_a` and `hidden_b` in turn.
pub fn destination(i: usize, layers: usize, hidden_a: *mut f32, hidden_b: *mut f32, y: *mut f32) -> *mut f32 {
    if i + 1 == layers {
        y
    } else if i % 2 == 0 {
        hidden_a
    } else {
        hidden_b
    }
}

/// Applies the steps of `entry` in place to its output `y[rows × outputs]`; false (stopping at the
/// first) for a step it cannot apply.
pub unsafe fn run_steps(entry: &ModelLayer, y: *mut f32, rows: usize, scratch: *mut f32) -> bool {
    let ModelLayer { desc, steps, step_count, .. } = entry;
    // By index: `steps` is null when there are none, which a slice may not be.
    (0..*step_count as usize).all(|j| unsafe { run_step(&*steps.add(j), y, rows, desc.outputs as usize, scratch) })
}

/// Applies `step` in place to `y[rows × cols]`; false (nothing written) for a code it cannot apply.
#[inline(never)]
unsafe fn run_step(step: &ModelStep, y: *mut f32, rows: usize, cols: usize, scratch: *mut f32) -> bool {
    let [p0, p1, p2] = step.params;
    match step.code {
        AFFINE => unsafe { affine(y, rows, cols, step.values) },
        // Through an opaque pointer: inlined, it would add a second copy of the prelu pass to every build.
        code::PRELU => unsafe { core::hint::black_box(simdnet_prelu as unsafe extern "C" fn(*const f32, _, _, _, _))(y, rows, cols, step.values, y) },
        // An elementwise code, else a row-wise one (each answers 1 for a code it does not know).
        c => return unsafe { simdnet_activate(c, p0, p1, p2, y, rows * cols, y) == 0 || rowwise(c, y, rows, cols, y, scratch) == 0 },
    }
    true
}

/// `y[r][c] = y[r][c]·scale[c] + shift[c]`, with `values` holding `cols` scales then `cols` shifts.
unsafe fn affine(y: *mut f32, rows: usize, cols: usize, values: *const f32) {
    let (scale, shift) = unsafe { (core::slice::from_raw_parts(values, cols), core::slice::from_raw_parts(values.add(cols), cols)) };
    for r in 0..rows {
        let row = unsafe { core::slice::from_raw_parts_mut(y.add(r * cols), cols) };
        for ((v, s), t) in row.iter_mut().zip(scale).zip(shift) {
            *v = *v * s + t;
        }
    }
}
