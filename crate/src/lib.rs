//! simdnet: dense layers and activation functions over WebAssembly SIMD128.
//!
//! Pure compute over pointers into linear memory. The crate owns no buffers and allocates nothing:
//! the TypeScript side allocates every input, output, packed-weight and scratch buffer and passes
//! their addresses and sizes here. Exported functions are `extern "C"`; each documents its contract.
#![no_std]

#[cfg(not(target_arch = "wasm32"))]
compile_error!("simdnet targets wasm32 only (build with scripts/build-wasm.mjs)");
#[cfg(not(target_feature = "simd128"))]
compile_error!("simdnet needs -C target-feature=+simd128");

mod activation;
mod dense;
mod math;
mod model;
mod vector;

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    core::arch::wasm32::unreachable()
}

/// 1 for the relaxed-SIMD build, 0 for the plain SIMD128 build; lets the loader report what runs.
#[unsafe(no_mangle)]
pub extern "C" fn simdnet_relaxed_simd() -> u32 {
    cfg!(target_feature = "relaxed-simd") as u32
}
