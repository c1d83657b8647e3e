//! simdnet: dense layers and activation functions over WebAssembly SIMD128 (and, for engines
//! without SIMD, the same kernels on scalar lanes: see `simd`).
//!
//! Pure compute over pointers into linear memory. The crate owns no buffers and allocates nothing:
//! the TypeScript side allocates every input, output, packed-weight and scratch buffer and passes
//! their addresses and sizes here. Exported functions are `extern "C"`, all in `abi`, each with its contract.
#![no_std]

#[cfg(not(target_arch = "wasm32"))]
compile_error!("simdnet targets wasm32 only (build with scripts/build-wasm.mjs)");

mod abi;
mod activation;
mod dense;
mod math;
mod model;
#[cfg(simdnet_threads)]
mod pool;
mod simd;
mod train;

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    core::arch::wasm32::unreachable()
}
