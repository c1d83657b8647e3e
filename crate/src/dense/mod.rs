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
    } else if applies_after(act) {
        unsafe { microkernel::gemm(&Linear, x, batch, shape, packed, y, scratch) };
        unsafe { apply_after(act, y, batch, outputs, slopes, scratch) }
    } else {
        1
    }
}

/// Whether `act` is an activation a layer applies in a pass over its finished output (row-wise ones
/// need the whole row before any output is final; prelu's slope depends on the column, which the
/// tile epilogue does not see) rather than in the tiles.
pub fn applies_after(act: u32) -> bool {
    keeps_width(act) || act == PRELU
}

/// That pass, in place over `y[batch × outputs]`: 0, or 1 for a code it cannot apply.
pub unsafe fn apply_after(act: u32, y: *mut f32, batch: usize, outputs: usize, slopes: *const f32, scratch: *mut f32) -> u32 {
    if act == PRELU {
        unsafe { simdnet_prelu(y, batch, outputs, slopes, y) };
        0
    } else {
        unsafe { rowwise(act, y, batch, outputs, y, scratch) }
    }
}
