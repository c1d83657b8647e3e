//! Packing of int8 weights into the micro-kernel's panels.
//!
//! Panel `p` holds outputs `p·NR .. p·NR+NR`: a header of their biases (f32), scales (f32) and code
//! sums (i32, for the activations' zero point), then per k-group of 4 inputs `NR` × 4 codes, output
//! by output (`[o][k % 4]`), the order in which one dot instruction sums 4 products per lane.
//! Outputs and inputs past the layer's are 0, which keeps partial panels on the same code path.
use super::microkernel::NR;

/// Inputs per k-group: the products one lane of the dot instruction sums.
pub const K_GROUP: usize = 4;
/// 32-bit words of a panel's header: biases, scales, code sums.
pub const HEADER: usize = 3 * NR;

pub fn panel_count(outputs: usize) -> usize {
    outputs.div_ceil(NR)
}

/// 32-bit words per panel: the header, then one word per output and k-group.
pub fn panel_len(inputs: usize) -> usize {
    HEADER + inputs.div_ceil(K_GROUP) * NR
}

/// Words of the packed weights, or `None` when the count does not fit in `usize`.
pub fn packed_len(inputs: usize, outputs: usize) -> Option<usize> {
    inputs.div_ceil(K_GROUP).checked_mul(NR)?.checked_add(HEADER)?.checked_mul(panel_count(outputs))
}

/// Packs the int8 `codes` (`[inputs × outputs]`, or `[outputs × inputs]` when `transposed`) with
/// one `scale` per output and `bias` (null: zeros); output `o`'s weight `k` is `codes[k][o]·scales[o]`.
#[inline(never)]
pub unsafe fn pack(codes: *const i8, scales: *const f32, bias: *const f32, inputs: usize, outputs: usize, transposed: bool, packed: *mut u32) {
    let (k_stride, o_stride) = if transposed { (1, inputs) } else { (outputs, 1) };
    for p in 0..panel_count(outputs) {
        let panel = unsafe { packed.add(p * panel_len(inputs)) };
        let first = p * NR;
        unsafe { core::ptr::write_bytes(panel, 0, panel_len(inputs)) };
        for j in 0..(outputs - first).min(NR) {
            let o = first + j;
            let column = unsafe { codes.add(o * o_stride) };
            let weights = unsafe { panel.add(HEADER) as *mut i8 };
            let mut sum = 0i32;
            for k in 0..inputs {
                let code = unsafe { *column.add(k * k_stride) };
                sum += code as i32;
                unsafe { *weights.add((k / K_GROUP * NR + j) * K_GROUP + k % K_GROUP) = code };
            }
            unsafe {
                *panel.add(j) = if bias.is_null() { 0 } else { (*bias.add(o)).to_bits() };
                *panel.add(NR + j) = (*scales.add(o)).to_bits();
                *panel.add(2 * NR + j) = sum as u32;
            }
        }
    }
}

/// The inverse of `pack` for the `[inputs × outputs]` layout: the codes, scales and biases.
#[inline(never)]
pub unsafe fn unpack(packed: *const u32, inputs: usize, outputs: usize, codes: *mut i8, scales: *mut f32, bias: *mut f32) {
    for o in 0..outputs {
        let panel = unsafe { packed.add(o / NR * panel_len(inputs)) };
        let j = o % NR;
        let weights = unsafe { panel.add(HEADER) as *const i8 };
        unsafe {
            *bias.add(o) = f32::from_bits(*panel.add(j));
            *scales.add(o) = f32::from_bits(*panel.add(NR + j));
            for k in 0..inputs {
                *codes.add(k * outputs + o) = *weights.add((k / K_GROUP * NR + j) * K_GROUP + k % K_GROUP);
            }
        }
    }
}
