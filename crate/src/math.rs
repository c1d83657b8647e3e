//! Vectorized transcendental functions. Each states its error against the exactly rounded result,
//! as measured by `npm run accuracy` over every float32 in the stated range (see README).
use crate::vector::madd;
use core::arch::wasm32::*;

const LOG2E: f32 = core::f32::consts::LOG2_E;
// ln 2 split for Cody–Waite reduction: LN2_HI has 9 significant bits, so n·LN2_HI is exact for |n| < 2^15.
const LN2_HI: f32 = 0.693_359_375;
const LN2_LO: f32 = -2.121_944_4e-4;
// Below this exp underflows to 0 even as a subnormal; above EXP_HI it overflows to +Inf.
const EXP_LO: f32 = -104.0;
const EXP_HI: f32 = 89.0;

/// `exp(x)`, ≤ 1 ulp for normal results, correct through the subnormal range; exp(NaN) = NaN,
/// exp(+Inf) = +Inf, exp(-Inf) = +0.
///
/// x = n·ln2 + r with |r| ≤ ln2/2, exp(r) by the Cephes degree-7 minimax polynomial, and 2^n applied
/// in two halves so that n ∈ [-150, 128] (subnormal and overflowing results) scales without a branch.
#[inline(always)]
pub fn exp(x: v128) -> v128 {
    // The clamp may turn NaN into a bound (the relaxed build makes pmin/pmax relaxed_min/max);
    // NaN lanes are restored at the end.
    let nan = f32x4_ne(x, x);
    let x = f32x4_pmax(f32x4_pmin(x, f32x4_splat(EXP_HI)), f32x4_splat(EXP_LO));
    let n = f32x4_nearest(f32x4_mul(x, f32x4_splat(LOG2E)));
    let r = madd(n, f32x4_splat(-LN2_LO), madd(n, f32x4_splat(-LN2_HI), x));
    let mut p = f32x4_splat(1.987_569_15e-4);
    p = madd(p, r, f32x4_splat(1.398_199_950_7e-3));
    p = madd(p, r, f32x4_splat(8.333_451_907_3e-3));
    p = madd(p, r, f32x4_splat(4.166_579_589_4e-2));
    p = madd(p, r, f32x4_splat(1.666_666_545_9e-1));
    p = madd(p, r, f32x4_splat(5.000_000_120_1e-1));
    p = madd(p, f32x4_mul(r, r), f32x4_add(r, f32x4_splat(1.0)));
    let ni = i32x4_trunc_sat_f32x4(n);
    let n1 = i32x4_shr(ni, 1);
    let n2 = i32x4_sub(ni, n1);
    let bias = i32x4_splat(127);
    let s1 = i32x4_shl(i32x4_add(n1, bias), 23);
    let s2 = i32x4_shl(i32x4_add(n2, bias), 23);
    v128_or(f32x4_mul(f32x4_mul(p, s1), s2), nan)
}

/// `1 / (1 + exp(-x))`, computed from e = exp(-|x|) ∈ (0, 1] as 1/(1+e) or e/(1+e), so that
/// neither side cancels. ≤ 3 ulp; sigmoid(NaN) = NaN, sigmoid(±Inf) = 1 / +0.
#[inline(always)]
pub fn sigmoid(x: v128) -> v128 {
    let e = exp(f32x4_neg(f32x4_abs(x)));
    let one = f32x4_splat(1.0);
    let num = v128_bitselect(one, e, f32x4_ge(x, f32x4_splat(0.0)));
    f32x4_div(num, f32x4_add(one, e))
}

// tanh changes formula at this |x|: below it the odd polynomial, above it 1 - 2/(exp(2|x|)+1).
const TANH_POLY_LIMIT: f32 = 0.625;

/// `tanh(x)`: for |x| < 0.625 the Cephes odd minimax polynomial (no cancellation near 0, exact
/// for tiny and subnormal x), above it 1 - 2/(exp(2|x|)+1) with x's sign. ≤ 3 ulp;
/// tanh(NaN) = NaN, tanh(±Inf) = ±1, tanh(-0) = -0.
#[inline(always)]
pub fn tanh(x: v128) -> v128 {
    let ax = f32x4_abs(x);
    let z = f32x4_mul(x, x);
    let mut p = f32x4_splat(-5.704_988_727_45e-3);
    p = madd(p, z, f32x4_splat(2.063_908_879_54e-2));
    p = madd(p, z, f32x4_splat(-5.373_971_555_31e-2));
    p = madd(p, z, f32x4_splat(1.333_144_220_36e-1));
    p = madd(p, z, f32x4_splat(-3.333_328_194_22e-1));
    // Both branches compute |tanh x| from |x|; x's sign is applied once at the end, which also
    // keeps tanh(-0) = -0 (the polynomial in x would round -0 + +0 to +0).
    let small = madd(f32x4_mul(p, z), ax, ax);
    let one = f32x4_splat(1.0);
    let e = exp(f32x4_add(ax, ax));
    let large = f32x4_sub(one, f32x4_div(f32x4_splat(2.0), f32x4_add(e, one)));
    let magnitude = v128_bitselect(small, large, f32x4_lt(ax, f32x4_splat(TANH_POLY_LIMIT)));
    v128_or(magnitude, v128_and(x, f32x4_splat(-0.0)))
}
