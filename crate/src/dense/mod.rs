//! Dense layer `Y[B×O] = act(X[B×I] · W + b)`.
//!
//! The weights are packed once per layer (`packing`) into column panels of `NR` outputs with the bias
//! folded in as each panel's first row; each call then only runs the register-blocked micro-kernel
//! (`microkernel`) over `MR`-row blocks of X, with the activation applied to the accumulators
//! before they are stored. `int8` is the same layer with int8 weights and dynamically quantized inputs.
pub(crate) mod int8;
pub(crate) mod microkernel;
pub(crate) mod packing;

use core::ops::Range;

use crate::abi::code::PRELU;
use crate::abi::simdnet_prelu;
use crate::activation::{ActivationLoops, Linear, keeps_width, rowwise, with_activation};

/// A dense layer's widths, whichever kernel runs it.
#[derive(Clone, Copy)]
pub struct Shape {
    pub inputs: usize,
    pub outputs: usize,
}

/// A kernel's tile: `mr` rows of x by one panel of `nr` outputs (the constants of bluss/matrixmultiply's
/// kernel trait), by which `pool::Split` cuts a layer's output whichever kernel runs it.
#[derive(Clone, Copy)]
pub struct Tiling {
    pub mr: usize,
    pub nr: usize,
}

impl Tiling {
    pub fn panels(self, outputs: usize) -> usize {
        outputs.div_ceil(self.nr)
    }

    /// All of Y.
    pub fn all(self, batch: usize, outputs: usize) -> Tiles {
        Tiles { panels: 0..self.panels(outputs), blocks: 0..batch / self.mr, tail: true }
    }
}

/// A rectangle of Y: the column panels `panels` of the full `mr`-row blocks `blocks`, and, when
/// `tail`, of the last `batch % mr` rows too. A kernel computes every output with the same
/// instructions whichever rectangle holds it, so any cover of Y by rectangles gives the same bits:
/// this is how threads split a layer.
pub struct Tiles {
    pub panels: Range<usize>,
    pub blocks: Range<usize>,
    pub tail: bool,
}

/// Behind `abi::simdnet_dense`, whose doc states the contract.
#[allow(clippy::too_many_arguments)]
pub unsafe fn forward(
    x: *const f32,
    batch: usize,
    inputs: usize,
    outputs: usize,
    packed: *const f32,
    act: u32,
    p: [f32; 3],
    slopes: *const f32,
    y: *mut f32,
    scratch: *mut f32,
) -> u32 {
    let shape = Shape { inputs, outputs };
    unsafe { with_epilogue(act, p, slopes, batch, outputs, y, scratch, &mut |a| microkernel::gemm(a, x, batch, shape, packed, y, scratch)) }
}

/// Behind `abi::simdnet_qdense`, whose doc states the contract.
#[allow(clippy::too_many_arguments)]
pub unsafe fn forward_int8(
    x: *const f32,
    batch: usize,
    inputs: usize,
    outputs: usize,
    packed: *const u32,
    act: u32,
    p: [f32; 3],
    slopes: *const f32,
    y: *mut f32,
    scratch: *mut f32,
) -> u32 {
    let shape = Shape { inputs, outputs };
    let run = &mut |a: &dyn ActivationLoops| unsafe { int8::microkernel::gemm(a, x, batch, shape, packed, y, scratch as *mut u8) };
    unsafe { with_epilogue(act, p, slopes, batch, outputs, y, scratch, run) }
}

/// Runs `gemm` (which writes `y[batch × outputs]`) with activation `act` fused into its tiles when
/// it is elementwise, else linear followed by the activation's own pass over `y` (using `scratch`
/// once `gemm` is done with it). Returns 0, or 1 for an activation a dense layer cannot apply.
#[allow(clippy::too_many_arguments)]
unsafe fn with_epilogue(
    act: u32,
    p: [f32; 3],
    slopes: *const f32,
    batch: usize,
    outputs: usize,
    y: *mut f32,
    scratch: *mut f32,
    gemm: &mut dyn FnMut(&dyn ActivationLoops),
) -> u32 {
    if with_activation(act, p, gemm) {
        0
    } else if applies_after(act) {
        gemm(&Linear);
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
