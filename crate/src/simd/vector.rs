//! Vector helpers shared by every kernel: the multiply-add the build supports, and loads/stores of
//! partial vectors so that remainders reuse the full-vector code instead of a scalar copy of it.
use super::*;

pub const LANES: usize = 4;

/// `a * b + c`. The relaxed build fuses it (one rounding); the plain build rounds twice.
#[inline(always)]
pub fn madd(a: v128, b: v128, c: v128) -> v128 {
    #[cfg(target_feature = "relaxed-simd")]
    {
        f32x4_relaxed_madd(a, b, c)
    }
    #[cfg(not(target_feature = "relaxed-simd"))]
    {
        f32x4_add(f32x4_mul(a, b), c)
    }
}

/// A splat of `v` that LLVM cannot see through. With a visible constant, LLVM rewrites
/// `f32x4_pmax(x, splat(0.0))` into `f32x4.max`, which V8 lowers to ~8 instructions instead of one
/// `maxps`; the volatile read keeps the operand opaque. Call it outside loops. The scalar build has
/// no such rewrite, and there constants folded into the code are smaller and faster.
#[inline(always)]
pub fn opaque_splat(v: f32) -> v128 {
    #[cfg(target_feature = "simd128")]
    let v = {
        let cell = v;
        unsafe { core::ptr::read_volatile(&cell) }
    };
    f32x4_splat(v)
}

/// Several constants through `opaque_splat`, for the coefficient tables of the approximations.
#[inline(always)]
pub fn opaque_splats<const N: usize>(values: [f32; N]) -> [v128; N] {
    values.map(opaque_splat)
}

/// c[0]·x^(N-1) + c[1]·x^(N-2) + … + c[N-1], by Horner's rule.
#[inline(always)]
pub fn horner<const N: usize>(c: &[v128; N], x: v128) -> v128 {
    let mut p = c[0];
    for &k in &c[1..] {
        p = madd(p, x, k);
    }
    p
}

/// c[0]·x⁴ + … + c[4] by Estrin's scheme, given x² as well: (c0·x² + (c1·x + c2))·x² + (c3·x + c4).
/// Its chain of dependent multiply-adds is 3 long instead of Horner's 4.
#[inline(always)]
pub fn estrin5(c: &[v128; 5], x: v128, x2: v128) -> v128 {
    let (middle, low) = (madd(c[1], x, c[2]), madd(c[3], x, c[4]));
    madd(madd(c[0], x2, middle), x2, low)
}

/// `y`, except NaN where `x` is NaN: for functions whose min/max steps may drop NaN (the relaxed
/// build turns pmin/pmax into relaxed_min/max, whose NaN result is unspecified).
#[inline(always)]
pub fn keep_nan(x: v128, y: v128) -> v128 {
    v128_bitselect(x, y, f32x4_ne(x, x))
}

/// `dst[i] = f(src[i])` for the `n` vectors at `src`, for elementwise `f` (lanes independent). The
/// scalar build runs `f` on one float at a time, as lane 0 of a splat: LLVM then deletes lanes
/// 1–3's code, which as unused scalar code would otherwise be most of that build.
#[inline(always)]
pub unsafe fn map_vectors(src: *const v128, dst: *mut v128, n: usize, f: impl Fn(v128) -> v128) {
    #[cfg(target_feature = "simd128")]
    for i in 0..n {
        unsafe { v128_store(dst.add(i), f(v128_load(src.add(i)))) };
    }
    #[cfg(not(target_feature = "simd128"))]
    for i in 0..n * LANES {
        let (src, dst) = (src as *const f32, dst as *mut f32);
        unsafe { *dst.add(i) = f32x4_extract_lane::<0>(f(f32x4_splat(*src.add(i)))) };
    }
}

/// `dst[i] = f(a[i], b[i])` for `n` vectors, as `map_vectors`.
#[inline(always)]
pub unsafe fn zip_vectors(a: *const v128, b: *const v128, dst: *mut v128, n: usize, f: impl Fn(v128, v128) -> v128) {
    #[cfg(target_feature = "simd128")]
    for i in 0..n {
        unsafe { v128_store(dst.add(i), f(v128_load(a.add(i)), v128_load(b.add(i)))) };
    }
    #[cfg(not(target_feature = "simd128"))]
    for i in 0..n * LANES {
        let (a, b, dst) = (a as *const f32, b as *const f32, dst as *mut f32);
        unsafe { *dst.add(i) = f32x4_extract_lane::<0>(f(f32x4_splat(*a.add(i)), f32x4_splat(*b.add(i)))) };
    }
}

/// Loads `n` floats (0 < n < LANES), filling the other lanes with `fill`. Lane loads, not a copy
/// through the stack: V8 calls out of line for `memory.copy`, ~15 ns per partial vector.
#[inline(always)]
pub unsafe fn load_partial(p: *const f32, n: usize, fill: f32) -> v128 {
    let v = f32x4_splat(fill);
    unsafe {
        match n {
            1 => v128_load32_lane::<0>(v, p as *const u32),
            2 => v128_load64_lane::<0>(v, p as *const u64),
            _ => v128_load32_lane::<2>(v128_load64_lane::<0>(v, p as *const u64), p.add(2) as *const u32),
        }
    }
}

/// Stores the first `n` lanes of `v` (0 < n < LANES).
#[inline(always)]
pub unsafe fn store_partial(p: *mut f32, n: usize, v: v128) {
    unsafe {
        match n {
            1 => v128_store32_lane::<0>(v, p as *mut u32),
            2 => v128_store64_lane::<0>(v, p as *mut u64),
            _ => {
                v128_store64_lane::<0>(v, p as *mut u64);
                v128_store32_lane::<2>(v, p.add(2) as *mut u32);
            }
        }
    }
}

/// Vectors of partial sums behind one i32x4 of int8 dot products (`dot4_add`, `dot4_sum`): SIMD128's
/// widened dot leaves each output's sum in two lanes, added up once after the k-loop instead of on
/// every step.
#[cfg(all(target_feature = "simd128", not(target_feature = "relaxed-simd")))]
pub const DOT_PARTS: usize = 2;
#[cfg(any(target_feature = "relaxed-simd", not(target_feature = "simd128")))]
pub const DOT_PARTS: usize = 1;

/// Adds to `acc` lane j's dot product of bytes 4j..4j+3 of `w` (signed) and `x` (each 0..=127), where
/// `x` is one word splat over the lanes (4 codes of one row): the same integers in every build.
/// The relaxed build uses `i16x8.relaxed_dot_i8x16_i7x16_s`, exact on every engine for such `x`, and
/// sums its pairs with a `dot_i16x8_s` by ones: V8 11.3 (Node 20) computes
/// `i32x4.relaxed_dot_i8x16_i7x16_add_s` as twice the dot without the addend (and LLVM fuses an
/// `extadd_pairwise` + add back into that instruction); on x64 V8 lowers either form to the same
/// `pmaddubsw` + `pmaddwd` + `paddd`. The scalar build emulates the fused instruction. SIMD128
/// widens to 16 bits: `dot_i16x8_s` sums two products per lane, into `DOT_PARTS` = 2 vectors.
#[inline(always)]
pub fn dot4_add(w: v128, x: v128, acc: &mut [v128; DOT_PARTS]) {
    #[cfg(target_feature = "relaxed-simd")]
    {
        acc[0] = i32x4_add(acc[0], i32x4_dot_i16x8(i16x8_relaxed_dot_i8x16_i7x16(w, x), i16x8_splat(1)));
    }
    #[cfg(not(target_feature = "simd128"))]
    {
        acc[0] = i32x4_relaxed_dot_i8x16_i7x16_add(w, x, acc[0]);
    }
    #[cfg(all(target_feature = "simd128", not(target_feature = "relaxed-simd")))]
    {
        // The splat's low half is its 4 codes twice: lanes (2j, 2j+1) of each dot hold two of output
        // j's products (outputs 0–1 from the low half of w, 2–3 from the high half).
        let codes = u16x8_extend_low_u8x16(x);
        acc[0] = i32x4_add(acc[0], i32x4_dot_i16x8(i16x8_extend_low_i8x16(w), codes));
        acc[1] = i32x4_add(acc[1], i32x4_dot_i16x8(i16x8_extend_high_i8x16(w), codes));
    }
}

/// The four output sums behind `dot4_add`'s partial sums.
#[inline(always)]
pub fn dot4_sum(acc: [v128; DOT_PARTS]) -> v128 {
    #[cfg(all(target_feature = "simd128", not(target_feature = "relaxed-simd")))]
    {
        i32x4_add(i32x4_shuffle::<0, 2, 4, 6>(acc[0], acc[1]), i32x4_shuffle::<1, 3, 5, 7>(acc[0], acc[1]))
    }
    #[cfg(any(target_feature = "relaxed-simd", not(target_feature = "simd128")))]
    {
        acc[0]
    }
}

/// The low bytes of the four lanes (each 0..=255) as one little-endian word.
#[inline(always)]
pub fn pack_bytes(v: v128) -> u32 {
    #[cfg(target_feature = "simd128")]
    {
        let bytes = u8x16_narrow_i16x8(i16x8_narrow_i32x4(v, v), i16x8_splat(0));
        i32x4_extract_lane::<0>(bytes) as u32
    }
    #[cfg(not(target_feature = "simd128"))]
    {
        let lane = |l: u32, i: u32| (l & 0xff) << (8 * i);
        lane(i32x4_extract_lane::<0>(v) as u32, 0)
            | lane(i32x4_extract_lane::<1>(v) as u32, 1)
            | lane(i32x4_extract_lane::<2>(v) as u32, 2)
            | lane(i32x4_extract_lane::<3>(v) as u32, 3)
    }
}
