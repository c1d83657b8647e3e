// Int8 weights: the symmetric per-output quantization done once when a layer is created or given new
// weights, and the byte copies between JS and wasm memory that packing and saving need.
import { fail } from './errors.js';
import type { Heap } from './memory.js';

/** The quantization schemes a dense layer takes. */
export type Quantization = 'int8';

/** The widest int8 layer: its integer sums, each |(q − zero)·code| ≤ 127·128, stay within int32. */
export const MAX_INT8_INPUTS = Math.floor((2 ** 31 - 1) / (127 * 128));

/** A quantization scheme given as an option, checked. */
export function checkQuantization(value: unknown): Quantization {
  if (value !== 'int8') fail('INVALID_ARGUMENT', `quantize must be 'int8', got ${String(value)}`);
  return value;
}

/** The largest weight code: symmetric, so that −w quantizes to −code. */
export const WEIGHT_LEVELS = 127;

/** Int8 weights: `codes` in the kernel's layout, `scales` one per output (weight = code·scale). */
export interface QuantizedWeights {
  codes: Int8Array;
  scales: ArrayLike<number>;
}

/**
 * Quantizes `kernel` ([inputs × units], or [units × inputs] when `transposed`) per output unit:
 * scale = max|w|/127 (as a float32), code = round(w/scale), so |w − code·scale| ≤ scale/2. A unit whose
 * weights are all 0 gets scale 0; one with NaN or ±Inf gets scale NaN (its outputs are NaN).
 */
export function quantizeWeights(
  kernel: ArrayLike<number>,
  inputs: number,
  units: number,
  transposed: boolean,
): { codes: Int8Array; scales: Float32Array } {
  const [kStride, oStride] = transposed ? [1, inputs] : [units, 1];
  const codes = new Int8Array(inputs * units);
  const scales = new Float32Array(units);
  for (let o = 0; o < units; o++) {
    let largest = 0;
    for (let k = 0; k < inputs; k++) largest = Math.max(largest, Math.abs(kernel[o * oStride + k * kStride]!));
    const scale = Number.isFinite(largest) ? Math.fround(largest / WEIGHT_LEVELS) : NaN;
    scales[o] = scale;
    if (!(scale > 0)) continue;
    for (let k = 0; k < inputs; k++) {
      const at = o * oStride + k * kStride;
      codes[at] = Math.max(-WEIGHT_LEVELS, Math.min(WEIGHT_LEVELS, Math.round(kernel[at]! / scale)));
    }
  }
  return { codes, scales };
}

/** The float32 weights int8 `codes` ([inputs × units]) and `scales` stand for: what the kernel multiplies by. */
export function dequantizeWeights(codes: Int8Array, scales: ArrayLike<number>): Float32Array {
  const units = scales.length;
  return Float32Array.from(codes, (code, i) => code * scales[i % units]!);
}

/** Copies `bytes` to byte address `ptr` (a block already allocated: the memory does not grow meanwhile). */
export function writeBytes(heap: Heap, ptr: number, bytes: Int8Array): void {
  new Int8Array(heap.memory.buffer, ptr, bytes.length).set(bytes);
}

/** A copy of the `count` bytes at byte address `ptr`. */
export function readBytes(heap: Heap, ptr: number, count: number): Int8Array {
  return new Int8Array(heap.memory.buffer, ptr, count).slice();
}
