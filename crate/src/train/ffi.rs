//! The training entry points of the module (their TypeScript signatures: ts/abi.ts).
use super::backward;
use crate::dense::TOO_LARGE;
use super::step::{Step, TrainLayer, run};

/// Floats of scratch `simdnet_train_step` needs for `count` layers of `table` at `batch` rows, or
/// `TOO_LARGE` when that does not fit in wasm32.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn simdnet_train_scratch_len(table: *const TrainLayer, count: usize, batch: usize) -> usize {
    let layers = unsafe { core::slice::from_raw_parts(table, count) };
    layers.iter().try_fold(0, |most: usize, l| Some(most.max(backward::scratch_len(&l.desc, batch)?))).unwrap_or(TOO_LARGE)
}

/// Runs the training step described at `step` (see `step::Step`): returns 0, or 1 + the index of a
/// layer whose activation has no training form, or 1 + the layer count for a loss the output
/// layer cannot take.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn simdnet_train_step(step: *mut Step) -> u32 {
    unsafe { run(&mut *step) }
}
