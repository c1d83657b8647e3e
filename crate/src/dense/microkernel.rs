//! The register-blocked micro-kernel: a `ROWS × PANELS·NR` tile of Y held in `ROWS · PANELS · 2`
//! vector accumulators, initialised from the panels' bias rows.
//!
//! Full blocks are 4×8 (`MR × NR`): 8 accumulators + 2 weight vectors + 1 broadcast stay live, and V8
//! on x64 allocates xmm0–xmm14 only, so larger tiles spill. The last `batch % MR` rows (all of them
//! at batch 1) would leave a 1×8 tile with only two dependency chains, bound by the add latency, so
//! they run over several panels at once instead (1×24, 2×16) to keep 6–8 chains in flight.
use core::ops::Range;

use super::packing::{interleave_rows, panel_len};
use super::{Shape, Tiles, Tiling};
use crate::activation::ActivationLoops;
use crate::simd::*;

pub const MR: usize = 4;
pub const NR: usize = 8;
pub const TILING: Tiling = Tiling { mr: MR, nr: NR };
/// The most accumulator vectors a tile holds (two per row and panel), for the array its activation
/// epilogue gathers them in: 8 for the 4×8 block and the 2×16 tail, 6 for 1×24; 12 for the 3×2
/// panels that `row_tail::<3, 1>`'s two-panel branch instantiates, though that branch never runs
/// (its `PANELS > 2` is false), so that every instantiation is in bounds by construction.
const TILE_VECTORS: usize = 12;

#[inline(always)]
unsafe fn store_columns(out: *mut f32, cols: usize, lo: v128, hi: v128) {
    unsafe {
        if cols == NR {
            v128_store(out as *mut v128, lo);
            v128_store(out.add(4) as *mut v128, hi);
        } else if cols > 4 {
            v128_store(out as *mut v128, lo);
            store_partial(out.add(4), cols - 4, hi);
        } else if cols == 4 {
            v128_store(out as *mut v128, lo);
        } else {
            store_partial(out, cols, lo);
        }
    }
}

/// Where a tile reads its `ROWS` rows of x, one input `k` at a time.
trait Rows<const ROWS: usize>: Copy {
    /// Row `r`'s current value, broadcast.
    unsafe fn splat(&self, r: usize) -> v128;
    /// On to the next input.
    unsafe fn advance(&mut self);
}

/// Rows in place in x, `inputs` floats apart: one pointer and one add per row and input.
#[derive(Clone, Copy)]
struct Strided<const ROWS: usize>([*const f32; ROWS]);

impl<const ROWS: usize> Strided<ROWS> {
    #[inline(always)]
    unsafe fn new(x: *const f32, inputs: usize) -> Self {
        let mut rows = [x; ROWS];
        for (r, p) in rows.iter_mut().enumerate() {
            *p = unsafe { x.add(r * inputs) };
        }
        Strided(rows)
    }
}

impl<const ROWS: usize> Rows<ROWS> for Strided<ROWS> {
    #[inline(always)]
    unsafe fn splat(&self, r: usize) -> v128 {
        unsafe { v128_load32_splat(self.0[r] as *const u32) }
    }
    #[inline(always)]
    unsafe fn advance(&mut self) {
        for p in self.0.iter_mut() {
            *p = unsafe { p.add(1) };
        }
    }
}

/// Rows packed by `packing::interleave_rows` (`[k][ROWS]`): the loads of one input sit at constant
/// offsets from one pointer, which the loads fold in as immediates.
#[derive(Clone, Copy)]
struct Interleaved(*const f32);

impl<const ROWS: usize> Rows<ROWS> for Interleaved {
    #[inline(always)]
    unsafe fn splat(&self, r: usize) -> v128 {
        unsafe { v128_load32_splat(self.0.add(r) as *const u32) }
    }
    #[inline(always)]
    unsafe fn advance(&mut self) {
        self.0 = unsafe { self.0.add(ROWS) };
    }
}

/// One tile: `ROWS` rows of x, the `PANELS` packed panels from `panel` on, and the outputs from `y`
/// on (rows `outputs` apart), of which `cols` (≤ PANELS·NR) are stored.
#[inline(always)]
unsafe fn tile<R: Rows<ROWS>, const ROWS: usize, const PANELS: usize>(
    act: &dyn ActivationLoops,
    mut rows: R,
    shape: Shape,
    panel: *const f32,
    y: *mut f32,
    cols: usize,
) {
    let stride = panel_len(shape.inputs);
    let mut w = [panel; PANELS];
    let mut acc = [[[f32x4_splat(0.0); 2]; PANELS]; ROWS];
    for p in 0..PANELS {
        w[p] = unsafe { panel.add(p * stride) };
        let bias = unsafe { [v128_load(w[p] as *const v128), v128_load(w[p].add(4) as *const v128)] };
        for row in acc.iter_mut() {
            row[p] = bias;
        }
        w[p] = unsafe { w[p].add(NR) };
    }
    // The loop ends on the first panel's pointer rather than a counter: one add fewer per k-step,
    // in a loop whose front end is the limit.
    let end = unsafe { w[0].add(shape.inputs * NR) };
    while w[0] != end {
        let mut wv = [[f32x4_splat(0.0); 2]; PANELS];
        for p in 0..PANELS {
            wv[p] = unsafe { [v128_load(w[p] as *const v128), v128_load(w[p].add(4) as *const v128)] };
            w[p] = unsafe { w[p].add(NR) };
        }
        for r in 0..ROWS {
            let a = unsafe { rows.splat(r) };
            for p in 0..PANELS {
                acc[r][p][0] = madd(a, wv[p][0], acc[r][p][0]);
                acc[r][p][1] = madd(a, wv[p][1], acc[r][p][1]);
            }
        }
        unsafe { rows.advance() };
    }
    // The activation runs on the whole tile at once, through one dynamic call (see
    // `ActivationLoops`).
    const { assert!(ROWS * PANELS * 2 <= TILE_VECTORS, "a tile holds more accumulators than TILE_VECTORS") };
    let mut flat = [f32x4_splat(0.0); TILE_VECTORS];
    for r in 0..ROWS {
        for p in 0..PANELS {
            flat[(r * PANELS + p) * 2] = acc[r][p][0];
            flat[(r * PANELS + p) * 2 + 1] = acc[r][p][1];
        }
    }
    unsafe { act.apply_vectors(flat.as_ptr(), flat.as_mut_ptr(), ROWS * PANELS * 2) };
    for r in 0..ROWS {
        for p in 0..PANELS {
            let done = p * NR;
            if done < cols {
                let out = unsafe { y.add(r * shape.outputs + done) };
                let i = (r * PANELS + p) * 2;
                unsafe { store_columns(out, (cols - done).min(NR), flat[i], flat[i + 1]) };
            }
        }
    }
}

/// The last `ROWS < MR` rows over panels `panels`, `PANELS` panels per tile. Each tile's k-loop is
/// bound by the multiply-add latency (one k-step per latency whatever the tile's width), so the time
/// is the number of tiles: a remainder of four panels runs as 2 + 2 rather than 3 + 1, and of two as
/// one tile.
#[inline(always)]
unsafe fn row_tail<const ROWS: usize, const PANELS: usize>(
    act: &dyn ActivationLoops,
    x: *const f32,
    shape: Shape,
    packed: *const f32,
    y: *mut f32,
    panels: Range<usize>,
) {
    let stride = panel_len(shape.inputs);
    let mut p = panels.start;
    while p < panels.end {
        let (col, rows, left) = (p * NR, unsafe { Strided::<ROWS>::new(x, shape.inputs) }, panels.end - p);
        let (panel, out, cols) = (unsafe { packed.add(p * stride) }, unsafe { y.add(col) }, shape.outputs - col);
        p += if left >= PANELS && left != PANELS + 1 {
            unsafe { tile::<_, ROWS, PANELS>(act, rows, shape, panel, out, cols) };
            PANELS
        } else if left >= 2 && PANELS > 2 {
            unsafe { tile::<_, ROWS, 2>(act, rows, shape, panel, out, cols) };
            2
        } else {
            unsafe { tile::<_, ROWS, 1>(act, rows, shape, panel, out, cols) };
            1
        };
    }
}

/// Floats of scratch `gemm` needs: the full `MR`-row blocks of x, interleaved; `None` when the count
/// does not fit in `usize`.
pub fn scratch_len(batch: usize, inputs: usize) -> Option<usize> {
    (batch - batch % MR).checked_mul(inputs)
}

/// Interleaves the full `MR`-row blocks of x into `scratch` (`scratch_len` floats), as `tiles` reads them.
#[inline(always)]
pub unsafe fn interleave(x: *const f32, batch: usize, shape: Shape, scratch: *mut f32) {
    let block = MR * shape.inputs;
    for b in 0..batch / MR {
        unsafe { interleave_rows::<MR>(x.add(b * block), shape.inputs, scratch.add(b * block)) };
    }
}

/// Computes the rectangle `tiles` of `y = act(x · W + b)`, the row blocks of x read from `scratch`
/// as `interleave` left them: panel by panel, so that one panel (≤ (inputs+1)·32 bytes) stays in L1
/// while the row blocks stream past it. Every output is computed by the same instructions whichever
/// rectangle holds it (bias, then one multiply-add per input in order).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub unsafe fn tiles(
    act: &dyn ActivationLoops,
    x: *const f32,
    batch: usize,
    shape: Shape,
    packed: *const f32,
    y: *mut f32,
    scratch: *const f32,
    tiles: Tiles,
) {
    let block = MR * shape.inputs;
    let stride = panel_len(shape.inputs);
    for p in tiles.panels.clone() {
        let col = p * NR;
        let panel = unsafe { packed.add(p * stride) };
        for b in tiles.blocks.clone() {
            let rows = Interleaved(unsafe { scratch.add(b * block) });
            unsafe { tile::<_, MR, 1>(act, rows, shape, panel, y.add(b * MR * shape.outputs + col), shape.outputs - col) };
        }
    }
    if !tiles.tail {
        return;
    }
    let full_rows = batch - batch % MR;
    let (x, y, panels) = unsafe { (x.add(full_rows * shape.inputs), y.add(full_rows * shape.outputs), tiles.panels) };
    unsafe {
        match batch - full_rows {
            1 => row_tail::<1, 3>(act, x, shape, packed, y, panels),
            2 => row_tail::<2, 2>(act, x, shape, packed, y, panels),
            3 => row_tail::<3, 1>(act, x, shape, packed, y, panels),
            _ => {}
        }
    }
}

/// `y = act(x · W + b)` on one thread, with `scratch_len` floats of `scratch`.
#[inline(never)]
pub unsafe fn gemm(
    act: &dyn ActivationLoops,
    x: *const f32,
    batch: usize,
    shape: Shape,
    packed: *const f32,
    y: *mut f32,
    scratch: *mut f32,
) {
    unsafe {
        interleave(x, batch, shape, scratch);
        tiles(act, x, batch, shape, packed, y, scratch, TILING.all(batch, shape.outputs));
    }
}
