//! Dense layer `Y[B×O] = act(X[B×I] · W + b)`.
//!
//! The weights are packed once per layer (`packing`) into column panels of `NR` outputs with the bias
//! folded in as each panel's first row; each call then only runs the register-blocked micro-kernel
//! (`microkernel`) over `MR`-row blocks of X, with the activation applied to the accumulators
//! before they are stored.
mod microkernel;
mod packing;

use crate::activation::with_activation;

/// Floats needed by the packed weights of an `inputs × outputs` layer.
#[unsafe(no_mangle)]
pub extern "C" fn simdnet_dense_packed_len(inputs: usize, outputs: usize) -> usize {
    packing::packed_len(inputs, outputs)
}

/// Packs `kernel` and `bias` (null: zeros) into `packed` (`simdnet_dense_packed_len` floats).
/// `transposed == 0`: kernel is `[inputs × outputs]` row-major (Keras, TF.js); otherwise it is
/// `[outputs × inputs]` (PyTorch Linear, ONNX Gemm with transB).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn simdnet_dense_pack(
    kernel: *const f32, bias: *const f32, inputs: usize, outputs: usize, transposed: u32, packed: *mut f32,
) {
    unsafe { packing::pack(kernel, bias, inputs, outputs, transposed != 0, packed) }
}

/// Writes the packed weights back as `kernel[inputs × outputs]` and `bias[outputs]`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn simdnet_dense_unpack(packed: *const f32, inputs: usize, outputs: usize, kernel: *mut f32, bias: *mut f32) {
    unsafe { packing::unpack(packed, inputs, outputs, kernel, bias) }
}

/// Floats of scratch `simdnet_dense` needs for `batch` rows of `inputs`.
#[unsafe(no_mangle)]
pub extern "C" fn simdnet_dense_scratch_len(batch: usize, inputs: usize) -> usize {
    microkernel::scratch_len(batch, inputs)
}

/// `y[batch × outputs] = act(x[batch × inputs] · W + b)` with W packed by `simdnet_dense_pack`, using
/// `scratch` (`simdnet_dense_scratch_len` floats). `x`, `y` and `scratch` must not overlap.
/// Returns 0, or 1 for an unknown activation code (nothing written).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn simdnet_dense(
    x: *const f32, batch: usize, inputs: usize, outputs: usize, packed: *const f32, act: u32, alpha: f32, y: *mut f32, scratch: *mut f32,
) -> u32 {
    unsafe { forward(x, batch, inputs, outputs, packed, act, alpha, y, scratch) }
}

#[allow(clippy::too_many_arguments)]
pub unsafe fn forward(
    x: *const f32, batch: usize, inputs: usize, outputs: usize, packed: *const f32, act: u32, alpha: f32, y: *mut f32, scratch: *mut f32,
) -> u32 {
    let shape = microkernel::Shape { inputs, outputs };
    with_activation!(act, alpha, |a| {
        unsafe { microkernel::gemm(a, x, batch, shape, packed, y, scratch) };
        0
    }, else if act == SOFTMAX {
        // Softmax needs each row's max before any output is final: one extra pass over the rows.
        unsafe { microkernel::gemm(Linear, x, batch, shape, packed, y, scratch) };
        if outputs > 0 {
            for r in 0..batch {
                unsafe { softmax_row(y.add(r * outputs), outputs, y.add(r * outputs)) };
            }
        }
        0
    } else {
        1
    })
}
