//! Dense layer `Y[B×O] = act(X[B×I] · W + b)`.
//!
//! The weights are packed once per layer (`packing`) into column panels of `NR` outputs with the bias
//! folded in as each panel's first row; each call then only runs the register-blocked micro-kernel
//! (`microkernel`) over `MR`-row blocks of X, with the activation applied to the accumulators
//! before they are stored.
pub(crate) mod microkernel;
pub(crate) mod packing;

use crate::activation::code::PRELU;
use crate::activation::{Linear, keeps_width, rowwise, rowwise_scratch_len, simdnet_prelu, with_activation};

/// What the `*_len` functions return for a size that does not fit in wasm32's address space: no
/// allocation can hold it (the caller turns it into an out-of-memory error).
pub(crate) const TOO_LARGE: usize = usize::MAX;

/// Floats needed by the packed weights of an `inputs × outputs` layer, or `TOO_LARGE`.
#[unsafe(no_mangle)]
pub extern "C" fn simdnet_dense_packed_len(inputs: usize, outputs: usize) -> usize {
    packing::packed_len(inputs, outputs).unwrap_or(TOO_LARGE)
}

/// Packs `kernel` and `bias` (null: zeros) into `packed` (`simdnet_dense_packed_len` floats).
/// `transposed == 0`: kernel is `[inputs × outputs]` row-major (Keras, TF.js); otherwise it is
/// `[outputs × inputs]` (PyTorch Linear, ONNX Gemm with transB).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn simdnet_dense_pack(
    kernel: *const f32,
    bias: *const f32,
    inputs: usize,
    outputs: usize,
    transposed: u32,
    packed: *mut f32,
) {
    unsafe { packing::pack(kernel, bias, inputs, outputs, transposed != 0, packed) }
}

/// Writes the packed weights back as `kernel[inputs × outputs]` and `bias[outputs]`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn simdnet_dense_unpack(packed: *const f32, inputs: usize, outputs: usize, kernel: *mut f32, bias: *mut f32) {
    unsafe { packing::unpack(packed, inputs, outputs, kernel, bias) }
}

/// Floats of scratch `simdnet_dense` needs for `batch` rows of `inputs` with activation `act`, or
/// `TOO_LARGE`.
#[unsafe(no_mangle)]
pub extern "C" fn simdnet_dense_scratch_len(batch: usize, inputs: usize, outputs: usize, act: u32) -> usize {
    microkernel::scratch_len(batch, inputs).map_or(TOO_LARGE, |len| len.max(rowwise_scratch_len(act, outputs)))
}

/// `y[batch × outputs] = act(x[batch × inputs] · W + b)` with W packed by `simdnet_dense_pack`, using
/// `scratch` (`simdnet_dense_scratch_len` floats); `p0..p2` are the activation's parameters, `slopes`
/// prelu's (`outputs` floats; unused by other activations). `x`, `y` and `scratch` must not overlap.
/// Returns 0, or 1 for an activation the layer cannot apply (unknown, or glu, which halves the
/// width): nothing is written then.
#[allow(clippy::too_many_arguments)]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn simdnet_dense(
    x: *const f32,
    batch: usize,
    inputs: usize,
    outputs: usize,
    packed: *const f32,
    act: u32,
    p0: f32,
    p1: f32,
    p2: f32,
    slopes: *const f32,
    y: *mut f32,
    scratch: *mut f32,
) -> u32 {
    let shape = microkernel::Shape { inputs, outputs };
    if with_activation(act, [p0, p1, p2], &mut |a| unsafe { microkernel::gemm(a, x, batch, shape, packed, y, scratch) }) {
        0
    } else if keeps_width(act) {
        // A row-wise activation needs the whole row before any output is final: one more pass.
        unsafe { microkernel::gemm(&Linear, x, batch, shape, packed, y, scratch) };
        unsafe { rowwise(act, y, batch, outputs, y, scratch) }
    } else if act == PRELU {
        // The slope depends on the column, which the tile epilogue does not see: one more pass.
        unsafe { microkernel::gemm(&Linear, x, batch, shape, packed, y, scratch) };
        unsafe { simdnet_prelu(y, batch, outputs, slopes, y) };
        0
    } else {
        1
    }
}
