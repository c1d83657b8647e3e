//! Keras 3's optimizers over packed weights: gradient clipping, decoupled weight decay, then the
//! update rule, each one flat loop over the `packed_len` floats of a layer's weights, gradient
//! and state. Padding stays exactly zero: its gradient and state are zero, and so is every update
//! of a zero weight by a zero gradient.
use crate::abi::{LayerDesc, OptimizerDesc, optimizer_flag as flag, optimizer_kind as kind};
use crate::dense::microkernel::NR;
use crate::dense::packing::{panel_count, panel_len};
use crate::simd::*;

/// Sums of squares of a packed gradient's kernel and bias (row 0 of each panel).
pub unsafe fn squared_norms(layer: &LayerDesc, grad: *const f32) -> (f64, f64) {
    let (mut kernel, mut bias) = (0.0, 0.0);
    let stride = panel_len(layer.inputs as usize);
    for p in 0..panel_count(layer.outputs as usize) {
        let panel = unsafe { grad.add(p * stride) };
        for i in 0..stride {
            let g = unsafe { *panel.add(i) } as f64;
            if i < NR { bias += g * g } else { kernel += g * g }
        }
    }
    (kernel, bias)
}

/// Keras' `clip_by_norm` factor: `clip / max(norm, clip)`.
pub fn clip_factor(squared_norm: f64, clip: f32) -> f32 {
    // core has no scalar square root without std: the vector one, on one lane.
    let norm = f32x4_extract_lane::<0>(f32x4_sqrt(f32x4_splat(squared_norm as f32)));
    clip / norm.max(clip)
}

/// Multiplies a packed gradient's kernel part by `kernel_scale` and its bias by `bias_scale`.
pub unsafe fn scale(layer: &LayerDesc, grad: *mut f32, kernel_scale: f32, bias_scale: f32) {
    let stride = panel_len(layer.inputs as usize);
    for p in 0..panel_count(layer.outputs as usize) {
        let panel = unsafe { grad.add(p * stride) };
        for i in 0..stride {
            unsafe { *panel.add(i) *= if i < NR { bias_scale } else { kernel_scale } };
        }
    }
}

/// Runs `f(weight, gradient, state)` over the `n` floats of the packed arrays and stores what it
/// returns and leaves in `state` (null state arrays are neither read nor written). The SIMD builds
/// go a vector at a time; the scalar build one float at a time as lane 0, as `map_vectors` does,
/// so that LLVM deletes lanes 1–3.
#[inline(always)]
unsafe fn for_each(w: *mut f32, g: *const f32, state: [*mut f32; 3], n: usize, f: impl Fn(v128, v128, &mut [v128; 3]) -> v128) {
    let width = if cfg!(target_feature = "simd128") { LANES } else { 1 };
    let load = |p: *const f32| unsafe { if width == LANES { v128_load(p as *const v128) } else { f32x4_splat(*p) } };
    let store = |p: *mut f32, v: v128| unsafe {
        if width == LANES {
            v128_store(p as *mut v128, v)
        } else {
            *p = f32x4_extract_lane::<0>(v)
        }
    };
    let mut i = 0;
    while i < n {
        let at = |p: *mut f32| unsafe { p.add(i) };
        let mut s = state.map(|p| if p.is_null() { f32x4_splat(0.0) } else { load(at(p)) });
        store(at(w), f(load(at(w)), load(unsafe { g.add(i) }), &mut s));
        for (p, v) in state.iter().zip(s) {
            if !p.is_null() {
                store(at(*p), v);
            }
        }
        i += width;
    }
}

/// One update of `n` weights `w` (a whole number of vectors: a layer's packed weights, or prelu's
/// padded slopes) by their gradient `g` (clipped by `clipvalue` here), with the optimizer's state
/// arrays (each `n` floats; unused ones null): Keras 3's rules.
#[inline(never)]
pub unsafe fn update(opt: &OptimizerDesc, w: *mut f32, g: *const f32, state: [*mut f32; 3], n: usize) {
    let splat = f32x4_splat;
    let (lr, one) = (splat(opt.learning_rate), splat(1.0));
    let (b1, b2, eps) = (splat(opt.beta1), splat(opt.beta2), splat(opt.epsilon));
    let (one_minus_b1, one_minus_b2) = (f32x4_sub(one, b1), f32x4_sub(one, b2));
    let (decay, clip, step_size) = (splat(opt.weight_decay), splat(opt.clipvalue), splat(opt.step_size));
    let has = |f: u32| opt.flags & f != 0;
    // Clipping by value, then decoupled weight decay, as Keras' `apply` runs them before the rule.
    let prepare = |w: v128, g: v128| {
        let g = if opt.clipvalue > 0.0 { f32x4_pmin(f32x4_pmax(g, f32x4_neg(clip)), clip) } else { g };
        let w = if opt.weight_decay != 0.0 { f32x4_sub(w, f32x4_mul(f32x4_mul(w, decay), lr)) } else { w };
        (w, g)
    };
    unsafe {
        match opt.kind {
            kind::SGD => for_each(w, g, state, n, |w, g, [m, ..]| {
                let (w, g) = prepare(w, g);
                let lr_g = f32x4_mul(g, lr);
                if opt.beta1 == 0.0 {
                    return f32x4_sub(w, lr_g);
                }
                *m = f32x4_sub(f32x4_mul(*m, b1), lr_g);
                f32x4_add(w, if has(flag::NESTEROV) { f32x4_sub(f32x4_mul(*m, b1), lr_g) } else { *m })
            }),
            kind::ADAM => for_each(w, g, state, n, |w, g, [m, v, v_max]| {
                let (w, g) = prepare(w, g);
                *m = f32x4_add(*m, f32x4_mul(f32x4_sub(g, *m), one_minus_b1));
                *v = f32x4_add(*v, f32x4_mul(f32x4_sub(f32x4_mul(g, g), *v), one_minus_b2));
                let v_used = if has(flag::AMSGRAD) {
                    *v_max = f32x4_pmax(*v_max, *v);
                    *v_max
                } else {
                    *v
                };
                f32x4_sub(w, f32x4_div(f32x4_mul(*m, step_size), f32x4_add(f32x4_sqrt(v_used), eps)))
            }),
            kind::RMSPROP => for_each(w, g, state, n, |w, g, [v, momentum, mean]| {
                let (w, g) = prepare(w, g);
                let (rho, one_minus_rho) = (b1, one_minus_b1);
                *v = f32x4_add(f32x4_mul(rho, *v), f32x4_mul(one_minus_rho, f32x4_mul(g, g)));
                let denominator = if has(flag::CENTERED) {
                    *mean = f32x4_add(f32x4_mul(rho, *mean), f32x4_mul(one_minus_rho, g));
                    f32x4_add(f32x4_sub(*v, f32x4_mul(*mean, *mean)), eps)
                } else {
                    f32x4_add(*v, eps)
                };
                let increment = f32x4_div(f32x4_mul(lr, g), f32x4_sqrt(denominator));
                if opt.beta2 == 0.0 {
                    return f32x4_sub(w, increment);
                }
                *momentum = f32x4_add(f32x4_mul(b2, *momentum), increment);
                f32x4_sub(w, *momentum)
            }),
            _ => {}
        }
    }
}
