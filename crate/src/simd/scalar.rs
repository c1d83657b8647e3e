//! The subset of `core::arch::wasm32`'s SIMD128 intrinsics the kernels use, on four scalar lanes,
//! with the semantics the WebAssembly SIMD spec gives each (pmin/pmax's operand order, shift counts
//! modulo 32, unaligned loads). Without `simd128` LLVM lowers these to plain f32/i32 instructions.
#![allow(non_camel_case_types)]

#[derive(Clone, Copy)]
#[repr(C, align(16))]
pub struct v128([u32; 4]);

#[inline(always)]
fn floats(a: v128) -> [f32; 4] {
    a.0.map(f32::from_bits)
}

#[inline(always)]
fn from_floats(f: [f32; 4]) -> v128 {
    v128(f.map(f32::to_bits))
}

#[inline(always)]
fn zip(a: v128, b: v128, op: impl Fn(u32, u32) -> u32) -> v128 {
    v128([0, 1, 2, 3].map(|i| op(a.0[i], b.0[i])))
}

#[inline(always)]
fn zip_f32(a: v128, b: v128, op: impl Fn(f32, f32) -> f32) -> v128 {
    let (a, b) = (floats(a), floats(b));
    from_floats([0, 1, 2, 3].map(|i| op(a[i], b[i])))
}

#[inline(always)]
fn compare(a: v128, b: v128, op: impl Fn(f32, f32) -> bool) -> v128 {
    let (a, b) = (floats(a), floats(b));
    v128([0, 1, 2, 3].map(|i| if op(a[i], b[i]) { u32::MAX } else { 0 }))
}

#[inline(always)]
pub unsafe fn v128_load(m: *const v128) -> v128 {
    unsafe { m.read_unaligned() }
}

#[inline(always)]
pub unsafe fn v128_store(m: *mut v128, a: v128) {
    unsafe { m.write_unaligned(a) }
}

#[inline(always)]
pub unsafe fn v128_load32_splat(m: *const u32) -> v128 {
    v128([unsafe { m.read_unaligned() }; 4])
}

#[inline(always)]
pub unsafe fn v128_load32_lane<const L: usize>(v: v128, m: *const u32) -> v128 {
    let mut lanes = v.0;
    lanes[L] = unsafe { m.read_unaligned() };
    v128(lanes)
}

/// Lanes `2L` and `2L + 1` from the 8 bytes at `m`.
#[inline(always)]
pub unsafe fn v128_load64_lane<const L: usize>(v: v128, m: *const u64) -> v128 {
    let bits = unsafe { m.read_unaligned() };
    let mut lanes = v.0;
    lanes[2 * L] = bits as u32;
    lanes[2 * L + 1] = (bits >> 32) as u32;
    v128(lanes)
}

#[inline(always)]
pub unsafe fn v128_store32_lane<const L: usize>(v: v128, m: *mut u32) {
    unsafe { m.write_unaligned(v.0[L]) }
}

#[inline(always)]
pub unsafe fn v128_store64_lane<const L: usize>(v: v128, m: *mut u64) {
    unsafe { m.write_unaligned(v.0[2 * L] as u64 | (v.0[2 * L + 1] as u64) << 32) }
}

#[inline(always)]
pub fn f32x4_splat(a: f32) -> v128 {
    v128([a.to_bits(); 4])
}

#[inline(always)]
pub fn i32x4_splat(a: i32) -> v128 {
    v128([a as u32; 4])
}

#[inline(always)]
pub fn f32x4_extract_lane<const N: usize>(a: v128) -> f32 {
    f32::from_bits(a.0[N])
}

#[inline(always)]
pub fn i32x4_extract_lane<const N: usize>(a: v128) -> i32 {
    a.0[N] as i32
}

#[inline(always)]
pub fn i32x4_shuffle<const I0: usize, const I1: usize, const I2: usize, const I3: usize>(a: v128, b: v128) -> v128 {
    let pick = |i: usize| if i < 4 { a.0[i] } else { b.0[i - 4] };
    v128([pick(I0), pick(I1), pick(I2), pick(I3)])
}

#[inline(always)]
pub fn f32x4_add(a: v128, b: v128) -> v128 {
    zip_f32(a, b, |x, y| x + y)
}

#[inline(always)]
pub fn f32x4_sub(a: v128, b: v128) -> v128 {
    zip_f32(a, b, |x, y| x - y)
}

#[inline(always)]
pub fn f32x4_mul(a: v128, b: v128) -> v128 {
    zip_f32(a, b, |x, y| x * y)
}

#[inline(always)]
pub fn f32x4_div(a: v128, b: v128) -> v128 {
    zip_f32(a, b, |x, y| x / y)
}

/// √x, correctly rounded like `f32.sqrt` (core's `f32::sqrt` is unstable in no_std): Newton's
/// iteration in f64, rounded to f32, then moved to the neighbour whose rounding interval holds x —
/// decided exactly, as the square of a midpoint between two floats (25 bits) is exact in f64 and
/// never equals a float.
fn sqrt(x: f32) -> f32 {
    if !(x > 0.0 && x < f32::INFINITY) {
        return if x < 0.0 { f32::NAN } else { x };
    }
    let xd = x as f64;
    // Halving the exponent gives an estimate within 6%; five steps bring it below 2^-52.
    let mut y = f64::from_bits((xd.to_bits() >> 1) + (0x3ff << 51));
    for _ in 0..5 {
        y = 0.5 * (y + xd / y);
    }
    let s = y as f32;
    let midpoint = |t: f32| (s as f64 + t as f64) * 0.5;
    let (up, down) = (f32::from_bits(s.to_bits() + 1), f32::from_bits(s.to_bits() - 1));
    if midpoint(up) * midpoint(up) < xd {
        up
    } else if midpoint(down) * midpoint(down) > xd {
        down
    } else {
        s
    }
}

#[inline(always)]
pub fn f32x4_sqrt(a: v128) -> v128 {
    from_floats(floats(a).map(sqrt))
}

#[inline(always)]
pub fn f32x4_abs(a: v128) -> v128 {
    v128(a.0.map(|x| x & 0x7fff_ffff))
}

#[inline(always)]
pub fn f32x4_neg(a: v128) -> v128 {
    v128(a.0.map(|x| x ^ 0x8000_0000))
}

/// `b < a ? b : a`: NaN in `a` is kept, NaN in `b` is not.
#[inline(always)]
pub fn f32x4_pmin(a: v128, b: v128) -> v128 {
    zip_f32(a, b, |x, y| if y < x { y } else { x })
}

/// `a < b ? b : a`.
#[inline(always)]
pub fn f32x4_pmax(a: v128, b: v128) -> v128 {
    zip_f32(a, b, |x, y| if x < y { y } else { x })
}

#[inline(always)]
pub fn f32x4_ne(a: v128, b: v128) -> v128 {
    compare(a, b, |x, y| x != y)
}

#[inline(always)]
pub fn f32x4_lt(a: v128, b: v128) -> v128 {
    compare(a, b, |x, y| x < y)
}

#[inline(always)]
pub fn f32x4_gt(a: v128, b: v128) -> v128 {
    compare(a, b, |x, y| x > y)
}

#[inline(always)]
pub fn f32x4_le(a: v128, b: v128) -> v128 {
    compare(a, b, |x, y| x <= y)
}

#[inline(always)]
pub fn f32x4_ge(a: v128, b: v128) -> v128 {
    compare(a, b, |x, y| x >= y)
}

#[inline(always)]
pub fn f32x4_convert_i32x4(a: v128) -> v128 {
    from_floats(a.0.map(|x| x as i32 as f32))
}

#[inline(always)]
pub fn v128_not(a: v128) -> v128 {
    v128(a.0.map(|x| !x))
}

#[inline(always)]
pub fn v128_and(a: v128, b: v128) -> v128 {
    zip(a, b, |x, y| x & y)
}

/// `a & !b`.
#[inline(always)]
pub fn v128_andnot(a: v128, b: v128) -> v128 {
    zip(a, b, |x, y| x & !y)
}

#[inline(always)]
pub fn v128_or(a: v128, b: v128) -> v128 {
    zip(a, b, |x, y| x | y)
}

/// Bits of `v1` where `c` is set, of `v2` elsewhere.
#[inline(always)]
pub fn v128_bitselect(v1: v128, v2: v128, c: v128) -> v128 {
    v128([0, 1, 2, 3].map(|i| (v1.0[i] & c.0[i]) | (v2.0[i] & !c.0[i])))
}

#[inline(always)]
pub fn v128_any_true(a: v128) -> bool {
    (a.0[0] | a.0[1] | a.0[2] | a.0[3]) != 0
}

#[inline(always)]
pub fn i32x4_neg(a: v128) -> v128 {
    v128(a.0.map(|x| x.wrapping_neg()))
}

#[inline(always)]
pub fn i32x4_add(a: v128, b: v128) -> v128 {
    zip(a, b, u32::wrapping_add)
}

#[inline(always)]
pub fn i32x4_sub(a: v128, b: v128) -> v128 {
    zip(a, b, u32::wrapping_sub)
}

#[inline(always)]
pub fn i32x4_shl(a: v128, amt: u32) -> v128 {
    v128(a.0.map(|x| x << (amt % 32)))
}

/// Arithmetic (sign-extending) shift.
#[inline(always)]
pub fn i32x4_shr(a: v128, amt: u32) -> v128 {
    v128(a.0.map(|x| ((x as i32) >> (amt % 32)) as u32))
}

#[inline(always)]
pub fn i32x4_mul(a: v128, b: v128) -> v128 {
    zip(a, b, u32::wrapping_mul)
}

/// Lane j: `c[j] + Σ a[4j+i]·b[4j+i]` over bytes, `a` signed and `b` 7-bit (the relaxed result the
/// kernels rely on, which every engine gives for `b` in 0..=127).
#[inline(always)]
pub fn i32x4_relaxed_dot_i8x16_i7x16_add(a: v128, b: v128, c: v128) -> v128 {
    let dot = |a: u32, b: u32| (0..4).fold(0i32, |sum, i| sum + (a >> (8 * i)) as i8 as i32 * ((b >> (8 * i)) & 0x7f) as i32);
    v128([0, 1, 2, 3].map(|i| c.0[i].wrapping_add(dot(a.0[i], b.0[i]) as u32)))
}
