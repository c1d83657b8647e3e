//! Dense layer `Y[B×O] = act(X[B×I] · W + b)`.
//!
//! The weights are packed once per layer (`packing`) into column panels of `NR` outputs with the bias
//! folded in as each panel's first row; each call then only runs the register-blocked micro-kernel
//! (`microkernel`) over `MR`-row blocks of X, with the activation applied to the accumulators
//! before they are stored.
pub(crate) mod microkernel;
pub(crate) mod packing;

use crate::abi::code::PRELU;
use crate::abi::simdnet_prelu;
use crate::activation::{Linear, keeps_width, rowwise, with_activation};

/// Behind `abi::simdnet_dense`, whose doc states the contract.
#[allow(clippy::too_many_arguments)]
pub unsafe fn forward(
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
