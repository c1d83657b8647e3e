//! Vectorized transcendental functions. Each states its error against the exactly rounded result,
//! as measured by `npm run accuracy` over every float32 in the stated range (see README).
use crate::vector::{madd, opaque_splat};
use core::arch::wasm32::*;

const LOG2E: f32 = core::f32::consts::LOG2_E;
// ln 2 split for Cody–Waite reduction: LN2_HI has 9 significant bits, so n·LN2_HI is exact for |n| < 2^15.
const LN2_HI: f32 = 0.693_359_375;
const LN2_LO: f32 = -2.121_944_4e-4;
// Below this exp underflows to 0 even as a subnormal; above EXP_HI it overflows to +Inf.
const EXP_LO: f32 = -104.0;
const EXP_HI: f32 = 89.0;
const ROUND_MAGIC: f32 = 12_582_912.0;

/// `exp(x)`, ≤ 1 ulp for normal results, correct through the subnormal range; exp(NaN) = NaN,
/// exp(+Inf) = +Inf, exp(-Inf) = +0.
///
/// x = n·ln2 + r with |r| ≤ ln2/2, exp(r) by the Cephes degree-7 minimax polynomial, and 2^n applied
/// in two halves so that n ∈ [-150, 128] (subnormal and overflowing results) scales without a branch.
///
/// The constants are built once, opaque (see `opaque_splat`), and held by the value: inline
/// `v128.const`s would be re-materialized by V8 in every loop iteration, four x64 instructions each.
#[derive(Clone, Copy)]
pub struct Exp {
    lo: v128,
    hi: v128,
    log2e: v128,
    magic: v128,
    neg_ln2_hi: v128,
    neg_ln2_lo: v128,
    poly: [v128; 6],
    one: v128,
}

impl Exp {
    #[inline(always)]
    pub fn new() -> Self {
        Exp {
            lo: opaque_splat(EXP_LO),
            hi: opaque_splat(EXP_HI),
            log2e: opaque_splat(LOG2E),
            magic: opaque_splat(ROUND_MAGIC),
            neg_ln2_hi: opaque_splat(-LN2_HI),
            neg_ln2_lo: opaque_splat(-LN2_LO),
            poly: [
                opaque_splat(1.987_569_15e-4),
                opaque_splat(1.398_199_950_7e-3),
                opaque_splat(8.333_451_907_3e-3),
                opaque_splat(4.166_579_589_4e-2),
                opaque_splat(1.666_666_545_9e-1),
                opaque_splat(5.000_000_120_1e-1),
            ],
            one: opaque_splat(1.0),
        }
    }

    #[inline(always)]
    pub fn eval(&self, x: v128) -> v128 {
        // The clamp may turn NaN into a bound (the relaxed build makes pmin/pmax relaxed_min/max);
        // NaN lanes are restored at the end.
        let nan = f32x4_ne(x, x);
        let x = f32x4_pmax(f32x4_pmin(x, self.hi), self.lo);
        // Adding 1.5·2^23 rounds x·log2e to an integer n held in the low mantissa bits of `t`: n as
        // a float is t - 1.5·2^23, and as an integer the bit difference (V8 lowers nearest +
        // trunc_sat to about ten x64 instructions; this is two).
        let t = madd(x, self.log2e, self.magic);
        let n = f32x4_sub(t, self.magic);
        let r = madd(n, self.neg_ln2_lo, madd(n, self.neg_ln2_hi, x));
        let [c0, c1, c2, c3, c4, c5] = self.poly;
        let mut p = madd(c0, r, c1);
        p = madd(p, r, c2);
        p = madd(p, r, c3);
        p = madd(p, r, c4);
        p = madd(p, r, c5);
        p = madd(p, f32x4_mul(r, r), f32x4_add(r, self.one));
        let ni = i32x4_sub(t, self.magic);
        let n1 = i32x4_shr(ni, 1);
        let n2 = i32x4_sub(ni, n1);
        // 2^k as a float: k + 127 in the exponent field, i.e. (k << 23) + bits(1.0).
        let s1 = i32x4_add(i32x4_shl(n1, 23), self.one);
        let s2 = i32x4_add(i32x4_shl(n2, 23), self.one);
        v128_or(f32x4_mul(f32x4_mul(p, s1), s2), nan)
    }
}

/// `1 / (1 + exp(-x))`, computed from e = exp(-|x|) ∈ (0, 1] as 1/(1+e) or e/(1+e), so that
/// neither side cancels. ≤ 3 ulp; sigmoid(NaN) = NaN, sigmoid(±Inf) = 1 / +0.
#[derive(Clone, Copy)]
pub struct Sigmoid {
    exp: Exp,
    zero: v128,
}

impl Sigmoid {
    #[inline(always)]
    pub fn new() -> Self {
        Sigmoid { exp: Exp::new(), zero: opaque_splat(0.0) }
    }

    #[inline(always)]
    pub fn eval(&self, x: v128) -> v128 {
        let e = self.exp.eval(f32x4_neg(f32x4_abs(x)));
        let one = self.exp.one;
        let num = v128_bitselect(one, e, f32x4_ge(x, self.zero));
        f32x4_div(num, f32x4_add(one, e))
    }
}

// tanh changes formula at this |x|: below it the odd polynomial, above it 1 - 2/(exp(2|x|)+1).
const TANH_POLY_LIMIT: f32 = 0.625;

/// `tanh(x)`: for |x| < 0.625 the Cephes odd minimax polynomial (no cancellation near 0, exact
/// for tiny and subnormal x), above it 1 - 2/(exp(2|x|)+1) with x's sign. ≤ 1 ulp;
/// tanh(NaN) = NaN, tanh(±Inf) = ±1, tanh(-0) = -0.
#[derive(Clone, Copy)]
pub struct Tanh {
    exp: Exp,
    poly: [v128; 5],
    two: v128,
    limit: v128,
    sign: v128,
}

impl Tanh {
    #[inline(always)]
    pub fn new() -> Self {
        Tanh {
            exp: Exp::new(),
            poly: [
                opaque_splat(-5.704_988_727_45e-3),
                opaque_splat(2.063_908_879_54e-2),
                opaque_splat(-5.373_971_555_31e-2),
                opaque_splat(1.333_144_220_36e-1),
                opaque_splat(-3.333_328_194_22e-1),
            ],
            two: opaque_splat(2.0),
            limit: opaque_splat(TANH_POLY_LIMIT),
            sign: opaque_splat(-0.0),
        }
    }

    #[inline(always)]
    pub fn eval(&self, x: v128) -> v128 {
        let ax = f32x4_abs(x);
        let z = f32x4_mul(x, x);
        let [c0, c1, c2, c3, c4] = self.poly;
        let mut p = madd(c0, z, c1);
        p = madd(p, z, c2);
        p = madd(p, z, c3);
        p = madd(p, z, c4);
        // Both branches compute |tanh x| from |x|; x's sign is applied once at the end, which also
        // keeps tanh(-0) = -0 (the polynomial in x would round -0 + +0 to +0).
        let small = madd(f32x4_mul(p, z), ax, ax);
        let one = self.exp.one;
        let e = self.exp.eval(f32x4_add(ax, ax));
        let large = f32x4_sub(one, f32x4_div(self.two, f32x4_add(e, one)));
        let magnitude = v128_bitselect(small, large, f32x4_lt(ax, self.limit));
        v128_or(magnitude, v128_and(x, self.sign))
    }
}
