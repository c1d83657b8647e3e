//! Activation functions: the elementwise ones (`elementwise`) as `Activation` values that
//! `simdnet_activate` streams over a buffer and the dense kernel applies to its tile before the
//! store; the row-wise ones (`rowwise`) over the last axis.
mod elementwise;
mod rowwise;

pub use crate::math::{Sigmoid, Tanh};
pub use elementwise::*;
pub use rowwise::{keeps_width, rowwise, scratch_len as rowwise_scratch_len, simdnet_prelu, simdnet_prelu_backward, simdnet_rowwise_backward};

use crate::simd::*;

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
    /// One slope per position of the last axis, passed by pointer (`simdnet_prelu`, and dense layers).
    pub const PRELU: u32 = 69;
}

/// Calls `f` with the elementwise activation named by `code` and its parameters `p`, and returns
/// true; false (without calling `f`) for row-wise and unknown codes. Every exported entry point
/// goes through here, so each activation's constructor (its coefficient tables) is compiled once.
#[inline(never)]
pub fn with_activation(code: u32, p: [f32; 3], f: &mut dyn FnMut(&dyn ActivationLoops)) -> bool {
    use code::*;
    let act: &dyn ActivationLoops = match code {
        LINEAR => &Linear,
        RELU => &Relu::new(),
        LEAKY_RELU => &LeakyRelu::new(p[0]),
        SIGMOID => &Sigmoid::new(),
        TANH => &Tanh::new(),
        RELU_GENERAL => &ReluGeneral::new(p[0], p[1], p[2]),
        RELU6 => &Relu6::new(),
        ELU => &Elu::new(p[0], p[1], p[2]),
        EXPONENTIAL => &Exponential::new(),
        GELU => &Gelu::new(),
        GELU_TANH => &GeluTanh::new(),
        HARD_SIGMOID => &HardSigmoid::<false>::new(p[0], p[1]),
        HARD_SILU => &HardSigmoid::<true>::new(p[0], p[1]),
        HARD_TANH => &Clip::new(p[0], p[1]),
        HARD_SHRINK => &Shrink::<false>::new(p[0]),
        SOFT_SHRINK => &Shrink::<true>::new(p[0]),
        LOG_SIGMOID => &LogSigmoid::new(),
        MISH => &Mish::new(),
        SWISH => &Swish::new(p[0]),
        SOFTPLUS => &Softplus::new(p[0], p[1]),
        SOFTSIGN => &Softsign::new(),
        SPARSE_PLUS => &Sparse::<true>::new(),
        SPARSE_SIGMOID => &Sparse::<false>::new(),
        SQUAREPLUS => &Squareplus::new(p[0]),
        TANH_SHRINK => &TanhShrink::new(),
        THRESHOLD => &Threshold::new(p[0], p[1]),
        _ => return false,
    };
    f(act);
    true
}

/// An activation's loops over vectors in memory. Every caller — `simdnet_activate`, the dense
/// kernel's store (once per tile), `simdnet_activate_backward` — goes through `&dyn`, so that each
/// function's `apply` and `grad` are compiled once, into these two loops, not once per caller.
pub trait ActivationLoops {
    /// `dst[i] = f(src[i])` for `i < n` vectors; `dst` may equal `src`.
    unsafe fn apply_vectors(&self, src: *const v128, dst: *mut v128, n: usize);
    /// `dx[i] = dy[i]·f'(x[i])` for `i < n` vectors, NaN where x is NaN; `dx` may equal `x` or `dy`.
    unsafe fn grad_vectors(&self, x: *const v128, dy: *const v128, dx: *mut v128, n: usize);
}

impl<A: Activation> ActivationLoops for A {
    #[inline(never)]
    unsafe fn apply_vectors(&self, src: *const v128, dst: *mut v128, n: usize) {
        unsafe { map_vectors(src, dst, n, |v| self.apply(v)) }
    }

    #[inline(never)]
    unsafe fn grad_vectors(&self, x: *const v128, dy: *const v128, dx: *mut v128, n: usize) {
        unsafe { zip_vectors(x, dy, dx, n, |v, g| f32x4_mul(g, keep_nan(v, self.grad(v)))) }
    }
}

/// `y[i] = act(x[i])` for `i < n`; `y` may equal `x` (in place) but must not overlap it otherwise.
/// Returns 0, or 1 for an unknown or row-wise code (nothing written).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn simdnet_activate(code: u32, p0: f32, p1: f32, p2: f32, x: *const f32, n: usize, y: *mut f32) -> u32 {
    let done = with_activation(code, [p0, p1, p2], &mut |act| unsafe { activate(act, x, n, y) });
    !done as u32
}

unsafe fn activate(act: &dyn ActivationLoops, x: *const f32, n: usize, y: *mut f32) {
    let full = n / LANES;
    unsafe { act.apply_vectors(x as *const v128, y as *mut v128, full) };
    let (done, rest) = (full * LANES, n % LANES);
    if rest > 0 {
        let mut v = unsafe { load_partial(x.add(done), rest, 0.0) };
        unsafe { act.apply_vectors(&v, &mut v, 1) };
        unsafe { store_partial(y.add(done), rest, v) };
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
    let done = with_activation(code, [p0, p1, p2], &mut |act| unsafe { activate_backward(act, x, dy, n, dx) });
    !done as u32
}

unsafe fn activate_backward(act: &dyn ActivationLoops, x: *const f32, dy: *const f32, n: usize, dx: *mut f32) {
    let full = n / LANES;
    unsafe { act.grad_vectors(x as *const v128, dy as *const v128, dx as *mut v128, full) };
    let (done, rest) = (full * LANES, n % LANES);
    if rest > 0 {
        let (v, g) = unsafe { (load_partial(x.add(done), rest, 0.0), load_partial(dy.add(done), rest, 0.0)) };
        let mut d = g;
        unsafe { act.grad_vectors(&v, &g, &mut d, 1) };
        unsafe { store_partial(dx.add(done), rest, d) };
    }
}
