//! Packing of dense weights into the micro-kernel's panel layout.
//!
//! Panel `p` holds outputs `p·NR .. p·NR+NR`: first the bias of those outputs, then for each input
//! `k` the `NR` weights `W[k][p·NR ..]`, so that the k-loop reads one contiguous stream. Outputs past
//! the layer's last are zero, which keeps the partial last panel on the same code path.
use super::microkernel::NR;

pub fn panel_count(outputs: usize) -> usize {
    outputs.div_ceil(NR)
}

/// Floats per panel: the bias row plus one row per input.
pub fn panel_len(inputs: usize) -> usize {
    (inputs + 1) * NR
}

/// Floats of the packed weights, or `None` when the count does not fit in `usize`.
pub fn packed_len(inputs: usize, outputs: usize) -> Option<usize> {
    inputs.checked_add(1)?.checked_mul(NR)?.checked_mul(panel_count(outputs))
}

/// `packed_len` of a size already found to fit: a layer's own (checked when it was created), or one
/// that a scratch-length query, which sums it with the rest, has checked.
pub fn fitted_packed_len(inputs: usize, outputs: usize) -> usize {
    packed_len(inputs, outputs).unwrap_or(0)
}

#[inline(never)]
pub unsafe fn pack(kernel: *const f32, bias: *const f32, inputs: usize, outputs: usize, transposed: bool, packed: *mut f32) {
    // Element strides of the kernel along inputs (k) and outputs (o).
    let (k_stride, o_stride) = if transposed { (1, inputs) } else { (outputs, 1) };
    for p in 0..panel_count(outputs) {
        let panel = unsafe { packed.add(p * panel_len(inputs)) };
        let first = p * NR;
        let cols = (outputs - first).min(NR);
        unsafe {
            core::ptr::write_bytes(panel, 0, panel_len(inputs));
            for j in 0..cols {
                if !bias.is_null() {
                    *panel.add(j) = *bias.add(first + j);
                }
                let column = kernel.add((first + j) * o_stride);
                for k in 0..inputs {
                    *panel.add((k + 1) * NR + j) = *column.add(k * k_stride);
                }
            }
        }
    }
}

/// The inverse of `pack` for the `[inputs × outputs]` layout: what `getWeights()` returns.
#[inline(never)]
pub unsafe fn unpack(packed: *const f32, inputs: usize, outputs: usize, kernel: *mut f32, bias: *mut f32) {
    for o in 0..outputs {
        let panel = unsafe { packed.add(o / NR * panel_len(inputs)) };
        let j = o % NR;
        unsafe {
            *bias.add(o) = *panel.add(j);
            for k in 0..inputs {
                *kernel.add(k * outputs + o) = *panel.add((k + 1) * NR + j);
            }
        }
    }
}

/// Interleaves `ROWS` rows of `inputs` floats (row-major at `x`) into `dst[k·ROWS + r]`, the order in
/// which the micro-kernel reads them.
#[inline(always)]
pub unsafe fn interleave_rows<const ROWS: usize>(x: *const f32, inputs: usize, dst: *mut f32) {
    for k in 0..inputs {
        for r in 0..ROWS {
            unsafe { *dst.add(k * ROWS + r) = *x.add(r * inputs + k) };
        }
    }
}
