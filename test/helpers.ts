import fc from 'fast-check';
import { expect } from 'vitest';
import { type ErrorCode, type Simdnet, SimdnetError, VARIANTS, type Variant, init, supports } from '../ts/index.js';
import { seededRandom, uniform } from '../ts/random.js';

/** One instance per build; every build must be runnable here (the suite enables relaxed SIMD). */
export async function instances(): Promise<[Variant, Simdnet][]> {
  return Promise.all(
    VARIANTS.map(async (v) => {
      expect(supports(v), `this engine must run the '${v}' build`).toBe(true);
      return [v, await init({ variant: v })] as [Variant, Simdnet];
    }),
  );
}

/** Sizes on each axis: zero, below/at/above the vector width and the 4×8 tile, odd and large. */
export const SIZES = [0, 1, 3, 4, 5, 7, 8, 15, 16, 17, 33, 64, 127, 257];

export const EDGE_VALUES = [
  0,
  -0,
  Infinity,
  -Infinity,
  NaN,
  1e-45,
  -1e-45,
  1.17549435e-38,
  -1.17549435e-38,
  5.9e-39,
  -5.9e-39,
  1e30,
  -1e30,
  3.4028235e38,
  -3.4028235e38,
  1,
  -1,
  0.5,
  -0.5,
  1e-7,
  -1e-7,
  20,
  -20,
  88.7,
  -88.7,
  104,
  -104,
];

export function randomArray(count: number, seed: number, limit = 1): Float32Array {
  return uniform(count, limit, seededRandom(seed));
}

const f32 = new Float32Array(1);
const i32 = new Int32Array(f32.buffer);
/** Position of a float32 on the number line of all float32s (±0 both at 0). */
function ordinal(x: number): number {
  f32[0] = x;
  const bits = i32[0]!;
  return bits < 0 ? -(bits & 0x7fffffff) : bits;
}

/** Distance in float32 ulps; NaN matches only NaN (Infinity if only one is NaN). */
export function ulpDistance(a: number, b: number): number {
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) && Number.isNaN(b) ? 0 : Infinity;
  return Math.abs(ordinal(a) - ordinal(b));
}

/** Asserts every element within `maxUlp` of the reference; reports the worst input. */
export function expectUlp(actual: Float32Array, expected: Float32Array, maxUlp: number, inputs?: ArrayLike<number>): void {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  let at = -1;
  for (let i = 0; i < actual.length; i++) {
    const d = ulpDistance(actual[i]!, expected[i]!);
    if (d > worst) [worst, at] = [d, i];
  }
  if (worst > maxUlp) {
    expect.fail(`${worst} ulp > ${maxUlp} at index ${at}: input ${inputs?.[at]}, got ${actual[at]}, expected ${expected[at]}`);
  }
}

/** Bitwise equality (distinguishes ±0; any NaN equals any NaN). */
export function expectSameBits(actual: Float32Array, expected: Float32Array, inputs?: ArrayLike<number>): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (!(Object.is(a, e) || (Number.isNaN(a) && Number.isNaN(e)))) {
      expect.fail(`index ${i}: input ${inputs?.[i]}, got ${a}, expected ${e}`);
    }
  }
}

export const floats = (min = -1e30, max = 1e30) => fc.float({ min: Math.fround(min), max: Math.fround(max), noNaN: true });

const EPS = 2 ** -24;

/**
 * Dense tolerance, per output: a float32 dot product of K terms accumulated in any order is within
 * (K + 1)·2^-24·(|b| + Σ|x·w|) of the exact value (the relaxed build's fused multiply-add only
 * tightens this); relu, leaky_relu (|alpha| ≤ 1), sigmoid and tanh are 1-Lipschitz, so the bound
 * carries through them, plus the activation's own 3 ulp (6·2^-24 relative) and one subnormal.
 * Where |b| + Σ|x·w| exceeds the float32 range, a partial sum may overflow: any result is accepted.
 */
export function denseTolerance(x: Float32Array, kernel: Float32Array, bias: Float32Array, inputDim: number, units: number) {
  return (row: number, col: number, expected: number) => {
    let magnitude = Math.abs(bias[col]!);
    for (let k = 0; k < inputDim; k++) magnitude += Math.abs(x[row * inputDim + k]! * kernel[k * units + col]!);
    if (magnitude > 3.4028234663852886e38) return NaN;
    return (inputDim + 1) * EPS * magnitude + 6 * EPS * Math.abs(expected) + 1e-45;
  };
}

/** `toleranceOf` returns NaN where any result is acceptable. */
export function expectDense(
  actual: Float32Array,
  expected: Float32Array,
  units: number,
  toleranceOf: (r: number, c: number, e: number) => number,
) {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < actual.length; i++) {
    const [a, e] = [actual[i]!, expected[i]!];
    const [row, col] = [Math.floor(i / units), i % units];
    const tolerance = toleranceOf(row, col, e);
    if (Number.isNaN(tolerance)) continue;
    if (Number.isNaN(e) || !Number.isFinite(e)) {
      if (!Object.is(a, e) && !(Number.isNaN(a) && Number.isNaN(e))) expect.fail(`[${row}, ${col}]: got ${a}, expected ${e}`);
    } else if (!(Math.abs(a - e) <= tolerance)) {
      expect.fail(`[${row}, ${col}]: got ${a}, expected ${e}, |diff| ${Math.abs(a - e)} > ${tolerance}`);
    }
  }
}

/**
 * Softmax, relative to each output: the float32 rounding of x - max (|x - max|·2^-24, inherent to
 * float32 inputs), exp's error, the sum over `cols` terms in 4 lanes and the final scaling; plus two
 * ulps of the subnormal grid (2^-148), where exp and the scaling each round an output below 2^-126.
 */
export function softmaxTolerance(x: ArrayLike<number>, cols: number): (expected: number, index: number) => number {
  return (e, i) => {
    let max = -Infinity;
    const start = i - (i % cols);
    for (let j = start; j < start + cols; j++) max = Math.max(max, x[j]!);
    return (Math.abs(x[i]! - max) + 6 + cols / 4) * 2 ** -24 * Math.abs(e) + 2 ** -148;
  };
}

export function expectClose(actual: Float32Array, expected: Float32Array, tolerance: (e: number, index: number) => number): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (Number.isNaN(e) || Number.isNaN(a)) expect(Number.isNaN(a), `index ${i}: got ${a}, expected ${e}`).toBe(Number.isNaN(e));
    else if (a !== e && !(Math.abs(a - e) <= tolerance(e, i)))
      expect.fail(`index ${i}: got ${a}, expected ${e} (tolerance ${tolerance(e, i)})`);
  }
}

/** The error `fn` throws, which must be a SimdnetError (the test fails on any other, or on none). */
export function errorOf(fn: () => unknown): SimdnetError {
  let error: unknown;
  try {
    fn();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(SimdnetError);
  return error as SimdnetError;
}

/** `fn` must throw a SimdnetError with `code`, leaving `nn.allocatedBytes` and `kept()`'s values as they were. */
export function rejectsCleanly(nn: Simdnet, code: ErrorCode, fn: () => unknown, kept: () => Float32Array[] = () => []): void {
  // kept() first: what it allocates itself (a model's first workspace) is not the failing call's.
  const before = kept().map((a) => a.slice());
  const bytes = nn.allocatedBytes;
  expect(errorOf(fn).code).toBe(code);
  expect(nn.allocatedBytes).toBe(bytes);
  kept().forEach((a, i) => expectSameBits(a, before[i]!));
}
