//! A whole Sequential model in one call: no JS↔wasm crossing or copy between layers.
use crate::dense;

/// One layer of the table passed to `simdnet_model_forward`, laid out as 8 little-endian 32-bit words
/// (mirrored in ts/abi.ts).
#[repr(C)]
pub struct LayerDesc {
    pub(crate) packed: *const f32,
    pub(crate) inputs: u32,
    pub(crate) outputs: u32,
    pub(crate) activation: u32,
    pub(crate) params: [f32; 3],
    /// prelu's slopes (`outputs` floats), or null.
    pub(crate) slopes: *const f32,
}

/// Runs `layers` dense layers from `table` over `x[batch × inputs0]` into `y[batch × outputs_last]`,
/// alternating between `hidden_a` and `hidden_b` (each `batch × widest hidden layer` floats) for the
/// activations between layers; `scratch` holds the largest `simdnet_dense_scratch_len` of the
/// layers. Returns 0, or 1 + the index of a layer whose activation it cannot apply.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn simdnet_model_forward(
    table: *const LayerDesc,
    layers: usize,
    x: *const f32,
    batch: usize,
    hidden_a: *mut f32,
    hidden_b: *mut f32,
    y: *mut f32,
    scratch: *mut f32,
) -> u32 {
    let mut src = x;
    for i in 0..layers {
        let layer = unsafe { &*table.add(i) };
        let dst = if i + 1 == layers {
            y
        } else if i % 2 == 0 {
            hidden_a
        } else {
            hidden_b
        };
        let [p0, p1, p2] = layer.params;
        let status = unsafe {
            dense::simdnet_dense(
                src,
                batch,
                layer.inputs as usize,
                layer.outputs as usize,
                layer.packed,
                layer.activation,
                p0,
                p1,
                p2,
                layer.slopes,
                dst,
                scratch,
            )
        };
        if status != 0 {
            return 1 + i as u32;
        }
        src = dst;
    }
    0
}
