//! Activation functions: the elementwise ones (`elementwise`) as `Activation` values that
//! `simdnet_activate` streams over a buffer and the dense kernel applies to its tile before the
//! store; the row-wise ones (`rowwise`) over the last axis.
mod elementwise;
mod rowwise;

pub use crate::math::{Sigmoid, Tanh};
pub use elementwise::*;
pub use rowwise::{keeps_width, prelu, prelu_backward, rowwise, rowwise_backward, scratch_len as rowwise_scratch_len};

use crate::abi::code;
use crate::simd::*;

/// An elementwise activation applied to four lanes at a time, and its derivative.
pub trait Activation: Copy {
    fn apply(&self, v: v128) -> v128;
    /// f'(x), for the backward pass dx = dy·f'(x). At a kink, the one-sided value the frameworks
    /// use (relu'(0) = 0).
    fn grad(&self, x: v128) -> v128;
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

/// Behind `abi::simdnet_activate`, whose doc states the contract.
pub unsafe fn activate(act: &dyn ActivationLoops, x: *const f32, n: usize, y: *mut f32) {
    let full = n / LANES;
    unsafe { act.apply_vectors(x as *const v128, y as *mut v128, full) };
    let (done, rest) = (full * LANES, n % LANES);
    if rest > 0 {
        let mut v = unsafe { load_partial(x.add(done), rest, 0.0) };
        unsafe { act.apply_vectors(&v, &mut v, 1) };
        unsafe { store_partial(y.add(done), rest, v) };
    }
}

/// Behind `abi::simdnet_activate_backward`, whose doc states the contract.
pub unsafe fn activate_backward(act: &dyn ActivationLoops, x: *const f32, dy: *const f32, n: usize, dx: *mut f32) {
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
