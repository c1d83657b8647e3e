//! Vectorized transcendental functions. Each states its error against the exactly rounded result,
//! as measured by `npm run accuracy` over every float32 in the stated range (see README).
use crate::simd::*;

const LOG2E: f32 = core::f32::consts::LOG2_E;
// ln 2 split for Cody–Waite reduction: LN2_HI has 9 significant bits, so n·LN2_HI is exact for |n| < 2^15.
const LN2_HI: f32 = 0.693_359_375;
const LN2_LO: f32 = -2.121_944_4e-4;
// Below this exp underflows to 0 even as a subnormal; above EXP_HI it overflows to +Inf.
const EXP_LO: f32 = -104.0;
const EXP_HI: f32 = 89.0;
// Within ±87, n = round(x·log2e) lies in [-126, 126], so 2^n is one normal float and exp(x) one
// normal result: the short path. Beyond it (subnormal results, overflow, ±Inf) the careful one.
pub const EXP_SHORT: f32 = 87.0;
const ROUND_MAGIC: f32 = 12_582_912.0;

/// 2^e as a float32, for e in the normal exponent range [-126, 127].
pub const fn pow2(e: i32) -> f32 {
    f32::from_bits(((127 + e) as u32) << 23)
}

/// `exp(x)`, ≤ 1 ulp for normal results, correct through the subnormal range; exp(NaN) = NaN,
/// exp(+Inf) = +Inf, exp(-Inf) = +0.
///
/// x = n·ln2 + r with |r| ≤ ln2/2, exp(r) by a degree-6 polynomial, times 2^n. The polynomial
/// (1 + r + r²·q(r), q fitted for least relative error: 3.1e-9 on [-ln2/2, ln2/2], 0.05 of a
/// half-ulp) replaced Cephes' degree 7 whose extra term bought nothing float32 can hold; with q by
/// Estrin's scheme, one fewer multiply-add, a shorter dependency chain and one fewer constant in
/// V8's 15 vector registers: sigmoid in wasm memory 0.77 → 0.91 Gelem/s (SIMD128), 0.92 → 1.17
/// (relaxed). `npm run accuracy` finds the same maximum errors as before for every function.
/// Vectors whose lanes all lie within ±87 (nearly all) scale by 2^n in one step; one test per vector
/// sends the others through clamps and a scaling in two halves, so that n ∈ [-150, 128] (subnormal
/// and overflowing results) works. Both give the same bits wherever the short one applies.
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
    poly: [v128; 5],
    /// 1.0, also used as the integer bits of 1.0 when building powers of two.
    pub one: v128,
    expm1_lo: v128,
    short: v128,
    /// Every bit but the sign, and the sign: |x| and -|x| as one `and`, one `or` (V8 builds the
    /// masks of `f32x4.abs` and `f32x4.neg` anew in every loop iteration).
    magnitude: v128,
    sign: v128,
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
            poly: opaque_splats([1.381_460_8e-3, 8.368_710_1e-3, 4.166_838_9e-2, 1.666_652_1e-1, 4.999_999_4e-1]),
            one: opaque_splat(1.0),
            expm1_lo: opaque_splat(-30.0),
            short: opaque_splat(EXP_SHORT),
            magnitude: i32x4_splat(i32::MAX),
            sign: opaque_splat(-0.0),
        }
    }

    /// x = n·ln2 + r: returns (t, r) where t holds n (see `eval`).
    #[inline(always)]
    fn reduce(&self, x: v128) -> (v128, v128) {
        // Adding 1.5·2^23 rounds x·log2e to an integer n held in the low mantissa bits of `t`: n as
        // a float is t - 1.5·2^23, and as an integer the bit difference (V8 lowers nearest +
        // trunc_sat to about ten x64 instructions; this is two).
        let t = madd(x, self.log2e, self.magic);
        let n = f32x4_sub(t, self.magic);
        (t, madd(n, self.neg_ln2_lo, madd(n, self.neg_ln2_hi, x)))
    }

    /// q(r) with exp(r) ≈ 1 + r + r²·q(r), given r² too.
    #[inline(always)]
    fn q(&self, r: v128, r2: v128) -> v128 {
        estrin5(&self.poly, r, r2)
    }

    /// 2^k as a float for integer lanes k in the normal exponent range: (k << 23) + bits(1.0).
    #[inline(always)]
    fn pow2(&self, k: v128) -> v128 {
        i32x4_add(i32x4_shl(k, 23), self.one)
    }

    /// -|x|.
    #[inline(always)]
    pub fn neg_abs(&self, x: v128) -> v128 {
        v128_or(x, self.sign)
    }

    /// Whether any lane of `x` lies beyond ±87, one test per vector (NaN does not: it comes out NaN either way).
    #[inline(always)]
    fn any_beyond_short(&self, x: v128) -> bool {
        v128_any_true(f32x4_gt(v128_and(x, self.magnitude), self.short))
    }

    /// The scalar build takes the careful path always: per lane the test would save little, and
    /// that build's code size is at the budget (the two paths give the same bits).
    #[inline(always)]
    pub fn eval(&self, x: v128) -> v128 {
        if !cfg!(target_feature = "simd128") || self.any_beyond_short(x) { self.eval_careful(x) } else { self.eval_short(x) }
    }

    /// `eval`, or `eval_short` where the caller found every argument within ±`EXP_SHORT` (or NaN):
    /// `Activation::apply_within`'s callers test a whole block of inputs at once instead.
    #[inline(always)]
    pub fn eval_for<const WITHIN: bool>(&self, x: v128) -> v128 {
        if WITHIN { self.eval_short(x) } else { self.eval(x) }
    }

    /// `eval` for arguments within ±87 or NaN, which the caller guarantees (tanh clamps to ±20).
    #[inline(always)]
    pub fn eval_short(&self, x: v128) -> v128 {
        let (t, r) = self.reduce(x);
        f32x4_mul(self.exp_r(r), self.pow2(i32x4_sub(t, self.magic)))
    }

    #[inline(always)]
    fn eval_careful(&self, x: v128) -> v128 {
        // The clamp may turn NaN into a bound (the relaxed build makes pmin/pmax relaxed_min/max);
        // NaN lanes are restored at the end.
        let nan = f32x4_ne(x, x);
        let x = f32x4_pmax(f32x4_pmin(x, self.hi), self.lo);
        let (t, r) = self.reduce(x);
        v128_or(self.scale(t, r), nan)
    }

    /// `exp(a + b)` for an argument carried in two parts, `a` exact and `|b|` small (≲ 2): the
    /// reduction subtracts n·ln2 from `a` exactly and only then adds `b`, so the rounding of a + b
    /// never happens. For arguments like -x²/2 whose float32 rounding alone would cost |a|·2^-24.
    /// Always the careful path: gelu's other work dwarfs what the short one would save.
    #[inline(always)]
    pub fn eval2(&self, a: v128, b: v128) -> v128 {
        let a = f32x4_pmax(f32x4_pmin(a, self.hi), self.lo);
        let t = madd(f32x4_add(a, b), self.log2e, self.magic);
        let n = f32x4_sub(t, self.magic);
        let r = f32x4_add(madd(n, self.neg_ln2_lo, madd(n, self.neg_ln2_hi, a)), b);
        self.scale(t, r)
    }

    /// exp(r) ≈ 1 + r + r²·q(r).
    #[inline(always)]
    fn exp_r(&self, r: v128) -> v128 {
        let r2 = f32x4_mul(r, r);
        madd(self.q(r, r2), r2, f32x4_add(r, self.one))
    }

    /// exp(r)·2^n, n held in t (see `reduce`), in two scale steps so that n ∈ [-150, 128] works.
    #[inline(always)]
    fn scale(&self, t: v128, r: v128) -> v128 {
        let n = i32x4_sub(t, self.magic);
        let n1 = i32x4_shr(n, 1);
        f32x4_mul(f32x4_mul(self.exp_r(r), self.pow2(n1)), self.pow2(i32x4_sub(n, n1)))
    }

    /// `exp(x) - 1` for x ≤ 0 (and NaN), ≤ 2 ulp: 2^n·(expm1(r) + 1) - 1 = 2^n·expm1(r) + (2^n - 1)
    /// with expm1(r) = r + r²·q(r), so nothing cancels when n = 0 (|x| ≤ ln2/2). Below -30 the
    /// result is -1 in float32 anyway, which bounds n to [-44, 0]: one scale step suffices.
    #[inline(always)]
    pub fn expm1_nonpositive(&self, x: v128) -> v128 {
        let nan = f32x4_ne(x, x);
        let x = f32x4_pmax(x, self.expm1_lo);
        let (t, r) = self.reduce(x);
        let r2 = f32x4_mul(r, r);
        let em = madd(self.q(r, r2), r2, r);
        let s = self.pow2(i32x4_sub(t, self.magic));
        v128_or(madd(em, s, f32x4_sub(s, self.one)), nan)
    }
}

/// `ln(1 + z)` for z ∈ [0, 1] (NaN kept), ≤ 2 ulp: u = 1 + z = m·2^e with m ∈ [√½, √2),
/// ln m by the Cephes logf polynomial, plus the rounding error of u itself, (z - (u - 1)) / u,
/// which keeps tiny z exact.
#[derive(Clone, Copy)]
pub struct Log1p {
    one: v128,
    half: v128,
    sqrt2: v128,
    ln2_hi: v128,
    ln2_lo: v128,
    poly: [v128; 9],
}

impl Log1p {
    #[inline(always)]
    pub fn new() -> Self {
        Log1p {
            one: opaque_splat(1.0),
            half: opaque_splat(0.5),
            sqrt2: opaque_splat(core::f32::consts::SQRT_2),
            ln2_hi: opaque_splat(LN2_HI),
            ln2_lo: opaque_splat(LN2_LO),
            poly: opaque_splats([
                7.037_683_629_2e-2,
                -1.151_461_031_0e-1,
                1.167_699_874_0e-1,
                -1.242_014_084_6e-1,
                1.424_932_278_7e-1,
                -1.666_805_766_5e-1,
                2.000_071_476_5e-1,
                -2.499_999_399_3e-1,
                3.333_333_117_4e-1,
            ]),
        }
    }

    #[inline(always)]
    pub fn eval(&self, z: v128) -> v128 {
        let u = f32x4_add(self.one, z);
        let correction = f32x4_div(f32x4_sub(z, f32x4_sub(u, self.one)), u);
        let big = f32x4_gt(u, self.sqrt2);
        let m = v128_bitselect(f32x4_mul(u, self.half), u, big);
        // e ∈ {0, 1}: the all-ones mask of `big` is -1 as an integer.
        let e = f32x4_convert_i32x4(i32x4_neg(big));
        let f = f32x4_sub(m, self.one);
        let f2 = f32x4_mul(f, f);
        let p = horner(&self.poly, f);
        let y = madd(f32x4_mul(p, f), f2, madd(e, self.ln2_lo, f32x4_mul(f2, f32x4_neg(self.half))));
        f32x4_add(madd(e, self.ln2_hi, f32x4_add(f, y)), correction)
    }
}

/// `erfc(z)` for any z (NaN kept), by the Chebyshev fit of Numerical Recipes' `erfcc` (relative
/// error < 1.2e-7 in exact arithmetic): t = 1/(1 + z/2), erfc(|z|) = t·exp(-z² + P(t)), and
/// erfc(-z) = 2 - erfc(z).
#[derive(Clone, Copy)]
pub struct Erfc {
    pub exp: Exp,
    half: v128,
    two: v128,
    zero: v128,
    poly: [v128; 10],
}

impl Erfc {
    #[inline(always)]
    pub fn new() -> Self {
        Erfc {
            exp: Exp::new(),
            half: opaque_splat(0.5),
            two: opaque_splat(2.0),
            zero: opaque_splat(0.0),
            poly: opaque_splats([
                0.170_872_77,
                -0.822_152_23,
                1.488_515_87,
                -1.135_203_98,
                0.278_868_07,
                -0.186_288_06,
                0.096_784_18,
                0.374_091_96,
                1.000_023_68,
                -1.265_512_23,
            ]),
        }
    }

    /// erfc(z) given z² exactly as `square_hi + square_lo` (see `exact_square`): the exponent
    /// -z² + P(t) is then evaluated without rounding z², whose error would be z²·2^-24 relative.
    #[inline(always)]
    pub fn eval(&self, z: v128, square_hi: v128, square_lo: v128) -> v128 {
        let a = f32x4_abs(z);
        let t = f32x4_div(self.exp.one, madd(a, self.half, self.exp.one));
        let p = horner(&self.poly, t);
        let e = f32x4_mul(t, self.exp.eval2(f32x4_neg(square_hi), f32x4_sub(p, square_lo)));
        v128_bitselect(e, f32x4_sub(self.two, e), f32x4_ge(z, self.zero))
    }
}

/// x² as hi + lo exactly (Dekker: split x into 12 + 12 significant bits, whose products are exact).
/// Plain multiplies and adds, never `madd`: a fused step would change what is exact.
#[inline(always)]
pub fn exact_square(x: v128) -> (v128, v128) {
    let c = f32x4_mul(x, f32x4_splat(4097.0));
    let x_hi = f32x4_sub(c, f32x4_sub(c, x));
    let x_lo = f32x4_sub(x, x_hi);
    let hi = f32x4_mul(x, x);
    let cross = f32x4_mul(x_hi, x_lo);
    let lo = f32x4_add(f32x4_add(f32x4_sub(f32x4_mul(x_hi, x_hi), hi), f32x4_add(cross, cross)), f32x4_mul(x_lo, x_lo));
    (hi, lo)
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
        self.eval_for::<false>(x)
    }

    /// `eval`, for |x| ≤ `EXP_SHORT` (or NaN) with `WITHIN` (see `Exp::eval_for`).
    #[inline(always)]
    pub fn eval_for<const WITHIN: bool>(&self, x: v128) -> v128 {
        sigmoid_with_slope::<WITHIN>(&self.exp, self.zero, x).0
    }

    /// sigmoid(x) and its slope s(1 - s), the latter as e/(1 + e)² with e = exp(-|x|): 1 - s
    /// would cancel as s → 1.
    #[inline(always)]
    pub fn eval_with_slope(&self, x: v128) -> (v128, v128) {
        sigmoid_with_slope::<false>(&self.exp, self.zero, x)
    }
}

/// sigmoid(x) and its slope with a caller's `Exp` (and a zero vector), for values that hold their
/// own `Exp` already (softplus' derivative is sigmoid(βx)); `WITHIN` as in `Exp::eval_for`.
#[inline(always)]
pub fn sigmoid_with_slope<const WITHIN: bool>(exp: &Exp, zero: v128, x: v128) -> (v128, v128) {
    let e = exp.eval_for::<WITHIN>(exp.neg_abs(x));
    let one = exp.one;
    let num = v128_bitselect(one, e, f32x4_ge(x, zero));
    let d = f32x4_add(one, e);
    (f32x4_div(num, d), f32x4_div(f32x4_div(e, d), d))
}

// tanh changes formula at this |x|: below it the odd polynomial, above it 1 - 2/(exp(2|x|)+1).
const TANH_POLY_LIMIT: f32 = 0.625;
// From here on tanh rounds to ±1 (1 - 2e^-20 is within 2^-25 of 1): |x| clamped to it keeps exp(2|x|)
// on its short path, with the same result.
const TANH_SATURATED: f32 = 10.0;

/// `tanh(x)`: for |x| < 0.625 the Cephes odd minimax polynomial (no cancellation near 0, exact
/// for tiny and subnormal x), above it 1 - 2/(exp(2|x|)+1) with x's sign. ≤ 1 ulp;
/// tanh(NaN) = NaN, tanh(±Inf) = ±1, tanh(-0) = -0.
#[derive(Clone, Copy)]
pub struct Tanh {
    exp: Exp,
    poly: [v128; 5],
    two: v128,
    limit: v128,
    saturated: v128,
    sign: v128,
}

impl Tanh {
    #[inline(always)]
    pub fn new() -> Self {
        Tanh {
            exp: Exp::new(),
            poly: opaque_splats([
                -5.704_988_727_45e-3,
                2.063_908_879_54e-2,
                -5.373_971_555_31e-2,
                1.333_144_220_36e-1,
                -3.333_328_194_22e-1,
            ]),
            two: opaque_splat(2.0),
            limit: opaque_splat(TANH_POLY_LIMIT),
            saturated: opaque_splat(TANH_SATURATED),
            sign: opaque_splat(-0.0),
        }
    }

    /// P(x²) with tanh(x) = x + x³·P(x²) for |x| < 0.625.
    #[inline(always)]
    fn poly(&self, z: v128) -> v128 {
        horner(&self.poly, z)
    }

    /// 1 - tanh²(x) as 4e/(1 + e)² with e = exp(-2|x|), which does not cancel as |tanh| → 1.
    #[inline(always)]
    pub fn slope(&self, x: v128) -> v128 {
        let ax = v128_andnot(x, self.sign);
        let e = self.exp.eval(self.exp.neg_abs(f32x4_add(ax, ax)));
        let d = f32x4_add(self.exp.one, e);
        f32x4_div(f32x4_div(f32x4_mul(f32x4_add(self.two, self.two), e), d), d)
    }

    #[inline(always)]
    pub fn eval(&self, x: v128) -> v128 {
        let ax = v128_andnot(x, self.sign);
        let z = f32x4_mul(x, x);
        // Both branches compute |tanh x| from |x|; x's sign is applied once at the end, which also
        // keeps tanh(-0) = -0 (the polynomial in x would round -0 + +0 to +0).
        let small = madd(f32x4_mul(self.poly(z), z), ax, ax);
        let one = self.exp.one;
        let clamped = f32x4_pmin(ax, self.saturated);
        let e = self.exp.eval_short(f32x4_add(clamped, clamped));
        let large = f32x4_sub(one, f32x4_div(self.two, f32x4_add(e, one)));
        // NaN takes the polynomial, which keeps it (the clamp need not: relaxed_min may drop it).
        let magnitude = v128_bitselect(large, small, f32x4_ge(ax, self.limit));
        v128_or(magnitude, v128_and(x, self.sign))
    }
}
