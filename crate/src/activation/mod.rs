//! Activation functions: the elementwise ones (`elementwise`) as `Activation` values that
//! `simdnet_activate` streams over a buffer and the dense kernel applies to its tile before the
//! store; the row-wise ones (`rowwise`) over the last axis.
mod elementwise;
mod rowwise;

pub use crate::math::{Sigmoid, Tanh};
pub use elementwise::*;
pub use rowwise::{rowwise, scratch_len as rowwise_scratch_len};

use crate::vector::{LANES, keep_nan, load_partial, store_partial};
use core::arch::wasm32::*;

/// An elementwise activation applied to four lanes at a time, and its derivative.
pub trait Activation: Copy {
    fn apply(&self, v: v128) -> v128;
    /// f'(x), for the backward pass dx = dy·f'(x). At a kink, the one-sided value the frameworks
    /// use (relu'(0) = 0).
    fn grad(&self, x: v128) -> v128;
}

/// The activation codes of the exported ABI (mirrored in ts/abi.ts). Parameters travel as three
/// floats `p`, whose meaning each code documents.
pub mod code {
    pub const LINEAR: u32 = 0;
    pub const RELU: u32 = 1;
    /// p: negative slope.
    pub const LEAKY_RELU: u32 = 2;
    pub const SIGMOID: u32 = 3;
    pub const TANH: u32 = 4;
    /// p: negative slope, max value (+Inf: none), threshold.
    pub const RELU_GENERAL: u32 = 5;
    pub const RELU6: u32 = 6;
    /// p: alpha, scale, divisor (elu: α, 1, 1; selu: α, λ, 1; celu: α, 1, α).
    pub const ELU: u32 = 7;
    pub const EXPONENTIAL: u32 = 8;
    pub const GELU: u32 = 9;
    pub const GELU_TANH: u32 = 10;
    /// p: alpha, beta/alpha.
    pub const HARD_SIGMOID: u32 = 11;
    /// p: alpha, beta/alpha (x · hard_sigmoid).
    pub const HARD_SILU: u32 = 12;
    /// p: min, max.
    pub const HARD_TANH: u32 = 13;
    /// p: threshold.
    pub const HARD_SHRINK: u32 = 14;
    /// p: threshold.
    pub const SOFT_SHRINK: u32 = 15;
    pub const LOG_SIGMOID: u32 = 16;
    pub const MISH: u32 = 17;
    /// p: beta (x · sigmoid(beta·x)).
    pub const SWISH: u32 = 18;
    /// p: beta, threshold.
    pub const SOFTPLUS: u32 = 19;
    pub const SOFTSIGN: u32 = 20;
    pub const SPARSE_PLUS: u32 = 21;
    pub const SPARSE_SIGMOID: u32 = 22;
    /// p: b.
    pub const SQUAREPLUS: u32 = 23;
    pub const TANH_SHRINK: u32 = 24;
    /// p: threshold, value.
    pub const THRESHOLD: u32 = 25;
    /// Row-wise codes start here.
    pub const SOFTMAX: u32 = 64;
    pub const LOG_SOFTMAX: u32 = 65;
    pub const SOFTMIN: u32 = 66;
    pub const SPARSEMAX: u32 = 67;
    pub const GLU: u32 = 68;
}

/// Runs `$body` with `$act` bound to the elementwise activation named by `$code` with parameters
/// `$p` ([f32; 3]), monomorphizing the body per activation so that the choice is made once per
/// call, never per element. Row-wise and unknown codes run `$other`.
#[rustfmt::skip]
macro_rules! with_activation {
    ($code:expr, $p:expr, |$act:ident| $body:expr, else $other:expr) => {{
        use $crate::activation::code::*;
        use $crate::activation::*;
        let p: [f32; 3] = $p;
        with_activation!(@match $code, $act, $body, $other;
            LINEAR => Linear,
            RELU => Relu::new(),
            LEAKY_RELU => LeakyRelu::new(p[0]),
            SIGMOID => Sigmoid::new(),
            TANH => Tanh::new(),
            RELU_GENERAL => ReluGeneral::new(p[0], p[1], p[2]),
            RELU6 => Relu6::new(),
            ELU => Elu::new(p[0], p[1], p[2]),
            EXPONENTIAL => Exponential::new(),
            GELU => Gelu::new(),
            GELU_TANH => GeluTanh::new(),
            HARD_SIGMOID => HardSigmoid::<false>::new(p[0], p[1]),
            HARD_SILU => HardSigmoid::<true>::new(p[0], p[1]),
            HARD_TANH => Clip::new(p[0], p[1]),
            HARD_SHRINK => Shrink::<false>::new(p[0]),
            SOFT_SHRINK => Shrink::<true>::new(p[0]),
            LOG_SIGMOID => LogSigmoid::new(),
            MISH => Mish::new(),
            SWISH => Swish::new(p[0]),
            SOFTPLUS => Softplus::new(p[0], p[1]),
            SOFTSIGN => Softsign::new(),
            SPARSE_PLUS => Sparse::<true>::new(),
            SPARSE_SIGMOID => Sparse::<false>::new(),
            SQUAREPLUS => Squareplus::new(p[0]),
            TANH_SHRINK => TanhShrink::new(),
            THRESHOLD => Threshold::new(p[0], p[1]),
        )
    }};
    (@match $code:expr, $act:ident, $body:expr, $other:expr; $($name:ident => $make:expr,)*) => {
        match $code {
            $($name => { let $act = $make; $body })*
            _ => $other,
        }
    };
}
pub(crate) use with_activation;

#[inline(always)]
unsafe fn map<A: Activation>(act: &A, x: *const f32, n: usize, y: *mut f32) {
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
pub unsafe extern "C" fn simdnet_activate(code: u32, p0: f32, p1: f32, p2: f32, x: *const f32, n: usize, y: *mut f32) -> u32 {
    with_activation!(code, [p0, p1, p2], |act| { unsafe { map(&act, x, n, y) }; 0 }, else 1)
}

#[inline(always)]
unsafe fn map_backward<A: Activation>(act: &A, x: *const f32, dy: *const f32, n: usize, dx: *mut f32) {
    let full = n - n % LANES;
    let mut i = 0;
    while i < full {
        unsafe {
            let v = v128_load(x.add(i) as *const v128);
            v128_store(dx.add(i) as *mut v128, f32x4_mul(v128_load(dy.add(i) as *const v128), keep_nan(v, act.grad(v))));
        }
        i += LANES;
    }
    if i < n {
        let v = unsafe { load_partial(x.add(i), n - i, 0.0) };
        unsafe { store_partial(dx.add(i), n - i, f32x4_mul(load_partial(dy.add(i), n - i, 0.0), keep_nan(v, act.grad(v)))) };
    }
}

/// The backward pass `dx[i] = dy[i]·f'(x[i])` (NaN where x is NaN); `dx` may equal `x` or `dy`. Returns 0, or 1 for an
/// unknown or row-wise code (nothing written).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn simdnet_activate_backward(
    code: u32,
    p0: f32,
    p1: f32,
    p2: f32,
    x: *const f32,
    dy: *const f32,
    n: usize,
    dx: *mut f32,
) -> u32 {
    with_activation!(code, [p0, p1, p2], |act| { unsafe { map_backward(&act, x, dy, n, dx) }; 0 }, else 1)
}

/// The activation as the dense kernel sees it: applied to a finished tile of accumulators. Dynamic
/// dispatch here (once per tile, not per element) keeps a single copy of the micro-kernel instead
/// of one per activation.
pub trait Epilogue {
    fn apply(&self, tile: &mut [v128]);
}

impl<A: Activation> Epilogue for A {
    #[inline(never)]
    fn apply(&self, tile: &mut [v128]) {
        for v in tile.iter_mut() {
            *v = Activation::apply(self, *v);
        }
    }
}
