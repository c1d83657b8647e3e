//! Row-wise activations over the last axis: softmax, log_softmax, softmin, sparsemax, glu.
use crate::abi::code;
use crate::math::{Exp, Log1p, Sigmoid, pow2};
use crate::simd::*;

/// Calls `f` on each full vector of the row and on the partial tail (padded with `fill`), with the
/// element offset and the lane count.
#[inline(always)]
unsafe fn for_vectors(x: *const f32, n: usize, fill: f32, mut f: impl FnMut(usize, usize, v128)) {
    let full = n - n % LANES;
    let mut i = 0;
    while i < full {
        f(i, LANES, unsafe { v128_load(x.add(i) as *const v128) });
        i += LANES;
    }
    if i < n {
        f(i, n - i, unsafe { load_partial(x.add(i), n - i, fill) });
    }
}

/// The `lanes` floats at `p` (a full vector or a partial tail, padded with 0).
#[inline(always)]
unsafe fn load(p: *const f32, lanes: usize) -> v128 {
    unsafe { if lanes == LANES { v128_load(p as *const v128) } else { load_partial(p, lanes, 0.0) } }
}

#[inline(always)]
unsafe fn store(y: *mut f32, i: usize, lanes: usize, v: v128) {
    unsafe {
        if lanes == LANES {
            v128_store(y.add(i) as *mut v128, v);
        } else {
            store_partial(y.add(i), lanes, v);
        }
    }
}

#[inline(always)]
fn horizontal_max(v: v128) -> f32 {
    let m = f32x4_pmax(v, i32x4_shuffle::<2, 3, 0, 1>(v, v));
    let m = f32x4_pmax(m, i32x4_shuffle::<1, 0, 3, 2>(m, m));
    f32x4_extract_lane::<0>(m)
}

#[inline(always)]
fn horizontal_sum(v: v128) -> f32 {
    let s = f32x4_add(v, i32x4_shuffle::<2, 3, 0, 1>(v, v));
    let s = f32x4_add(s, i32x4_shuffle::<1, 0, 3, 2>(s, s));
    f32x4_extract_lane::<0>(s)
}

/// max over the row of `sign·x` (n > 0), NaN if any element is NaN. pmax drops a NaN operand, so
/// NaN is tracked separately.
unsafe fn signed_max(x: *const f32, n: usize, sign: v128) -> f32 {
    let first = f32x4_mul(sign, unsafe { f32x4_splat(*x) });
    let mut max = first;
    let mut nan = f32x4_splat(0.0);
    unsafe {
        for_vectors(x, n, *x, |_, _, v| {
            let v = f32x4_mul(sign, v);
            nan = v128_or(nan, f32x4_ne(v, v));
            max = f32x4_pmax(max, v);
        })
    };
    if v128_any_true(nan) { f32::NAN } else { horizontal_max(max) }
}

/// ln(s) for s ≥ 1 (a sum of exponentials whose largest term is 1): s = m·2^e, m ∈ [1, 2),
/// ln s = e·ln2 + log1p(m - 1).
fn ln_at_least_one(s: f32, log1p: &Log1p) -> f32 {
    if !s.is_finite() {
        return s;
    }
    let bits = s.to_bits();
    let e = ((bits >> 23) as i32 - 127) as f32;
    let m = f32::from_bits((bits & 0x007f_ffff) | 0x3f80_0000);
    f32x4_extract_lane::<0>(log1p.eval(f32x4_splat(m - 1.0))) + e * core::f32::consts::LN_2
}

/// softmax (sign 1) / softmin (sign -1) of one row of n > 0 floats, or their logarithms: with
/// z = sign·x - max, exp(z) / Σ exp(z), or z - ln Σ exp(z). A NaN anywhere makes the row NaN;
/// so does +Inf (Inf - Inf), as in the reference formula. `y` may equal `x`.
unsafe fn softmax_row<const LOG: bool>(x: *const f32, n: usize, y: *mut f32, sign: v128, exp: &Exp, log1p: &Log1p) {
    let max = f32x4_splat(unsafe { signed_max(x, n, sign) });
    let mut sum = f32x4_splat(0.0);
    // Padding with -Inf makes the padded lanes exp(-Inf) = 0, neutral in the sum (for softmin the
    // sign turns the padding to +Inf, so it pads with +Inf).
    let fill = f32x4_extract_lane::<0>(sign) * f32::NEG_INFINITY;
    unsafe {
        for_vectors(x, n, fill, |i, lanes, v| {
            let e = exp.eval(f32x4_sub(f32x4_mul(sign, v), max));
            if !LOG {
                store(y, i, lanes, e);
            }
            sum = f32x4_add(sum, e);
        })
    };
    let sum = horizontal_sum(sum);
    if LOG {
        // (z - max) - ln Σ rather than z - (max + ln Σ): the latter rounds ln Σ to max's ulp.
        let lse = f32x4_splat(ln_at_least_one(sum, log1p));
        unsafe { for_vectors(x, n, 0.0, |i, lanes, v| store(y, i, lanes, f32x4_sub(f32x4_sub(f32x4_mul(sign, v), max), lse))) };
    } else {
        let scale = f32x4_splat(1.0 / sum);
        unsafe { for_vectors(y, n, 0.0, |i, lanes, v| store(y, i, lanes, f32x4_mul(v, scale))) };
    }
}

/// sparsemax of one row (Martins & Astudillo 2016): the projection of x onto the simplex,
/// max(x - τ, 0) with τ from the sorted row. `sorted` is scratch for n floats. A NaN or +Inf makes the
/// row NaN.
unsafe fn sparsemax_row(x: *const f32, n: usize, y: *mut f32, sorted: *mut f32) {
    let row = unsafe { core::slice::from_raw_parts_mut(sorted, n) };
    unsafe { core::ptr::copy_nonoverlapping(x, sorted, n) };
    // NaN, and +Inf (no support: Σ z_j - k·z_k is NaN for every k), make the row NaN, as for softmax.
    if row.iter().any(|v| !(*v < f32::INFINITY)) {
        unsafe { core::slice::from_raw_parts_mut(y, n) }.fill(f32::NAN);
        return;
    }
    sort_descending(row);
    // The support is the largest k with Σ_{j≤k} z_j - k·z_k < 1. The sums run in f64 (rows are short
    // and this is not the hot loop); the test is not written 1 + k·z_k > Σ, whose 1 is absorbed
    // from |z| ≈ 2^53 on (for a row led by FLT_MAX no k would pass).
    let (mut cumulative, mut support_sum, mut k) = (0.0f64, 0.0f64, 0.0f64);
    for (j, &z) in row.iter().enumerate() {
        cumulative += z as f64;
        let count = (j + 1) as f64;
        if cumulative - count * (z as f64) < 1.0 {
            k = count;
            support_sum = cumulative;
        }
    }
    // max(x - τ, 0) with τ = (S - 1)/k, as ((k·x - S) + 1)/k: k·x is exact and k·x - S is where x
    // is near τ, so the 1 survives even next to ±FLT_MAX, where τ itself would round it away.
    for i in 0..n {
        let v = unsafe { *x.add(i) } as f64;
        unsafe { *y.add(i) = ((k * v - support_sum + 1.0) / k).max(0.0) as f32 };
    }
}

/// Heapsort, largest first, of a row without NaN. core's `sort_unstable` would add more code to
/// every build than all the row-wise kernels together, for a function that is rarely hot.
fn sort_descending(v: &mut [f32]) {
    // A min-heap: each step moves the smallest left to the end of the unsorted part.
    let sift_down = |v: &mut [f32], mut root: usize, end: usize| loop {
        let mut child = 2 * root + 1;
        if child >= end {
            break;
        }
        if child + 1 < end && v[child + 1] < v[child] {
            child += 1;
        }
        if v[root] <= v[child] {
            break;
        }
        v.swap(root, child);
        root = child;
    };
    let n = v.len();
    for root in (0..n / 2).rev() {
        sift_down(v, root, n);
    }
    for end in (1..n).rev() {
        v.swap(0, end);
        sift_down(v, 0, end);
    }
}

/// glu of one row of 2h floats into h: a·sigmoid(b) for the halves a, b.
unsafe fn glu_row(x: *const f32, h: usize, y: *mut f32, sigmoid: &Sigmoid) {
    let b = unsafe { x.add(h) };
    unsafe {
        for_vectors(x, h, 0.0, |i, lanes, a| {
            let gate = sigmoid.eval(load(b.add(i), lanes));
            store(y, i, lanes, f32x4_mul(a, gate));
        })
    };
}

/// Floats of scratch `rowwise` needs for rows of `cols`.
pub fn scratch_len(code: u32, cols: usize) -> usize {
    if code == code::SPARSEMAX { cols } else { 0 }
}

/// Whether `code` is a row-wise activation these kernels can apply to rows of `cols` (glu halves
/// them, so they must be even).
fn applies(code: u32, cols: usize) -> bool {
    keeps_width(code) || (code == code::GLU && cols % 2 == 0)
}

/// The row-wise activations whose output row is as wide as the input: those a dense layer can apply.
pub fn keeps_width(code: u32) -> bool {
    matches!(code, code::SOFTMAX | code::LOG_SOFTMAX | code::SOFTMIN | code::SPARSEMAX)
}

/// Applies row-wise activation `code` to `rows` rows of `cols` floats. glu writes rows of cols/2
/// (cols must be even). `y` may equal `x`. Returns 0, or 1 for an unknown code or an odd glu width.
pub unsafe fn rowwise(code: u32, x: *const f32, rows: usize, cols: usize, y: *mut f32, scratch: *mut f32) -> u32 {
    if !applies(code, cols) {
        return 1;
    }
    if cols == 0 {
        return 0;
    }
    let (exp, log1p, sigmoid) = (Exp::new(), Log1p::new(), Sigmoid::new());
    let (plus, minus) = (f32x4_splat(1.0), f32x4_splat(-1.0));
    for r in 0..rows {
        let (xr, yr) = unsafe { (x.add(r * cols), y.add(r * cols)) };
        unsafe {
            match code {
                code::SOFTMAX => softmax_row::<false>(xr, cols, yr, plus, &exp, &log1p),
                code::LOG_SOFTMAX => softmax_row::<true>(xr, cols, yr, plus, &exp, &log1p),
                code::SOFTMIN => softmax_row::<false>(xr, cols, yr, minus, &exp, &log1p),
                code::SPARSEMAX => sparsemax_row(xr, cols, yr, scratch),
                code::GLU => glu_row(xr, cols / 2, y.add(r * cols / 2), &sigmoid),
                _ => unreachable!(),
            }
        }
    }
    0
}

/// A power of two s ≤ 1/(2n) and 1/s, for the backward passes over rows of n: they sum the row's
/// gradients scaled by s, so that neither the sums (|Σ s·dy| ≤ max|dy|/2) nor the differences
/// s·dy - Σ overflow where the result does not; scaling by s and back is exact (the same bits) unless
/// s·dy, or its product with y, is subnormal.
fn gradient_scale(n: usize) -> (v128, v128) {
    let e = (usize::BITS - (2 * n - 1).leading_zeros()) as i32;
    (f32x4_splat(pow2(-e)), f32x4_splat(pow2(e)))
}

/// The backward pass of softmax (sign 1), softmin (sign -1) and log_softmax over one row, from x and
/// dy: with y = softmax(sign·x), dx = sign·y·(dy - Σ dy·y) and, for log_softmax, dx = dy - y·Σ dy.
/// `dx` may equal `x`, not `dy`.
unsafe fn softmax_backward_row<const LOG: bool>(
    x: *const f32,
    dy: *const f32,
    n: usize,
    dx: *mut f32,
    sign: v128,
    exp: &Exp,
    log1p: &Log1p,
) {
    unsafe { softmax_row::<false>(x, n, dx, sign, exp, log1p) };
    let (down, up) = gradient_scale(n);
    let mut dot = f32x4_splat(0.0);
    let mut total = f32x4_splat(0.0);
    unsafe {
        for_vectors(dx, n, 0.0, |i, lanes, y| {
            let g = f32x4_mul(load(dy.add(i), lanes), down);
            dot = f32x4_add(dot, f32x4_mul(g, y));
            total = f32x4_add(total, g);
        })
    };
    let (dot, total) = (f32x4_splat(horizontal_sum(dot)), f32x4_splat(horizontal_sum(total)));
    unsafe {
        for_vectors(dx, n, 0.0, |i, lanes, y| {
            let g = f32x4_mul(load(dy.add(i), lanes), down);
            let d = if LOG { f32x4_sub(g, f32x4_mul(y, total)) } else { f32x4_mul(sign, f32x4_mul(y, f32x4_sub(g, dot))) };
            store(dx, i, lanes, f32x4_mul(d, up));
        })
    };
}

/// sparsemax's backward pass over one row: with y = sparsemax(x) and S its support (y > 0),
/// dx = y > 0 ? dy - mean of dy over S : 0. `dx` may equal `x`, not `dy`; `sorted` as for sparsemax.
unsafe fn sparsemax_backward_row(x: *const f32, dy: *const f32, n: usize, dx: *mut f32, sorted: *mut f32) {
    unsafe { sparsemax_row(x, n, dx, sorted) };
    let zero = f32x4_splat(0.0);
    let (down, up) = gradient_scale(n);
    let (mut sum, mut count) = (f32x4_splat(0.0), f32x4_splat(0.0));
    let ones = f32x4_splat(1.0);
    unsafe {
        for_vectors(dx, n, 0.0, |i, lanes, y| {
            let g = f32x4_mul(load(dy.add(i), lanes), down);
            let inside = f32x4_gt(y, zero);
            sum = f32x4_add(sum, v128_and(g, inside));
            count = f32x4_add(count, v128_and(ones, inside));
        })
    };
    let mean = f32x4_splat(horizontal_sum(sum) / horizontal_sum(count));
    unsafe {
        for_vectors(dx, n, 0.0, |i, lanes, y| {
            let g = f32x4_mul(load(dy.add(i), lanes), down);
            // A NaN row stays NaN (y is NaN there, and so is the comparison's complement).
            let d = v128_bitselect(f32x4_mul(f32x4_sub(g, mean), up), zero, f32x4_gt(y, zero));
            store(dx, i, lanes, keep_nan(y, d));
        })
    };
}

/// glu's backward pass over one row of 2h inputs and h gradients: for a·σ(b),
/// da = dy·σ(b) and db = dy·a·σ(b)(1 - σ(b)). `dx` (2h floats) must not overlap `x` or `dy`.
unsafe fn glu_backward_row(x: *const f32, dy: *const f32, h: usize, dx: *mut f32, sigmoid: &Sigmoid) {
    let b = unsafe { x.add(h) };
    unsafe {
        for_vectors(x, h, 0.0, |i, lanes, a| {
            let (s, ds) = sigmoid.eval_with_slope(load(b.add(i), lanes));
            let g = load(dy.add(i), lanes);
            store(dx, i, lanes, f32x4_mul(g, s));
            // dy·(a·σ'(b)): a·σ' ≤ a/4 cannot overflow, dy·a can where the product with σ' does not.
            store(dx.add(h), i, lanes, f32x4_mul(g, f32x4_mul(a, ds)));
        })
    };
}

/// Behind `abi::simdnet_rowwise_backward`, whose doc states the contract. Inlined before LLVM's other
/// passes, as when it was the export's body: left to the late inliner, the export's instructions differ.
#[inline(always)]
pub unsafe fn rowwise_backward(code: u32, x: *const f32, dy: *const f32, rows: usize, cols: usize, dx: *mut f32, scratch: *mut f32) -> u32 {
    if !applies(code, cols) {
        return 1;
    }
    if cols == 0 {
        return 0;
    }
    let (exp, log1p, sigmoid) = (Exp::new(), Log1p::new(), Sigmoid::new());
    let sign = f32x4_splat(if code == code::SOFTMIN { -1.0 } else { 1.0 });
    for r in 0..rows {
        let at = r * cols;
        unsafe {
            match code {
                code::LOG_SOFTMAX => softmax_backward_row::<true>(x.add(at), dy.add(at), cols, dx.add(at), sign, &exp, &log1p),
                code::SPARSEMAX => sparsemax_backward_row(x.add(at), dy.add(at), cols, dx.add(at), scratch),
                code::GLU => glu_backward_row(x.add(at), dy.add(at / 2), cols / 2, dx.add(at), &sigmoid),
                _ => softmax_backward_row::<false>(x.add(at), dy.add(at), cols, dx.add(at), sign, &exp, &log1p),
            }
        }
    }
    0
}

/// Behind `abi::simdnet_prelu`, whose doc states the contract.
pub unsafe fn prelu(x: *const f32, rows: usize, cols: usize, slope: *const f32, y: *mut f32) {
    let zero = f32x4_splat(0.0);
    for r in 0..rows {
        let (xr, yr) = unsafe { (x.add(r * cols), y.add(r * cols)) };
        unsafe {
            for_vectors(xr, cols, 0.0, |i, lanes, v| {
                let s = load(slope.add(i), lanes);
                store(yr, i, lanes, v128_bitselect(v, f32x4_mul(v, s), f32x4_gt(v, zero)));
            })
        };
    }
}

/// Behind `abi::simdnet_prelu_backward`, whose doc states the contract.
pub unsafe fn prelu_backward(x: *const f32, dy: *const f32, rows: usize, cols: usize, slope: *const f32, dx: *mut f32) {
    let (zero, one) = (f32x4_splat(0.0), f32x4_splat(1.0));
    for r in 0..rows {
        let at = r * cols;
        unsafe {
            for_vectors(x.add(at), cols, 0.0, |i, lanes, v| {
                let slope_here = load(slope.add(i), lanes);
                let g = keep_nan(v, v128_bitselect(one, slope_here, f32x4_gt(v, zero)));
                store(dx.add(at), i, lanes, f32x4_mul(load(dy.add(at + i), lanes), g));
            })
        };
    }
}
