//! The int8 micro-kernel: an `MR × NR` tile of Y in i32x4 accumulators, each k-group adding one
//! 4-product dot per accumulator (`dot4_add`: the relaxed dot instruction, or its SIMD128 or scalar
//! equal), then dequantized, biased and activated as f32 before the store.
//!
//! The rows are quantized in whole `MR`-row blocks (padded with zeros), and a last block of two or
//! three rows runs as a full one: only a single row (batch 1) gets a tile of its own.
use super::packing::{HEADER, K_GROUP, panel_len};
use super::quantize::{codes_len, quantize_rows};
use crate::activation::ActivationLoops;
use crate::dense::{Shape, Tiles, Tiling};
use crate::simd::*;

pub const MR: usize = 4;
pub const NR: usize = 8;
pub const TILING: Tiling = Tiling { mr: MR, nr: NR };

/// Stores the first `cols` (1..=NR) of a tile row's two vectors.
#[inline(always)]
unsafe fn store_row(out: *mut f32, cols: usize, v: [v128; 2]) {
    for (i, v) in v.into_iter().enumerate() {
        let (at, n) = (i * LANES, cols.saturating_sub(i * LANES).min(LANES));
        unsafe {
            match n {
                0 => {}
                LANES => v128_store(out.add(at) as *mut v128, v),
                _ => store_partial(out.add(at), n, v),
            }
        }
    }
}

/// One tile: `ROWS` (≤ MR) rows of the block of quantized rows at `codes` (their steps and zero
/// points at `steps`, `zeros`), the panel at `panel`, and the first `rows` × `cols` outputs from `y`
/// on (rows `outputs` apart). The k-loop runs once per `VECTORS` of the panel's two weight vectors:
/// twice where each accumulator holds two vectors of partial sums (SIMD128), so that the
/// accumulators of a pass stay within the 15 registers V8 gives a loop on x64.
#[inline(never)]
#[allow(clippy::too_many_arguments)]
unsafe fn tile<const ROWS: usize>(
    act: &dyn ActivationLoops,
    codes: *const u32,
    steps: *const f32,
    zeros: *const i32,
    panel: *const u32,
    groups: usize,
    y: *mut f32,
    outputs: usize,
    rows: usize,
    cols: usize,
) {
    // A one-row tile has registers to spare: both vectors in one pass, whose k-loop (latency-bound
    // at batch 1) then runs once instead of twice (Keras MLP int8, batch 1, SIMD128: 1.85 → 1.69–1.72 µs).
    let vectors = if ROWS == 1 { 2 } else { 2 / DOT_PARTS };
    let mut sums = [[i32x4_splat(0); 2]; ROWS];
    for pass in 0..2 / vectors {
        let mut acc = [[[i32x4_splat(0); DOT_PARTS]; 2]; ROWS];
        let (mut w, mut x) = (unsafe { (panel.add(HEADER) as *const v128).add(pass * vectors) }, codes);
        for _ in 0..groups {
            let mut wv = [i32x4_splat(0); 2];
            for (v, vector) in wv.iter_mut().enumerate().take(vectors) {
                *vector = unsafe { v128_load(w.add(v)) };
            }
            for (r, row) in acc.iter_mut().enumerate() {
                let a = unsafe { v128_load32_splat(x.add(r)) };
                for v in 0..vectors {
                    dot4_add(wv[v], a, &mut row[v]);
                }
            }
            (w, x) = unsafe { (w.add(2), x.add(MR)) };
        }
        for r in 0..ROWS {
            for v in 0..vectors {
                sums[r][pass * vectors + v] = dot4_sum(acc[r][v]);
            }
        }
    }
    // y = (Σ − zero·Σw)·(step·scale) + bias, as separate roundings (no fused multiply-add), so
    // that every build stores the same bits.
    let header = |i: usize| unsafe { v128_load(panel.add(i * LANES) as *const v128) };
    let (bias, scale, code_sums) = ([header(0), header(1)], [header(2), header(3)], [header(4), header(5)]);
    let mut flat = [f32x4_splat(0.0); 2 * MR];
    for (r, row) in sums.iter().enumerate() {
        let (zero, step) = unsafe { (i32x4_splat(*zeros.add(r)), f32x4_splat(*steps.add(r))) };
        for v in 0..2 {
            let exact = i32x4_sub(row[v], i32x4_mul(code_sums[v], zero));
            flat[2 * r + v] = f32x4_add(f32x4_mul(f32x4_convert_i32x4(exact), f32x4_mul(step, scale[v])), bias[v]);
        }
    }
    unsafe { act.apply_vectors(flat.as_ptr(), flat.as_mut_ptr(), 2 * ROWS) };
    for r in 0..rows {
        unsafe { store_row(y.add(r * outputs), cols, [flat[2 * r], flat[2 * r + 1]]) };
    }
}

/// Bytes of scratch `Kernel::Int8` needs (the codes, then a step and a zero point per padded row), or `None`
/// when that does not fit in `usize`.
pub fn scratch_bytes(batch: usize, inputs: usize) -> Option<usize> {
    codes_len(batch, inputs)?.checked_add(batch.div_ceil(MR).checked_mul(MR * 8)?)
}

/// Byte offsets in the scratch of the steps and of the zero points, after the codes.
fn steps_and_zeros(batch: usize, inputs: usize) -> (usize, usize) {
    let codes_bytes = codes_len(batch, inputs).unwrap_or(0);
    (codes_bytes, codes_bytes + batch.div_ceil(MR) * MR * 4)
}

/// Quantizes the `batch` rows of x into `scratch` (`scratch_bytes`), as `tiles` reads them.
#[inline(always)]
pub unsafe fn quantize(x: *const f32, batch: usize, inputs: usize, scratch: *mut u8) {
    let (steps, zeros) = steps_and_zeros(batch, inputs);
    unsafe { quantize_rows(x, batch, inputs, scratch, scratch.add(steps) as *mut f32, scratch.add(zeros) as *mut i32) };
}

/// Computes the rectangle `tiles` of `y = act(x · W + b)` from the rows `quantize` left in `scratch`:
/// panel by panel over the row blocks, as the f32 kernel does. The tail is the last, partial block:
/// of one row (all of batch 1) it runs a one-row tile; of two or three, a full one. Every output is
/// computed by the same tile whichever rectangle holds it.
#[inline(always)]
pub unsafe fn tiles(
    act: &dyn ActivationLoops,
    batch: usize,
    shape: Shape,
    packed: *const u32,
    y: *mut f32,
    scratch: *const u8,
    tiles: Tiles,
) {
    let (steps, zeros) = steps_and_zeros(batch, shape.inputs);
    let (steps, zeros) = unsafe { (scratch.add(steps) as *const f32, scratch.add(zeros) as *const i32) };
    let groups = shape.inputs.div_ceil(K_GROUP);
    let tail = (tiles.tail && batch % MR != 0).then_some(batch / MR);
    for p in tiles.panels {
        let col = p * NR;
        let panel = unsafe { packed.add(p * panel_len(shape.inputs)) };
        for b in tiles.blocks.clone().chain(tail) {
            let first = b * MR;
            let rows = (batch - first).min(MR);
            let run = if rows == 1 { tile::<1> } else { tile::<MR> };
            unsafe {
                run(
                    act,
                    (scratch as *const u32).add(first * groups),
                    steps.add(first),
                    zeros.add(first),
                    panel,
                    groups,
                    y.add(first * shape.outputs + col),
                    shape.outputs,
                    rows,
                    (shape.outputs - col).min(NR),
                );
            }
        }
    }
}
