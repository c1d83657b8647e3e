//! Int8 dense layer `Y = act(dequantize(Xq · Wq) + b)`.
//!
//! The weights are int8, symmetric, one scale per output, quantized once by the host and packed
//! here (`packing`) into panels of `NR` outputs whose inputs come in the k-groups of 4 that one
//! dot instruction consumes. Each call quantizes X row by row (`quantize`: 7 bits, the operand range
//! on which `i32x4.relaxed_dot_i8x16_i7x16_add_s` is exact on every engine), runs the integer
//! micro-kernel (`microkernel`), and dequantizes in an f32 epilogue that adds the bias and applies
//! the fused activation through the same `ActivationLoops` as the f32 kernel.
pub(crate) mod microkernel;
pub(crate) mod packing;
pub(crate) mod quantize;
