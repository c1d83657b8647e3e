//! The register-blocked micro-kernel: an `MR × NR` tile of Y held in `MR · NR/4` vector accumulators.
//!
//! 4×8 keeps 8 accumulators + 2 weight vectors + 1 broadcast live: V8 on x64 allocates xmm0–xmm14
//! only, and larger tiles spill. The bias row of the packed panel initialises the accumulators.
use super::packing::panel_len;
use crate::activation::Activation;
use crate::vector::{madd, store_partial};
use core::arch::wasm32::*;

pub const MR: usize = 4;
pub const NR: usize = 8;

#[derive(Clone, Copy)]
pub struct Shape {
    pub inputs: usize,
    pub outputs: usize,
}

/// One `ROWS × NR` tile (`ROWS ≤ MR`): rows `x[r·inputs ..]`, one packed panel, `cols ≤ NR` outputs
/// stored at `y[r·outputs ..]`.
#[inline(always)]
unsafe fn tile<A: Activation, const ROWS: usize>(
    act: A, x: *const f32, shape: Shape, panel: *const f32, y: *mut f32, cols: usize,
) {
    let mut acc = [[f32x4_splat(0.0); 2]; ROWS];
    let bias = unsafe { [v128_load(panel as *const v128), v128_load(panel.add(4) as *const v128)] };
    for row in acc.iter_mut() {
        *row = bias;
    }
    let mut rows = [x; ROWS];
    for (r, p) in rows.iter_mut().enumerate() {
        *p = unsafe { x.add(r * shape.inputs) };
    }
    let mut w = unsafe { panel.add(NR) };
    for _ in 0..shape.inputs {
        let w0 = unsafe { v128_load(w as *const v128) };
        let w1 = unsafe { v128_load(w.add(4) as *const v128) };
        for r in 0..ROWS {
            let a = unsafe { v128_load32_splat(rows[r] as *const u32) };
            acc[r][0] = madd(a, w0, acc[r][0]);
            acc[r][1] = madd(a, w1, acc[r][1]);
            rows[r] = unsafe { rows[r].add(1) };
        }
        w = unsafe { w.add(NR) };
    }
    for r in 0..ROWS {
        let out = unsafe { y.add(r * shape.outputs) };
        let lo = act.apply(acc[r][0]);
        let hi = act.apply(acc[r][1]);
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
}

/// `y = act(x · W + b)` over all tiles: panels outermost so that one panel (≤ (inputs+1)·32 bytes)
/// stays in L1 while the row blocks of x stream past it.
pub unsafe fn gemm<A: Activation>(act: A, x: *const f32, batch: usize, shape: Shape, packed: *const f32, y: *mut f32) {
    let full_rows = batch - batch % MR;
    let panel_stride = panel_len(shape.inputs);
    let mut col = 0;
    let mut panel = packed;
    while col < shape.outputs {
        let cols = (shape.outputs - col).min(NR);
        let mut r = 0;
        while r < full_rows {
            unsafe { tile::<A, MR>(act, x.add(r * shape.inputs), shape, panel, y.add(r * shape.outputs + col), cols) };
            r += MR;
        }
        let (xr, yr) = unsafe { (x.add(r * shape.inputs), y.add(r * shape.outputs + col)) };
        unsafe {
            match batch - r {
                1 => tile::<A, 1>(act, xr, shape, panel, yr, cols),
                2 => tile::<A, 2>(act, xr, shape, panel, yr, cols),
                3 => tile::<A, 3>(act, xr, shape, panel, yr, cols),
                _ => {}
            }
        }
        col += NR;
        panel = unsafe { panel.add(panel_stride) };
    }
}
