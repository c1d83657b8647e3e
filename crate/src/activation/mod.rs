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
    /// The largest |x| for which `apply_within` may be used (0: never). `apply_vectors` tests a
    /// block of inputs against it once, instead of `apply` testing each vector (not on the scalar
    /// build, which computes one float at a time).
    #[cfg_attr(not(target_feature = "simd128"), allow(dead_code))]
    #[inline(always)]
    fn within(&self) -> f32 {
        0.0
    }
    /// `apply` for inputs all within ±`within()` (or NaN): the functions built on `Exp` skip its
    /// per-vector test for arguments beyond ±87 (subnormal or overflowing results). That test and
    /// the branch it makes V8 reload its spilled constants after cost ~20% of sigmoid's loop.
    #[cfg_attr(not(target_feature = "simd128"), allow(dead_code))]
    #[inline(always)]
    fn apply_within(&self, v: v128) -> v128 {
        self.apply(v)
    }
}

/// Vectors per block whose inputs `apply_vectors` tests together: 1 KiB, so that the test's pass
/// and the kernel's pass read the same L1-resident block, and an outlier (±Inf, |x| > 87) sends
/// only its own block down the careful path.
#[cfg(target_feature = "simd128")]
const WITHIN_BLOCK: usize = 64;

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
        // The scalar build computes one float at a time, where the test would save nothing.
        #[cfg(target_feature = "simd128")]
        if self.within() > 0.0 {
            return unsafe { apply_blocks(self, src, dst, n) };
        }
        unsafe { map_vectors(src, dst, n, |v| self.apply(v)) }
    }

    #[inline(never)]
    unsafe fn grad_vectors(&self, x: *const v128, dy: *const v128, dx: *mut v128, n: usize) {
        unsafe { zip_vectors(x, dy, dx, n, |v, g| f32x4_mul(g, keep_nan(v, self.grad(v)))) }
    }
}

/// `apply_vectors` block by block: `apply_within` over the blocks whose inputs all lie within
/// ±`act.within()`, `apply` over the others.
#[cfg(target_feature = "simd128")]
#[inline(always)]
unsafe fn apply_blocks<A: Activation>(act: &A, src: *const v128, dst: *mut v128, n: usize) {
    // Opaque, so that V8 does not build the constants anew in every iteration.
    let splat_bits = |bits: u32| i32x4_splat(unsafe { core::ptr::read_volatile(&bits) } as i32);
    let (limit, magnitude) = (splat_bits(act.within().to_bits()), splat_bits(i32::MAX as u32));
    for first in (0..n).step_by(WITHIN_BLOCK) {
        let (src, dst, count) = unsafe { (src.add(first), dst.add(first), WITHIN_BLOCK.min(n - first)) };
        // |x|'s bits order as |x| does, NaN above +Inf: a block with NaN takes `apply`, which keeps it.
        let mut largest = i32x4_splat(0);
        for i in 0..count {
            largest = i32x4_max(largest, v128_and(unsafe { v128_load(src.add(i)) }, magnitude));
        }
        if i32x4_all_true(i32x4_le(largest, limit)) {
            unsafe { map_vectors(src, dst, count, |v| act.apply_within(v)) }
        } else {
            unsafe { map_vectors(src, dst, count, |v| act.apply(v)) }
        }
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
