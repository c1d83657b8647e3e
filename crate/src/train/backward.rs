//! Backpropagation through one dense layer with the inference GEMM: dZ = dA ⊙ f′(Z), the packed
//! weight gradient `[1 | X]ᵀ · dZ` (row 0 is db), and dX = dZ · Wᵀ.
use crate::abi::code::{GLU, PRELU};
use crate::abi::{LayerDesc, simdnet_activate_backward, simdnet_prelu_backward, simdnet_rowwise_backward};
use crate::activation::{Linear, rowwise_scratch_len};
use crate::dense::Shape;
use crate::dense::microkernel::{NR, gemm, scratch_len as gemm_scratch_len};
use crate::dense::packing::{fitted_packed_len, pack, packed_len, panel_count};

/// Floats of scratch one layer's forward and backward passes need at `batch` rows (the phases
/// run one after another, so the largest of them), or None when that does not fit in a usize.
/// The offsets the passes compute inside the scratch are parts of this sum, so once it is known to
/// fit they cannot overflow.
pub fn scratch_len(layer: &LayerDesc, batch: usize) -> Option<usize> {
    let (i, o) = (layer.inputs as usize, layer.outputs as usize);
    let forward = gemm_scratch_len(batch, i)?.max(rowwise_scratch_len(layer.activation, o));
    let transposed = i.checked_add(1)?.checked_mul(batch)?;
    let product = i.checked_add(1)?.checked_mul(o)?;
    let weights = [transposed, packed_len(batch, o)?, product, gemm_scratch_len(i + 1, batch)?].into_iter().try_fold(0usize, usize::checked_add)?;
    let inputs = packed_len(o, i)?.checked_add(gemm_scratch_len(batch, o)?)?;
    Some(forward.max(weights).max(inputs))
}


/// dZ = dA ⊙ f′(Z) (the row-wise activations: the Jacobian product). Returns where dZ was written:
/// over `da` for the elementwise activations and prelu, over `z` for the row-wise ones (whose
/// backward pass cannot write over its dy); None for an activation without a dense backward pass.
/// For prelu, also the gradient of its slopes into `slope_grad`: Σ over the batch of dA·min(z, 0).
#[inline(never)]
pub unsafe fn activation_backward(
    layer: &LayerDesc,
    z: *mut f32,
    da: *mut f32,
    batch: usize,
    slope_grad: *mut f32,
    scratch: *mut f32,
) -> Option<*mut f32> {
    let outputs = layer.outputs as usize;
    let [p0, p1, p2] = layer.params;
    unsafe {
        match layer.activation {
            PRELU => {
                for o in 0..outputs {
                    *slope_grad.add(o) = (0..batch).map(|b| *da.add(b * outputs + o) * (*z.add(b * outputs + o)).min(0.0)).sum();
                }
                simdnet_prelu_backward(z, da, batch, outputs, layer.slopes, da);
                Some(da)
            }
            GLU => None,
            code if simdnet_activate_backward(code, p0, p1, p2, z, da, batch * outputs, da) == 0 => Some(da),
            code if simdnet_rowwise_backward(code, z, da, batch, outputs, z, scratch) == 0 => Some(z),
            _ => None,
        }
    }
}

/// The gradient of the packed weights, in their packed layout: `[1 | X]ᵀ · dZ`, an (I+1) × O
/// product whose row 0 is db. X is transposed with a leading row of ones, dZ packed as the GEMM's
/// right operand (K = batch), and the row-major product packed like the weights (padding zero).
#[inline(never)]
pub unsafe fn weight_gradient(x: *const f32, dz: *const f32, batch: usize, layer: &LayerDesc, grad: *mut f32, scratch: *mut f32) {
    let (inputs, outputs) = (layer.inputs as usize, layer.outputs as usize);
    let x_ones = scratch;
    let dz_packed = unsafe { x_ones.add((inputs + 1) * batch) };
    let product = unsafe { dz_packed.add(fitted_packed_len(batch, outputs)) };
    let gemm_scratch = unsafe { product.add((inputs + 1) * outputs) };
    unsafe {
        for b in 0..batch {
            *x_ones.add(b) = 1.0;
            for k in 0..inputs {
                *x_ones.add((k + 1) * batch + b) = *x.add(b * inputs + k);
            }
        }
        pack(dz, core::ptr::null(), batch, outputs, false, dz_packed);
        gemm(&Linear, x_ones, inputs + 1, Shape { inputs: batch, outputs }, dz_packed, product, gemm_scratch);
        panels_from_rows(product, inputs + 1, outputs, grad);
    }
}

/// A row-major `rows × outputs` matrix into the packed panel layout (`NR` columns per panel, the
/// padding columns zero), row by row: both sides are read and written in order, where `pack`,
/// built for kernels of either layout, reads a row-major matrix column by column.
unsafe fn panels_from_rows(matrix: *const f32, rows: usize, outputs: usize, packed: *mut f32) {
    for p in 0..panel_count(outputs) {
        let cols = (outputs - p * NR).min(NR);
        for r in 0..rows {
            let (src, dst) = unsafe { (matrix.add(r * outputs + p * NR), packed.add((p * rows + r) * NR)) };
            for j in 0..cols {
                unsafe { *dst.add(j) = *src.add(j) };
            }
        }
    }
}

/// dX[batch × inputs] = dZ · Wᵀ, with Wᵀ packed straight from the packed weights, as the right
/// operand of an O → I layer without bias.
#[inline(never)]
pub unsafe fn input_gradient(dz: *const f32, batch: usize, layer: &LayerDesc, dx: *mut f32, scratch: *mut f32) {
    let (inputs, outputs) = (layer.inputs as usize, layer.outputs as usize);
    let transposed = scratch;
    let gemm_scratch = unsafe { transposed.add(fitted_packed_len(outputs, inputs)) };
    unsafe {
        transpose_packed(layer.packed, inputs, outputs, transposed);
        gemm(&Linear, dz, batch, Shape { inputs: outputs, outputs: inputs }, transposed, dx, gemm_scratch);
    }
}

/// Wᵀ in the packed layout of an `outputs` → `inputs` layer (a zero bias row, then row 1 + o of
/// panel q holds W[q·NR + j][o]) from W's own packed panels, where W[k][o] is row k + 1, column
/// o % NR of panel o / NR: one pass, where unpacking and then packing transposed would take two,
/// the first reading the panels column by column.
unsafe fn transpose_packed(packed: *const f32, inputs: usize, outputs: usize, transposed: *mut f32) {
    for q in 0..panel_count(inputs) {
        let panel = unsafe { transposed.add(q * (outputs + 1) * NR) };
        unsafe { core::ptr::write_bytes(panel, 0, (outputs + 1) * NR) };
        for o in 0..outputs {
            let column = unsafe { packed.add(o / NR * (inputs + 1) * NR + (q * NR + 1) * NR + o % NR) };
            for j in 0..(inputs - q * NR).min(NR) {
                unsafe { *panel.add((o + 1) * NR + j) = *column.add(j * NR) };
            }
        }
    }
}
