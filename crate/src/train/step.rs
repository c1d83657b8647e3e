//! One training step of a whole Sequential model in one call: forward, loss, backward, update,
//! over a table of layers and a step descriptor that the caller fills (their layouts:
//! crate/src/abi.rs). Every buffer belongs to the caller; nothing is allocated here.
use super::backward::{self, activation_backward, input_gradient, weight_gradient};
use super::forward_train::forward;
use super::loss::loss;
use super::optimizer::{clip_factor, scale, squared_norms, update};
use crate::abi::code::PRELU;
use crate::abi::{OptimizerDesc, TrainLayer, TrainStep, step_mode};
use crate::dense::packing::fitted_packed_len;
use crate::simd::LANES;

/// prelu's slopes as a variable the optimizer trains (Keras' PReLU `alpha`): their gradient and a
/// copy padded to whole vectors (the update runs on vectors; the layer's own array holds exactly
/// `outputs` floats), both after the layer's packed gradient, and their state after the packed state.
struct Slopes {
    grad: *mut f32,
    padded: *mut f32,
    len: usize,
    /// Offset of the slopes' state in each state array.
    state_at: usize,
}

impl TrainLayer {
    fn slopes(&self) -> Option<Slopes> {
        if self.desc.activation != PRELU {
            return None;
        }
        let state_at = fitted_packed_len(self.desc.inputs as usize, self.desc.outputs as usize);
        let len = (self.desc.outputs as usize).div_ceil(LANES) * LANES;
        let grad = unsafe { self.grad.add(state_at) };
        Some(Slopes { grad, padded: unsafe { grad.add(len) }, len, state_at })
    }
}

/// Behind `abi::simdnet_train_scratch_len`: the most scratch any of `layers` needs at `batch` rows,
/// or None when that does not fit in wasm32.
pub fn scratch_len(layers: &[TrainLayer], batch: usize) -> Option<usize> {
    layers.iter().try_fold(0, |most: usize, l| Some(most.max(backward::scratch_len(&l.desc, batch)?)))
}

/// Runs `step` and returns 0; or 1 + the index of a layer whose activation has no training form,
/// or 1 + the layer count for a loss the output cannot take (the step stops there).
pub unsafe fn run(step: &mut TrainStep) -> u32 {
    let count = step.count as usize;
    let layers = unsafe { core::slice::from_raw_parts_mut(step.layers, count) };
    let batch = step.batch as usize;
    let mut input = step.x;
    for (i, layer) in layers.iter().enumerate() {
        if !unsafe { forward(&layer.desc, input, batch, layer.z, layer.a, step.scratch) } {
            return 1 + i as u32;
        }
        input = layer.a;
    }
    let Some(last) = layers.last() else { return 1 };
    let (activation, outputs) = (last.desc.activation, last.desc.outputs as usize);
    let Some(fused) = (unsafe { loss(&mut step.loss, activation, last.a, step.targets, batch, outputs, step.gradient_a) }) else {
        return 1 + count as u32;
    };
    if step.mode == step_mode::LOSS {
        return 0;
    }
    let (mut da, mut dx) = (step.gradient_a, step.gradient_b);
    for i in (0..count).rev() {
        let layer = &layers[i];
        let dz = if fused && i + 1 == count {
            da
        } else {
            let slope_grad = layer.slopes().map_or(core::ptr::null_mut(), |s| s.grad);
            match unsafe { activation_backward(&layer.desc, layer.z, da, batch, slope_grad, step.scratch) } {
                Some(dz) => dz,
                None => return 1 + i as u32,
            }
        };
        let x = if i == 0 { step.x } else { layers[i - 1].a };
        unsafe { weight_gradient(x, dz, batch, &layer.desc, layer.grad, step.scratch) };
        if i > 0 {
            unsafe { input_gradient(dz, batch, &layer.desc, dx, step.scratch) };
            core::mem::swap(&mut da, &mut dx);
        }
    }
    if step.mode == step_mode::UPDATE {
        unsafe { apply(&step.optimizer, layers) };
    }
    0
}

/// Σ g² over prelu's slope gradient (0 for other layers).
unsafe fn slope_norm(layer: &TrainLayer) -> f64 {
    layer.slopes().map_or(0.0, |s| (0..s.len).map(|i| unsafe { *s.grad.add(i) } as f64).map(|g| g * g).sum())
}

unsafe fn scale_slopes(layer: &TrainLayer, factor: f32) {
    if let Some(s) = layer.slopes() {
        for i in 0..s.len {
            unsafe { *s.grad.add(i) *= factor };
        }
    }
}

/// Clips the gradients (Keras: by global norm, or per variable by norm) and updates every layer:
/// kernel, bias and prelu's slopes are three variables.
unsafe fn apply(opt: &OptimizerDesc, layers: &[TrainLayer]) {
    if opt.global_clipnorm > 0.0 {
        let total: f64 = layers.iter().map(|l| unsafe { squared_norms(&l.desc, l.grad) }).map(|(k, b)| k + b).sum::<f64>()
            + layers.iter().map(|l| unsafe { slope_norm(l) }).sum::<f64>();
        let factor = clip_factor(total, opt.global_clipnorm);
        for l in layers {
            unsafe { scale(&l.desc, l.grad, factor, factor) };
            unsafe { scale_slopes(l, factor) };
        }
    }
    for l in layers {
        let (inputs, outputs) = (l.desc.inputs as usize, l.desc.outputs as usize);
        if opt.clipnorm > 0.0 {
            let (kernel, bias) = unsafe { squared_norms(&l.desc, l.grad) };
            unsafe { scale(&l.desc, l.grad, clip_factor(kernel, opt.clipnorm), clip_factor(bias, opt.clipnorm)) };
            unsafe { scale_slopes(l, clip_factor(slope_norm(l), opt.clipnorm)) };
        }
        unsafe { update(opt, l.desc.packed as *mut f32, l.grad, l.state, fitted_packed_len(inputs, outputs)) };
        if let Some(s) = l.slopes() {
            let slopes = l.desc.slopes as *mut f32;
            unsafe {
                core::ptr::copy_nonoverlapping(slopes, s.padded, outputs);
                update(opt, s.padded, s.grad, l.state.map(|p| if p.is_null() { p } else { p.add(s.state_at) }), s.len);
                core::ptr::copy_nonoverlapping(s.padded, slopes, outputs);
            }
        }
    }
}
