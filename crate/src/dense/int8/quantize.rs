//! Dynamic quantization of the activations: each row `x` becomes `q = clamp(round(x/step) + zero, 0, LEVELS)`
//! with `step` and `zero` from the row's range widened to hold 0 (as ONNX's DynamicQuantizeLinear), so
//! that zero, and padding, are exact. Plain scalar f32 arithmetic: every build computes the same codes.
use super::microkernel::MR;
use super::packing::K_GROUP;

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
/// reads them: per block of `MR` rows, per k-group, each row's 4 codes; the padding (inputs past the
/// last, rows past the batch) is 0. Writes each row's step and zero point to `steps` and `zeros`
/// (one per padded row). A row holding NaN or ±Inf gets step NaN (its outputs are NaN); a row of
/// zeros gets step 0 (its outputs are the bias).
pub unsafe fn quantize_rows(x: *const f32, batch: usize, inputs: usize, codes: *mut u8, steps: *mut f32, zeros: *mut i32) {
    let groups = inputs.div_ceil(K_GROUP);
    let padded = batch.div_ceil(MR) * MR;
    unsafe { core::ptr::write_bytes(codes, 0, padded * groups * K_GROUP) };
    for r in 0..padded {
        let row = unsafe { core::slice::from_raw_parts(x.add(r * inputs), if r < batch { inputs } else { 0 }) };
        let (mut lo, mut hi, mut finite) = (0.0f32, 0.0f32, true);
        for &v in row {
            finite &= v.is_finite();
            // Comparisons, not f32::min/max: those call fminf/fmaxf, which no_std wasm lacks.
            lo = if v < lo { v } else { lo };
            hi = if v > hi { v } else { hi };
        }
        // Each bound divided before the difference: hi − lo may overflow where the step does not.
        let mut step = if finite { hi / LEVELS - lo / LEVELS } else { f32::NAN };
        let inverse = 1.0 / step;
        // A row of zeros, or of values so small that the step's inverse overflows: all codes 0.
        if !inverse.is_finite() && finite {
            step = 0.0;
        }
        unsafe { *steps.add(r) = step };
        unsafe { *zeros.add(r) = 0 };
        if !(step > 0.0) {
            continue;
        }
        // −lo·inverse ∈ [0, 127]: its rounding is the zero point, and adding it to the rounder makes
        // each code one rounding of x·inverse + zero.
        let zero = (-lo * inverse + ROUNDER).to_bits() as i32 - ROUNDER.to_bits() as i32;
        unsafe { *zeros.add(r) = zero };
        let offset = ROUNDER + zero as f32;
        let block = unsafe { codes.add((r / MR) * MR * groups * K_GROUP + (r % MR) * K_GROUP) };
        for (k, &v) in row.iter().enumerate() {
            let code = ((v * inverse + offset).to_bits() as i32 - ROUNDER.to_bits() as i32).clamp(0, LEVELS as i32);
            unsafe { *block.add((k / K_GROUP) * MR * K_GROUP + k % K_GROUP) = code as u8 };
        }
    }
}
