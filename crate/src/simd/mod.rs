//! The SIMD128 operations every kernel is written in. The SIMD builds use core's intrinsics; the
//! scalar build (for engines without SIMD) gets the same names from `scalar`, each doing the same
//! operation lane by lane, so that every kernel exists once and all builds compute the same bits
//! (up to the relaxed build's fused multiply-add).
#[cfg(not(target_feature = "simd128"))]
mod scalar;
mod vector;

#[cfg(target_feature = "simd128")]
pub use core::arch::wasm32::*;
#[cfg(not(target_feature = "simd128"))]
pub use scalar::*;
pub use vector::*;
