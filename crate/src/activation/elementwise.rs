//! The elementwise activations. Each is a value built once per call (its constants broadcast once,
//! see `opaque_splat`) whose `apply` maps four lanes. NaN in gives NaN out unless the function's
//! definition says otherwise (`Threshold`).
use super::Activation;
use crate::math::{EXP_SHORT, Erfc, Exp, Log1p, Sigmoid, Tanh, exact_square, pow2, sigmoid_with_slope};
use crate::simd::*;

#[derive(Clone, Copy)]
pub struct Linear;
impl Activation for Linear {
    #[inline(always)]
    fn apply(&self, v: v128) -> v128 {
        v
    }
    #[inline(always)]
    fn grad(&self, _: v128) -> v128 {
        f32x4_splat(1.0)
    }
}

/// `x > 0 ? x : +0`: clears the lanes where `x <= 0` (false for NaN, true for -0). Not `pmax`:
/// the relaxed build turns it into `relaxed_max`, whose NaN result is unspecified.
#[derive(Clone, Copy)]
pub struct Relu {
    zero: v128,
}
impl Relu {
    #[inline(always)]
    pub fn new() -> Self {
        Relu { zero: opaque_splat(0.0) }
    }
}
impl Activation for Relu {
    #[inline(always)]
    fn apply(&self, v: v128) -> v128 {
        v128_andnot(v, f32x4_le(v, self.zero))
    }
    #[inline(always)]
    fn grad(&self, x: v128) -> v128 {
        v128_and(f32x4_splat(1.0), f32x4_gt(x, self.zero))
    }
}

/// Keras 3 `relu(x, negative_slope, max_value, threshold)`: (x > threshold ? x : 0), clipped to
/// [0, max_value] when max_value is finite, minus negative_slope·max(threshold - x, 0).
#[derive(Clone, Copy)]
pub struct ReluGeneral {
    zero: v128,
    slope: v128,
    slope_used: v128,
    lo: v128,
    hi: v128,
    threshold: v128,
    half: v128,
    half_threshold: v128,
    two: v128,
}
impl ReluGeneral {
    #[inline(always)]
    pub fn new(slope: f32, max_value: f32, threshold: f32) -> Self {
        let clip = max_value.is_finite();
        ReluGeneral {
            zero: opaque_splat(0.0),
            slope: opaque_splat(slope),
            // With a zero slope the negative part is absent, not 0·(threshold - x) (NaN at -Inf).
            slope_used: i32x4_splat(if slope != 0.0 { -1 } else { 0 }),
            lo: opaque_splat(if clip { 0.0 } else { f32::NEG_INFINITY }),
            hi: opaque_splat(if clip { max_value } else { f32::INFINITY }),
            threshold: opaque_splat(threshold),
            half: opaque_splat(0.5),
            half_threshold: opaque_splat(threshold * 0.5),
            two: opaque_splat(2.0),
        }
    }
}
impl Activation for ReluGeneral {
    #[inline(always)]
    fn apply(&self, x: v128) -> v128 {
        let pos = v128_and(x, f32x4_gt(x, self.threshold));
        let pos = f32x4_pmin(f32x4_pmax(pos, self.lo), self.hi);
        // slope·(threshold - x) as slope·(threshold/2 - x/2)·2, the same value: threshold - x overflows
        // for x near -FLT_MAX and a positive threshold even where the product does not.
        let half_gap = f32x4_pmax(f32x4_sub(self.half_threshold, f32x4_mul(x, self.half)), self.zero);
        let neg = f32x4_mul(f32x4_mul(self.slope, half_gap), self.two);
        keep_nan(x, f32x4_sub(pos, v128_and(neg, self.slope_used)))
    }
    #[inline(always)]
    fn grad(&self, x: v128) -> v128 {
        // 1 on (threshold, max) (and within [0, max] when clipped), the slope below the threshold.
        let above = f32x4_gt(x, self.threshold);
        let inside = v128_and(above, v128_and(f32x4_lt(x, self.hi), f32x4_ge(x, self.lo)));
        let below = v128_and(v128_not(above), self.slope_used);
        keep_nan(x, v128_or(v128_and(f32x4_splat(1.0), inside), v128_and(self.slope, below)))
    }
}

/// `x > 0 ? x : alpha·x`.
#[derive(Clone, Copy)]
pub struct LeakyRelu {
    zero: v128,
    alpha: v128,
}
impl LeakyRelu {
    #[inline(always)]
    pub fn new(alpha: f32) -> Self {
        LeakyRelu { zero: opaque_splat(0.0), alpha: opaque_splat(alpha) }
    }
}
impl Activation for LeakyRelu {
    #[inline(always)]
    fn apply(&self, v: v128) -> v128 {
        v128_bitselect(v, f32x4_mul(v, self.alpha), f32x4_gt(v, self.zero))
    }
    #[inline(always)]
    fn grad(&self, x: v128) -> v128 {
        keep_nan(x, v128_bitselect(f32x4_splat(1.0), self.alpha, f32x4_gt(x, self.zero)))
    }
}

/// `min(max(x, 0), 6)`, with relu's +0 for x ≤ 0 (NaN kept).
#[derive(Clone, Copy)]
pub struct Relu6 {
    relu: Relu,
    six: v128,
}
impl Relu6 {
    #[inline(always)]
    pub fn new() -> Self {
        Relu6 { relu: Relu::new(), six: opaque_splat(6.0) }
    }
}
impl Activation for Relu6 {
    #[inline(always)]
    fn apply(&self, x: v128) -> v128 {
        keep_nan(x, f32x4_pmin(self.relu.apply(x), self.six))
    }
    #[inline(always)]
    fn grad(&self, x: v128) -> v128 {
        keep_nan(x, v128_and(f32x4_splat(1.0), v128_and(f32x4_gt(x, self.relu.zero), f32x4_lt(x, self.six))))
    }
}

/// hard_tanh: x clamped to [lo, hi] (NaN kept).
#[derive(Clone, Copy)]
pub struct Clip {
    lo: v128,
    hi: v128,
}
impl Clip {
    #[inline(always)]
    pub fn new(lo: f32, hi: f32) -> Self {
        Clip { lo: opaque_splat(lo), hi: opaque_splat(hi) }
    }
}
impl Activation for Clip {
    #[inline(always)]
    fn apply(&self, x: v128) -> v128 {
        keep_nan(x, f32x4_pmin(f32x4_pmax(x, self.lo), self.hi))
    }
    #[inline(always)]
    fn grad(&self, x: v128) -> v128 {
        keep_nan(x, v128_and(f32x4_splat(1.0), v128_and(f32x4_gt(x, self.lo), f32x4_lt(x, self.hi))))
    }
}

/// `scale · (x > 0 ? x : alpha·expm1(x / divisor))`: elu (scale 1, divisor 1), selu (its two
/// constants), celu (divisor = alpha).
#[derive(Clone, Copy)]
pub struct Elu {
    exp: Exp,
    zero: v128,
    alpha: v128,
    scale: v128,
    inv_divisor: v128,
}
impl Elu {
    #[inline(always)]
    pub fn new(alpha: f32, scale: f32, divisor: f32) -> Self {
        Elu {
            exp: Exp::new(),
            zero: opaque_splat(0.0),
            alpha: opaque_splat(alpha),
            scale: opaque_splat(scale),
            inv_divisor: opaque_splat(1.0 / divisor),
        }
    }
}
impl Activation for Elu {
    #[inline(always)]
    fn apply(&self, x: v128) -> v128 {
        let negative = f32x4_mul(self.alpha, self.exp.expm1_nonpositive(f32x4_pmin(f32x4_mul(x, self.inv_divisor), self.zero)));
        keep_nan(x, f32x4_mul(self.scale, v128_bitselect(x, negative, f32x4_gt(x, self.zero))))
    }
    #[inline(always)]
    fn grad(&self, x: v128) -> v128 {
        // d/dx α·(e^(x/d) - 1) = (α/d)·e^(x/d)
        let inner = f32x4_pmin(f32x4_mul(x, self.inv_divisor), self.zero);
        let negative = f32x4_mul(f32x4_mul(self.alpha, self.inv_divisor), self.exp.eval(inner));
        keep_nan(x, f32x4_mul(self.scale, v128_bitselect(f32x4_splat(1.0), negative, f32x4_gt(x, self.zero))))
    }
}

#[derive(Clone, Copy)]
pub struct Exponential(Exp);
impl Exponential {
    #[inline(always)]
    pub fn new() -> Self {
        Exponential(Exp::new())
    }
}
impl Activation for Exponential {
    #[inline(always)]
    fn apply(&self, x: v128) -> v128 {
        self.0.eval(x)
    }
    #[inline(always)]
    fn within(&self) -> f32 {
        EXP_SHORT
    }
    #[inline(always)]
    fn apply_within(&self, x: v128) -> v128 {
        self.0.eval_for::<true>(x)
    }
    #[inline(always)]
    fn grad(&self, x: v128) -> v128 {
        self.0.eval(x)
    }
}

impl Activation for Sigmoid {
    #[inline(always)]
    fn apply(&self, v: v128) -> v128 {
        self.eval(v)
    }
    #[inline(always)]
    fn within(&self) -> f32 {
        EXP_SHORT
    }
    #[inline(always)]
    fn apply_within(&self, v: v128) -> v128 {
        self.eval_for::<true>(v)
    }
    #[inline(always)]
    fn grad(&self, x: v128) -> v128 {
        self.eval_with_slope(x).1
    }
}

impl Activation for Tanh {
    #[inline(always)]
    fn apply(&self, v: v128) -> v128 {
        self.eval(v)
    }
    #[inline(always)]
    fn grad(&self, x: v128) -> v128 {
        self.slope(x)
    }
}

/// `x · sigmoid(beta·x)`: silu/swish (beta 1), ONNX Swish(alpha).
#[derive(Clone, Copy)]
pub struct Swish {
    sigmoid: Sigmoid,
    beta: v128,
    /// `EXP_SHORT / |beta|` up to FLT_MAX (so that ±Inf inputs, whose short path is NaN, never
    /// count as within), or 0 (no short path) for a NaN beta.
    within: f32,
}
impl Swish {
    #[inline(always)]
    pub fn new(beta: f32) -> Self {
        let within = EXP_SHORT / f32::from_bits(beta.to_bits() & 0x7fff_ffff);
        Swish { sigmoid: Sigmoid::new(), beta: opaque_splat(beta), within: if within >= 0.0 { within.min(f32::MAX) } else { 0.0 } }
    }
    #[inline(always)]
    fn eval<const WITHIN: bool>(&self, x: v128) -> v128 {
        f32x4_mul(x, self.sigmoid.eval_for::<WITHIN>(f32x4_mul(self.beta, x)))
    }
}
impl Activation for Swish {
    #[inline(always)]
    fn apply(&self, x: v128) -> v128 {
        self.eval::<false>(x)
    }
    #[inline(always)]
    fn within(&self) -> f32 {
        self.within
    }
    #[inline(always)]
    fn apply_within(&self, x: v128) -> v128 {
        self.eval::<true>(x)
    }
    #[inline(always)]
    fn grad(&self, x: v128) -> v128 {
        // σ(βx) + βx·σ'(βx); where |βx| > 100 the second term is 0 (and ∞·0 must not make NaN)
        let bx = f32x4_mul(self.beta, x);
        let (s, ds) = self.sigmoid.eval_with_slope(bx);
        v128_bitselect(s, madd(bx, ds, s), f32x4_gt(f32x4_abs(bx), f32x4_splat(100.0)))
    }
}

/// Exact gelu, `x·Φ(x)` with Φ(x) = erfc(-x/√2)/2, the exponent -x²/2 carried exactly.
#[derive(Clone, Copy)]
pub struct Gelu {
    erfc: Erfc,
    neg_inv_sqrt2: v128,
    half: v128,
    limit: v128,
}
impl Gelu {
    #[inline(always)]
    pub fn new() -> Self {
        Gelu {
            erfc: Erfc::new(),
            neg_inv_sqrt2: opaque_splat(-core::f32::consts::FRAC_1_SQRT_2),
            half: opaque_splat(0.5),
            limit: opaque_splat(15.0),
        }
    }
}
impl Activation for Gelu {
    #[inline(always)]
    fn apply(&self, x: v128) -> v128 {
        // (x/√2)² = x²/2: halving the exact x² keeps it exact, where squaring a rounded x/√2 would not.
        // Beyond |x| = 15, 2Φ(x) is exactly 0 or 2 in float32; the clamp keeps ±Inf out of the split.
        let xc = f32x4_pmax(f32x4_pmin(x, self.limit), f32x4_neg(self.limit));
        let (hi, lo) = exact_square(xc);
        let phi2 = self.erfc.eval(f32x4_mul(xc, self.neg_inv_sqrt2), f32x4_mul(hi, self.half), f32x4_mul(lo, self.half));
        f32x4_mul(f32x4_mul(x, self.half), phi2)
    }
    #[inline(always)]
    fn grad(&self, x: v128) -> v128 {
        // Φ(x) + x·φ(x), φ(x) = e^(-x²/2)/√(2π)
        let xc = f32x4_pmax(f32x4_pmin(x, self.limit), f32x4_neg(self.limit));
        let (hi, lo) = exact_square(xc);
        let (hi, lo) = (f32x4_mul(hi, self.half), f32x4_mul(lo, self.half));
        let phi2 = self.erfc.eval(f32x4_mul(xc, self.neg_inv_sqrt2), hi, lo);
        let density = f32x4_mul(f32x4_splat(0.398_942_3), self.erfc.exp.eval2(f32x4_neg(hi), f32x4_neg(lo)));
        keep_nan(x, madd(x, density, f32x4_mul(self.half, phi2)))
    }
}

/// The tanh approximation of gelu, `x/2·(1 + tanh(√(2/π)(x + 0.044715x³)))`, computed as
/// `x·sigmoid(2u)` (the same function), which does not cancel where tanh(u) → -1.
#[derive(Clone, Copy)]
pub struct GeluTanh {
    sigmoid: Sigmoid,
    k: v128,
    c: v128,
}
impl GeluTanh {
    #[inline(always)]
    pub fn new() -> Self {
        // 2·√(2/π), and 0.044715.
        GeluTanh { sigmoid: Sigmoid::new(), k: opaque_splat(1.595_769_1), c: opaque_splat(0.044_715) }
    }
}
impl Activation for GeluTanh {
    #[inline(always)]
    fn apply(&self, x: v128) -> v128 {
        let inner = madd(f32x4_mul(self.c, f32x4_mul(x, x)), x, x);
        f32x4_mul(x, self.sigmoid.eval(f32x4_mul(self.k, inner)))
    }
    #[inline(always)]
    fn grad(&self, x: v128) -> v128 {
        // y = x·σ(v), v = k(x + c·x³): y' = σ(v) + x·σ(v)(1 - σ(v))·k(1 + 3c·x²)
        let x2 = f32x4_mul(x, x);
        let v = f32x4_mul(self.k, madd(f32x4_mul(self.c, x2), x, x));
        let (s, ds) = self.sigmoid.eval_with_slope(v);
        let dv = f32x4_mul(self.k, madd(f32x4_mul(f32x4_splat(3.0), self.c), x2, f32x4_splat(1.0)));
        let d = madd(f32x4_mul(x, ds), dv, s);
        // Far out the second term is 0 in float32, but ∞·0 would make NaN.
        v128_bitselect(s, d, f32x4_gt(f32x4_abs(x), f32x4_splat(100.0)))
    }
}

/// `clip(alpha·x + beta, 0, 1)` computed as `clip((x + offset)·alpha, 0, 1)`, offset = beta/alpha,
/// times x when `GATED` (hard_silu / hard_swish). Near the lower knee x + offset is exact (x + 3
/// for Keras' 1/6, 0.5), where alpha·x + beta would cancel.
#[derive(Clone, Copy)]
pub struct HardSigmoid<const GATED: bool> {
    alpha: v128,
    offset: v128,
    zero: v128,
    one: v128,
}
impl<const GATED: bool> HardSigmoid<GATED> {
    #[inline(always)]
    pub fn new(alpha: f32, offset: f32) -> Self {
        HardSigmoid { alpha: opaque_splat(alpha), offset: opaque_splat(offset), zero: opaque_splat(0.0), one: opaque_splat(1.0) }
    }
}
impl<const GATED: bool> Activation for HardSigmoid<GATED> {
    #[inline(always)]
    fn apply(&self, x: v128) -> v128 {
        let s = keep_nan(x, f32x4_pmin(f32x4_pmax(f32x4_mul(f32x4_add(x, self.offset), self.alpha), self.zero), self.one));
        if GATED { f32x4_mul(x, s) } else { s }
    }
    #[inline(always)]
    fn grad(&self, x: v128) -> v128 {
        let u = f32x4_mul(f32x4_add(x, self.offset), self.alpha);
        let inside = v128_and(f32x4_gt(u, self.zero), f32x4_lt(u, self.one));
        let ds = v128_and(self.alpha, inside);
        let d = if GATED {
            // s + x·s', the product only where s' ≠ 0 (∞·0 must not make NaN)
            let s = f32x4_pmin(f32x4_pmax(u, self.zero), self.one);
            f32x4_add(s, v128_and(f32x4_mul(x, self.alpha), inside))
        } else {
            ds
        };
        keep_nan(x, d)
    }
}

/// hard_shrink: `|x| > t ? x : 0`; soft_shrink: `x > t ? x - t : x < -t ? x + t : 0`.
#[derive(Clone, Copy)]
pub struct Shrink<const SOFT: bool> {
    t: v128,
    sign: v128,
}
impl<const SOFT: bool> Shrink<SOFT> {
    #[inline(always)]
    pub fn new(threshold: f32) -> Self {
        Shrink { t: opaque_splat(threshold), sign: opaque_splat(-0.0) }
    }
}
impl<const SOFT: bool> Activation for Shrink<SOFT> {
    #[inline(always)]
    fn apply(&self, x: v128) -> v128 {
        let outside = f32x4_gt(f32x4_abs(x), self.t);
        let kept = if SOFT {
            // x - t·sign(x)
            f32x4_sub(x, v128_or(self.t, v128_and(x, self.sign)))
        } else {
            x
        };
        keep_nan(x, v128_and(kept, outside))
    }
    #[inline(always)]
    fn grad(&self, x: v128) -> v128 {
        keep_nan(x, v128_and(f32x4_splat(1.0), f32x4_gt(f32x4_abs(x), self.t)))
    }
}

/// Softplus with torch's parameters: `log(1 + exp(beta·x)) / beta`, or x where beta·x > threshold;
/// computed as (max(z, 0) + log1p(exp(-|z|))) / beta, z = beta·x, which neither overflows nor
/// cancels, and whose first term over beta is x or 0 exactly (β·x itself may overflow, x may not).
/// log_sigmoid(x) = -softplus(-x) is the same with beta = 1, negated on both sides.
#[derive(Clone, Copy)]
pub struct Softplus {
    exp: Exp,
    log1p: Log1p,
    beta: v128,
    inv_beta: v128,
    threshold: v128,
    zero: v128,
}
impl Softplus {
    #[inline(always)]
    pub fn new(beta: f32, threshold: f32) -> Self {
        Softplus {
            exp: Exp::new(),
            log1p: Log1p::new(),
            beta: opaque_splat(beta),
            inv_beta: opaque_splat(1.0 / beta),
            threshold: opaque_splat(threshold),
            zero: opaque_splat(0.0),
        }
    }
    /// log1p(exp(-|z|)) = softplus(z) - max(z, 0), in (0, ln 2].
    #[inline(always)]
    fn tail(&self, z: v128) -> v128 {
        self.log1p.eval(self.exp.eval(f32x4_neg(f32x4_abs(z))))
    }
    #[inline(always)]
    fn softplus(&self, z: v128) -> v128 {
        keep_nan(z, f32x4_add(f32x4_pmax(z, self.zero), self.tail(z)))
    }
}
impl Activation for Softplus {
    #[inline(always)]
    fn apply(&self, x: v128) -> v128 {
        let z = f32x4_mul(self.beta, x);
        // max(z, 0)/β is x where z > 0 (whatever β's sign) and 0 elsewhere; a NaN x reaches the tail.
        let y = f32x4_add(v128_and(x, f32x4_gt(z, self.zero)), f32x4_mul(self.tail(z), self.inv_beta));
        v128_bitselect(x, y, f32x4_gt(z, self.threshold))
    }
    #[inline(always)]
    fn grad(&self, x: v128) -> v128 {
        // σ(βx), or 1 beyond the threshold
        let z = f32x4_mul(self.beta, x);
        let s = sigmoid_with_slope::<false>(&self.exp, self.zero, z).0;
        keep_nan(x, v128_bitselect(self.exp.one, s, f32x4_gt(z, self.threshold)))
    }
}

/// `log(sigmoid(x)) = -softplus(-x)`.
#[derive(Clone, Copy)]
pub struct LogSigmoid(Softplus);
impl LogSigmoid {
    #[inline(always)]
    pub fn new() -> Self {
        LogSigmoid(Softplus::new(1.0, f32::INFINITY))
    }
}
impl Activation for LogSigmoid {
    #[inline(always)]
    fn apply(&self, x: v128) -> v128 {
        f32x4_neg(self.0.softplus(f32x4_neg(x)))
    }
    #[inline(always)]
    fn grad(&self, x: v128) -> v128 {
        // 1 - σ(x) = σ(-x)
        sigmoid_with_slope::<false>(&self.0.exp, self.0.zero, f32x4_neg(x)).0
    }
}

/// `x·tanh(softplus(x))`. With u = eˣ, tanh(ln(1 + u)) = n/(n + 2) where n = u(u + 2): one exp and
/// one division; above x = 20 the factor is 1 in float32 (and u² would overflow).
#[derive(Clone, Copy)]
pub struct Mish {
    exp: Exp,
    two: v128,
    cutoff: v128,
}
impl Mish {
    #[inline(always)]
    pub fn new() -> Self {
        Mish { exp: Exp::new(), two: opaque_splat(2.0), cutoff: opaque_splat(20.0) }
    }
}
impl Mish {
    #[inline(always)]
    fn eval<const WITHIN: bool>(&self, x: v128) -> v128 {
        let u = self.exp.eval_for::<WITHIN>(f32x4_pmin(x, self.cutoff));
        let n = f32x4_mul(u, f32x4_add(u, self.two));
        let y = f32x4_mul(x, f32x4_div(n, f32x4_add(n, self.two)));
        v128_bitselect(x, y, f32x4_gt(x, self.cutoff))
    }
}
impl Activation for Mish {
    #[inline(always)]
    fn apply(&self, x: v128) -> v128 {
        self.eval::<false>(x)
    }
    #[inline(always)]
    fn within(&self) -> f32 {
        EXP_SHORT
    }
    #[inline(always)]
    fn apply_within(&self, x: v128) -> v128 {
        self.eval::<true>(x)
    }
    #[inline(always)]
    fn grad(&self, x: v128) -> v128 {
        // tanh(sp) + x·sech²(sp)·σ(x), with u = eˣ: tanh(sp) = n/(n + 2), n = u(u + 2), and
        // sech²(sp) = 1 - tanh² = 4(n + 1)/(n + 2)², which does not cancel as tanh → 1.
        let u = self.exp.eval(f32x4_pmin(x, self.cutoff));
        let one = f32x4_splat(1.0);
        let n = f32x4_mul(u, f32x4_add(u, self.two));
        let denominator = f32x4_add(n, self.two);
        let t = f32x4_div(n, denominator);
        let sech2 = f32x4_div(f32x4_div(f32x4_mul(f32x4_add(self.two, self.two), f32x4_add(n, one)), denominator), denominator);
        let s = f32x4_div(u, f32x4_add(one, u));
        let d = madd(f32x4_mul(x, sech2), s, t);
        keep_nan(x, v128_bitselect(one, d, f32x4_gt(x, self.cutoff)))
    }
}

/// `x / (1 + |x|)`.
#[derive(Clone, Copy)]
pub struct Softsign {
    one: v128,
}
impl Softsign {
    #[inline(always)]
    pub fn new() -> Self {
        Softsign { one: opaque_splat(1.0) }
    }
}
impl Activation for Softsign {
    #[inline(always)]
    fn apply(&self, x: v128) -> v128 {
        f32x4_div(x, f32x4_add(self.one, f32x4_abs(x)))
    }
    #[inline(always)]
    fn grad(&self, x: v128) -> v128 {
        // (1/d)², not 1/d²: d² overflows from |x| = 2^64 on, where the slope is still a (subnormal) float32.
        let r = f32x4_div(self.one, f32x4_add(self.one, f32x4_abs(x)));
        f32x4_mul(r, r)
    }
}

/// `PLUS`: sparse_plus, 0 for x ≤ -1, x for x ≥ 1, (x + 1)²/4 between; else sparse_sigmoid: 0, 1, (x + 1)/2.
#[derive(Clone, Copy)]
pub struct Sparse<const PLUS: bool> {
    one: v128,
    neg_one: v128,
    zero: v128,
    quarter: v128,
    half: v128,
}
impl<const PLUS: bool> Sparse<PLUS> {
    #[inline(always)]
    pub fn new() -> Self {
        Sparse {
            one: opaque_splat(1.0),
            neg_one: opaque_splat(-1.0),
            zero: opaque_splat(0.0),
            quarter: opaque_splat(0.25),
            half: opaque_splat(0.5),
        }
    }
}
impl<const PLUS: bool> Activation for Sparse<PLUS> {
    #[inline(always)]
    fn apply(&self, x: v128) -> v128 {
        let a = f32x4_add(x, self.one);
        let (middle, high) = if PLUS { (f32x4_mul(f32x4_mul(a, a), self.quarter), x) } else { (f32x4_mul(a, self.half), self.one) };
        let y = v128_bitselect(high, middle, f32x4_ge(x, self.one));
        keep_nan(x, v128_bitselect(self.zero, y, f32x4_le(x, self.neg_one)))
    }
    #[inline(always)]
    fn grad(&self, x: v128) -> v128 {
        let middle = if PLUS { f32x4_mul(f32x4_add(x, self.one), self.half) } else { self.half };
        let high = if PLUS { self.one } else { self.zero };
        let y = v128_bitselect(high, middle, f32x4_ge(x, self.one));
        keep_nan(x, v128_bitselect(self.zero, y, f32x4_le(x, self.neg_one)))
    }
}

// Squareplus' scaling of x beyond 2^60 (and of b, squared): (x·2^-65)² is finite for every float32.
const SQUAREPLUS_SCALE_DOWN: f32 = pow2(-65);

/// `(x + √(x² + b)) / 2`; for x < 0 as `(b/4) / ((√(x² + b) - x)/2)`, the same value without the
/// cancellation. Every sum is of halves, so that it stays finite up to |x| = FLT_MAX; beyond |x| =
/// 2^60, where x² would overflow, x is scaled by 2^-65 and b by 2^-130 before the square root: exact
/// scalings, except that b·2^-130 loses bits (or flushes to 0) for b < 2^-4, which is then below an
/// ulp of x² > 2^120 anyway. Within 3 ulp for every finite x and b < 3.39·10^38 (x² + b must fit for
/// |x| ≤ 2^60).
#[derive(Clone, Copy)]
pub struct Squareplus {
    b: v128,
    scaled_b: v128,
    quarter_b: v128,
    one: v128,
    scale_down: v128,
    half: v128,
    half_scale_up: v128,
    zero: v128,
    huge: v128,
    max: v128,
}
impl Squareplus {
    #[inline(always)]
    pub fn new(b: f32) -> Self {
        Squareplus {
            b: opaque_splat(b),
            scaled_b: opaque_splat(b * SQUAREPLUS_SCALE_DOWN * SQUAREPLUS_SCALE_DOWN),
            quarter_b: opaque_splat(b * 0.25),
            one: opaque_splat(1.0),
            scale_down: opaque_splat(SQUAREPLUS_SCALE_DOWN),
            half: opaque_splat(0.5),
            half_scale_up: opaque_splat(0.5 / SQUAREPLUS_SCALE_DOWN),
            zero: opaque_splat(0.0),
            huge: opaque_splat(pow2(60)),
            max: opaque_splat(f32::MAX),
        }
    }

    /// √(x² + b)/2 and squareplus(x).
    #[inline(always)]
    fn half_root_and_value(&self, x: v128) -> (v128, v128) {
        let huge = f32x4_gt(f32x4_abs(x), self.huge);
        let scaled = f32x4_mul(x, v128_bitselect(self.scale_down, self.one, huge));
        let root = f32x4_sqrt(madd(scaled, scaled, v128_bitselect(self.scaled_b, self.b, huge)));
        let half_root = f32x4_mul(root, v128_bitselect(self.half_scale_up, self.half, huge));
        let half_x = f32x4_mul(x, self.half);
        let positive = f32x4_add(half_x, half_root);
        let negative = f32x4_div(self.quarter_b, f32x4_sub(half_root, half_x));
        (half_root, v128_bitselect(positive, negative, f32x4_ge(x, self.zero)))
    }
}
impl Activation for Squareplus {
    #[inline(always)]
    fn apply(&self, x: v128) -> v128 {
        self.half_root_and_value(x).1
    }
    #[inline(always)]
    fn grad(&self, x: v128) -> v128 {
        // (1 + x/√(x² + b))/2 = squareplus(x)/√(x² + b), which does not cancel for x ≪ 0. +Inf is
        // taken as FLT_MAX, whose slope is its limit 1 (∞/∞ would make NaN); -Inf gives 0/∞ = 0.
        let (half_root, y) = self.half_root_and_value(f32x4_pmin(x, self.max));
        f32x4_mul(f32x4_div(y, half_root), self.half)
    }
}

/// `x - tanh(x)`: below |x| = 1 as x³·G(x²), G a least-squares fit of (x - tanh x)/x³ (relative
/// error 7e-8 with float32 coefficients), since the difference cancels there; above, directly.
#[derive(Clone, Copy)]
pub struct TanhShrink {
    tanh: Tanh,
    poly: [v128; 8],
    one: v128,
}
impl TanhShrink {
    #[inline(always)]
    pub fn new() -> Self {
        TanhShrink {
            tanh: Tanh::new(),
            poly: opaque_splats([
                -1.417_443_27e-4,
                9.197_828_48e-4,
                -3.201_613_20e-3,
                8.694_243_62e-3,
                -2.182_825_84e-2,
                5.396_319_18e-2,
                -1.333_330_87e-1,
                3.333_333_43e-1,
            ]),
            one: opaque_splat(1.0),
        }
    }
}
impl Activation for TanhShrink {
    #[inline(always)]
    fn apply(&self, x: v128) -> v128 {
        let z = f32x4_mul(x, x);
        let g = horner(&self.poly, z);
        let small = f32x4_mul(f32x4_mul(x, z), g);
        v128_bitselect(small, f32x4_sub(x, self.tanh.eval(x)), f32x4_lt(f32x4_abs(x), self.one))
    }
    #[inline(always)]
    fn grad(&self, x: v128) -> v128 {
        let t = self.tanh.eval(x);
        f32x4_mul(t, t)
    }
}

/// `x > threshold ? x : value` (NaN → value, as `where(x > threshold, x, value)`).
#[derive(Clone, Copy)]
pub struct Threshold {
    threshold: v128,
    value: v128,
}
impl Threshold {
    #[inline(always)]
    pub fn new(threshold: f32, value: f32) -> Self {
        Threshold { threshold: opaque_splat(threshold), value: opaque_splat(value) }
    }
}
impl Activation for Threshold {
    #[inline(always)]
    fn apply(&self, x: v128) -> v128 {
        v128_bitselect(x, self.value, f32x4_gt(x, self.threshold))
    }
    #[inline(always)]
    fn grad(&self, x: v128) -> v128 {
        keep_nan(x, v128_and(f32x4_splat(1.0), f32x4_gt(x, self.threshold)))
    }
}
