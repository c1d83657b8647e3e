//! Dynamic quantization of the activations: each row `x` becomes `q = clamp(round(x/step) + zero, 0, LEVELS)`
//! with `step` and `zero` from the row's range widened to hold 0 (as ONNX's DynamicQuantizeLinear), so
//! that zero is exact. Separately rounded f32 operations (no fused multiply-add) whose results do
//! not depend on the order of lanes: every build computes the same codes.
use super::microkernel::MR;
use super::packing::K_GROUP;
use crate::simd::*;

/// The largest code: 7 bits, the range of the relaxed dot's second operand on which every engine
/// agrees (x64 lowers it to `pmaddubsw`, which reads it as unsigned, ARM to `sdot`, as signed).
pub const LEVELS: f32 = 127.0;

/// Adding 1.5·2²³ to a float of magnitude < 2²² rounds it to an integer (ties to even) held in the
/// low mantissa bits: cheaper than a rounding call, and exact.
const ROUNDER: f32 = 12_582_912.0;

/// Bytes of quantized rows for `batch` rows (rounded up to whole `MR`-row blocks) of `inputs`.
pub fn codes_len(batch: usize, inputs: usize) -> Option<usize> {
    batch.div_ceil(MR).checked_mul(MR)?.checked_mul(inputs.div_ceil(K_GROUP))?.checked_mul(K_GROUP)
}

/// Quantizes the `batch` rows of `x` into `codes` (`codes_len` bytes), laid out as the micro-kernel
/// reads them: per block of `MR` rows, per k-group, each row's 4 codes. Writes each row's step and
/// zero point to `steps` and `zeros` (one per padded row). A row holding NaN or ±Inf gets step NaN
/// (its outputs are NaN); a row of zeros, or of values below ~1e-36, step 0 (its outputs are the
/// bias). Codes that no stored output depends on are left as they are: those of rows past the
/// batch or with step NaN. The inputs past the last get the code of 0 (their weights are 0).
pub unsafe fn quantize_rows(x: *const f32, batch: usize, inputs: usize, codes: *mut u8, steps: *mut f32, zeros: *mut i32) {
    let groups = inputs.div_ceil(K_GROUP);
    for r in 0..batch.div_ceil(MR) * MR {
        unsafe { (*steps.add(r), *zeros.add(r)) = (0.0, 0) };
        if r >= batch {
            continue;
        }
        let row = unsafe { x.add(r * inputs) };
        let block = unsafe { codes.add((r / MR) * MR * groups * K_GROUP + (r % MR) * K_GROUP) as *mut u32 };
        // The sum of v·0 is NaN once a NaN or ±Inf has been seen.
        let (mut lo, mut hi, mut poison, none) = (f32x4_splat(0.0), f32x4_splat(0.0), f32x4_splat(0.0), f32x4_splat(0.0));
        unsafe {
            for_groups(row, inputs, |_, v| {
                (lo, hi, poison) = (f32x4_pmin(lo, v), f32x4_pmax(hi, v), f32x4_add(poison, f32x4_mul(v, none)));
            })
        };
        let lanes = |v: v128| [f32x4_extract_lane::<0>(v), f32x4_extract_lane::<1>(v), f32x4_extract_lane::<2>(v), f32x4_extract_lane::<3>(v)];
        let lo = lanes(lo).into_iter().fold(0.0, |a, b| if b < a { b } else { a });
        let hi = lanes(hi).into_iter().fold(0.0, |a, b| if b > a { b } else { a });
        if v128_any_true(f32x4_ne(poison, poison)) {
            unsafe { *steps.add(r) = f32::NAN };
            continue;
        }
        // Each bound divided before the difference: hi − lo may overflow where the step does not.
        let step = hi / LEVELS - lo / LEVELS;
        let inverse = 1.0 / step;
        // A row of zeros, or of values so small that the step's inverse overflows: step 0, and codes 0
        // (so that its outputs are the bias exactly, even a bias of −0).
        if !(inverse < f32::INFINITY) {
            for g in 0..groups {
                unsafe { *block.add(g * MR) = 0 };
            }
            continue;
        }
        // −lo·inverse ∈ [0, 127]: its rounding is the zero point. Each code is then x·inverse, clamped
        // to the codes' integer bounds (clamping commutes with rounding there), rounded by the rounder
        // with the zero point added to it.
        let zero = (-lo * inverse + ROUNDER).to_bits() as i32 - ROUNDER.to_bits() as i32;
        unsafe { (*steps.add(r), *zeros.add(r)) = (step, zero) };
        let (scale, offset) = (f32x4_splat(inverse), f32x4_splat(ROUNDER + zero as f32));
        let (low, high, rounder) = (f32x4_splat(-zero as f32), f32x4_splat(LEVELS - zero as f32), i32x4_splat(ROUNDER.to_bits() as i32));
        unsafe {
            for_groups(row, inputs, |g, v| {
                let clamped = f32x4_pmin(f32x4_pmax(f32x4_mul(v, scale), low), high);
                *block.add(g * MR) = pack_bytes(i32x4_sub(f32x4_add(clamped, offset), rounder));
            })
        };
    }
}

/// `f(g, inputs of k-group g)` over a row of `inputs` floats, the last group's inputs followed by
/// zeros (which leave its range as it is): full groups in a loop without a branch, then the rest.
#[inline(always)]
unsafe fn for_groups(row: *const f32, inputs: usize, mut f: impl FnMut(usize, v128)) {
    let full = inputs / K_GROUP;
    for g in 0..full {
        f(g, unsafe { v128_load(row.add(g * K_GROUP) as *const v128) });
    }
    if inputs % K_GROUP != 0 {
        f(full, unsafe { load_partial(row.add(full * K_GROUP), inputs % K_GROUP, 0.0) });
    }
}
