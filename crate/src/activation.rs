//! Activation functions: the elementwise ones as `Activation` values that the dense kernel fuses
//! into its store and that `simdnet_activate` streams over a buffer; softmax row by row.
use crate::math;
use crate::vector::{LANES, load_partial, opaque_splat, store_partial};
use core::arch::wasm32::*;

/// An elementwise activation applied to four lanes at a time.
pub trait Activation: Copy {
    fn apply(self, v: v128) -> v128;
}

#[derive(Clone, Copy)]
pub struct Linear;
impl Activation for Linear {
    #[inline(always)]
    fn apply(self, v: v128) -> v128 {
        v
    }
}

/// `x > 0 ? x : +0`, NaN kept: clears the lanes where `x <= 0` (false for NaN, true for -0).
/// Not `pmax`: the relaxed build turns it into `relaxed_max`, whose NaN result is unspecified.
#[derive(Clone, Copy)]
pub struct Relu {
    zero: v128,
}
impl Activation for Relu {
    #[inline(always)]
    fn apply(self, v: v128) -> v128 {
        v128_andnot(v, f32x4_le(v, self.zero))
    }
}

/// `x > 0 ? x : alpha·x` (any alpha, NaN kept).
#[derive(Clone, Copy)]
pub struct LeakyRelu {
    zero: v128,
    alpha: v128,
}
impl Activation for LeakyRelu {
    #[inline(always)]
    fn apply(self, v: v128) -> v128 {
        v128_bitselect(v, f32x4_mul(v, self.alpha), f32x4_gt(v, self.zero))
    }
}

pub use math::{Sigmoid, Tanh};

impl Activation for Sigmoid {
    #[inline(always)]
    fn apply(self, v: v128) -> v128 {
        self.eval(v)
    }
}

impl Activation for Tanh {
    #[inline(always)]
    fn apply(self, v: v128) -> v128 {
        self.eval(v)
    }
}

/// Activation codes of the exported ABI (mirrored in ts/abi.ts).
pub const LINEAR: u32 = 0;
pub const RELU: u32 = 1;
pub const LEAKY_RELU: u32 = 2;
pub const SIGMOID: u32 = 3;
pub const TANH: u32 = 4;
/// Row-wise: not an `Activation`; the dense kernel runs it as a pass over each finished row.
pub const SOFTMAX: u32 = 5;

/// Runs `$body` with `$act` bound to the elementwise activation named by `$code`, monomorphizing the
/// body per activation so the choice is made once per call, never per element. Softmax and unknown
/// codes run the `$other` branch.
macro_rules! with_activation {
    ($code:expr, $alpha:expr, |$act:ident| $body:expr, else $other:expr) => {{
        use $crate::activation::*;
        match $code {
            LINEAR => { let $act = Linear; $body }
            RELU => { let $act = Relu::new(); $body }
            LEAKY_RELU => { let $act = LeakyRelu::new($alpha); $body }
            SIGMOID => { let $act = Sigmoid::new(); $body }
            TANH => { let $act = Tanh::new(); $body }
            _ => $other,
        }
    }};
}
pub(crate) use with_activation;

impl Relu {
    #[inline(always)]
    pub fn new() -> Self {
        Relu { zero: opaque_splat(0.0) }
    }
}

impl LeakyRelu {
    #[inline(always)]
    pub fn new(alpha: f32) -> Self {
        LeakyRelu { zero: opaque_splat(0.0), alpha: f32x4_splat(alpha) }
    }
}

#[inline(always)]
unsafe fn map<A: Activation>(act: A, x: *const f32, n: usize, y: *mut f32) {
    let full = n - n % LANES;
    let mut i = 0;
    while i < full {
        unsafe { v128_store(y.add(i) as *mut v128, act.apply(v128_load(x.add(i) as *const v128))) };
        i += LANES;
    }
    if i < n {
        unsafe { store_partial(y.add(i), n - i, act.apply(load_partial(x.add(i), n - i, 0.0))) };
    }
}

/// `y[i] = act(x[i])` for `i < n`; `y` may equal `x` (in place) but must not overlap it otherwise.
/// Returns 0, or 1 for an unknown or row-wise code (nothing written).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn simdnet_activate(code: u32, alpha: f32, x: *const f32, n: usize, y: *mut f32) -> u32 {
    with_activation!(code, alpha, |act| { unsafe { map(act, x, n, y) }; 0 }, else 1)
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

/// Softmax of one row of `n > 0` floats: exp(x - max) / Σ exp(x - max). `y` may equal `x`.
/// A NaN anywhere makes the row NaN; so does +Inf (Inf - Inf), as in the reference formula.
pub unsafe fn softmax_row(x: *const f32, n: usize, y: *mut f32) {
    let full = n - n % LANES;
    let rest = n - full;
    // Pass 1: the max. NaN must win so that it propagates: pmax(acc, v) returns v only when
    // acc < v, so a NaN lane is sticky once it is in `acc` and is seeded from x[0].
    let first = unsafe { *x };
    let mut max = f32x4_splat(first);
    let mut nan = f32x4_ne(max, max);
    let mut i = 0;
    while i < full {
        let v = unsafe { v128_load(x.add(i) as *const v128) };
        nan = v128_or(nan, f32x4_ne(v, v));
        max = f32x4_pmax(max, v);
        i += LANES;
    }
    if rest > 0 {
        let v = unsafe { load_partial(x.add(full), rest, first) };
        nan = v128_or(nan, f32x4_ne(v, v));
        max = f32x4_pmax(max, v);
    }
    let max = if v128_any_true(nan) { f32::NAN } else { horizontal_max(max) };
    let max_v = f32x4_splat(max);
    let exp = math::Exp::new();
    // Pass 2: e = exp(x - max) into y, summed.
    let mut sum = f32x4_splat(0.0);
    i = 0;
    while i < full {
        let e = exp.eval(f32x4_sub(unsafe { v128_load(x.add(i) as *const v128) }, max_v));
        unsafe { v128_store(y.add(i) as *mut v128, e) };
        sum = f32x4_add(sum, e);
        i += LANES;
    }
    if rest > 0 {
        // Padding with -Inf makes the padded lanes exp(-Inf) = 0, neutral in the sum.
        let e = exp.eval(f32x4_sub(unsafe { load_partial(x.add(full), rest, f32::NEG_INFINITY) }, max_v));
        unsafe { store_partial(y.add(full), rest, e) };
        sum = f32x4_add(sum, e);
    }
    // Pass 3: scale by 1/sum.
    let scale = f32x4_splat(1.0 / horizontal_sum(sum));
    i = 0;
    while i < full {
        unsafe { v128_store(y.add(i) as *mut v128, f32x4_mul(v128_load(y.add(i) as *const v128), scale)) };
        i += LANES;
    }
    if rest > 0 {
        unsafe { store_partial(y.add(full), rest, f32x4_mul(load_partial(y.add(full), rest, 0.0), scale)) };
    }
}

/// Row-wise softmax over `rows` rows of `cols` floats; `y` may equal `x`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn simdnet_softmax(x: *const f32, rows: usize, cols: usize, y: *mut f32) {
    if cols == 0 {
        return;
    }
    for r in 0..rows {
        unsafe { softmax_row(x.add(r * cols), cols, y.add(r * cols)) };
    }
}
