//! The training forward pass of one dense layer: unlike inference, the pre-activation Z is kept,
//! because the backward pass needs f′(Z).
use crate::abi::code::{GLU, PRELU};
use crate::abi::{LayerDesc, simdnet_activate, simdnet_prelu};
use crate::activation::{Linear, rowwise};
use crate::dense::Shape;
use crate::dense::microkernel::gemm;

/// `z[batch × outputs] = x·W + b`, then `a = act(z)` (`a` may equal `z` for a linear layer).
/// `scratch` holds `scratch_len` floats. Returns false, `a` unwritten, for an activation a dense
/// layer cannot apply.
#[inline(never)]
pub unsafe fn forward(layer: &LayerDesc, x: *const f32, batch: usize, z: *mut f32, a: *mut f32, scratch: *mut f32) -> bool {
    let (inputs, outputs) = (layer.inputs as usize, layer.outputs as usize);
    unsafe { gemm(&Linear, x, batch, Shape { inputs, outputs }, layer.packed, z, scratch) };
    let [p0, p1, p2] = layer.params;
    unsafe {
        match layer.activation {
            PRELU => {
                simdnet_prelu(z, batch, outputs, layer.slopes, a);
                true
            }
            GLU => false,
            code => simdnet_activate(code, p0, p1, p2, z, batch * outputs, a) == 0 || rowwise(code, z, batch, outputs, a, scratch) == 0,
        }
    }
}
