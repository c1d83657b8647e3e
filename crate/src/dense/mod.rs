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
use crate::abi::{simdnet_prelu, weight_format};
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

/// The GEMM kernel that runs a layer, by its `weight_format`: float32 or int8 weights, each with its
/// tile (`Tiling`), its preparation of x (interleaved or quantized into the scratch) and its `tiles`.
#[derive(Clone, Copy)]
pub enum Kernel {
    F32,
    Int8,
}

impl Kernel {
    /// The pool's model job picks a layer's kernel by its format (one thread's path is chosen by the
    /// export called: `simdnet_dense` or `simdnet_qdense`).
    #[cfg_attr(not(simdnet_threads), allow(dead_code))]
    pub fn of(weights: u32) -> Option<Kernel> {
        match weights {
            weight_format::F32 => Some(Kernel::F32),
            weight_format::INT8 => Some(Kernel::Int8),
            _ => None,
        }
    }

    pub fn tiling(self) -> Tiling {
        match self {
            Kernel::F32 => microkernel::TILING,
            Kernel::Int8 => int8::microkernel::TILING,
        }
    }

    /// x's rows into the scratch, as `tiles` reads them (on the pool, thread 0's part before the tiles).
    pub unsafe fn prepare(self, x: *const f32, batch: usize, shape: Shape, scratch: *mut f32) {
        match self {
            Kernel::F32 => unsafe { microkernel::interleave(x, batch, shape, scratch) },
            Kernel::Int8 => unsafe { int8::microkernel::quantize(x, batch, shape.inputs, scratch as *mut u8) },
        }
    }

    #[allow(clippy::too_many_arguments)]
    pub unsafe fn tiles(
        self,
        act: &dyn ActivationLoops,
        x: *const f32,
        batch: usize,
        shape: Shape,
        packed: *const f32,
        y: *mut f32,
        scratch: *mut f32,
        tiles: Tiles,
    ) {
        match self {
            Kernel::F32 => unsafe { microkernel::tiles(act, x, batch, shape, packed, y, scratch, tiles) },
            Kernel::Int8 => unsafe { int8::microkernel::tiles(act, batch, shape, packed as *const u32, y, scratch as *const u8, tiles) },
        }
    }

    /// `y = act(x · W + b)` on one thread: `prepare`, then every tile (for float32, the same code
    /// training runs, `microkernel::gemm`: one copy of its loops in the build).
    #[inline(never)]
    #[allow(clippy::too_many_arguments)]
    pub unsafe fn gemm(self, act: &dyn ActivationLoops, x: *const f32, batch: usize, shape: Shape, packed: *const f32, y: *mut f32, scratch: *mut f32) {
        match self {
            Kernel::F32 => unsafe { microkernel::gemm(act, x, batch, shape, packed, y, scratch) },
            Kernel::Int8 => unsafe {
                self.prepare(x, batch, shape, scratch);
                self.tiles(act, x, batch, shape, packed, y, scratch, self.tiling().all(batch, shape.outputs));
            },
        }
    }
}

/// Behind `abi::simdnet_dense` and `abi::simdnet_qdense`, whose docs state the contract: `packed` as
/// the kernel's `pack` wrote it.
#[allow(clippy::too_many_arguments)]
pub unsafe fn forward(
    kernel: Kernel,
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
    unsafe { with_epilogue(act, p, slopes, batch, outputs, y, scratch, &mut |a| kernel.gemm(a, x, batch, shape, packed, y, scratch)) }
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
