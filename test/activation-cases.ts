/**
 * The activations the accuracy tests cover, with their error bounds against the double-precision
 * reference (ts/reference.ts), and the checks that apply them: shared by the forward, backward and
 * extreme-value tests so that each bound is stated once.
 */
import { expect } from 'vitest';
import { ACTIVATION_NAMES, type ActivationName, type ActivationOptions } from '../ts/index.js';
import { ROWWISE_NAMES } from '../ts/activations.js';
import * as ref from '../ts/reference.js';
import { expectSameBits, softmaxTolerance, ulpDistance } from './helpers.js';

/**
 * Every elementwise function with the options it is tested under, and its error bound against the
 * double-precision reference: `exact` cases are bit-exact (sign of zero and NaN included); the
 * others allow `ulp` plus twice the function's condition number κ(x) = |x·f'(x)/f(x)| in ulps (the
 * error a 1-ulp rounding of x itself would cause, which the kernels incur when they round an
 * intermediate argument), where the result is a normal float32, and 2^-140 absolute where it is
 * subnormal. The `ulp` values are the worst the accuracy sweep found (README).
 */
export interface Case {
  label: string;
  name: ActivationName;
  options?: ActivationOptions;
  ulp: number;
  exact?: boolean;
}

export const CASES: Case[] = [
  { label: 'linear', name: 'linear', ulp: 0, exact: true },
  { label: 'relu', name: 'relu', ulp: 0, exact: true },
  { label: 'relu (slope, max, threshold)', name: 'relu', options: { negativeSlope: 0.1, maxValue: 6, threshold: 0.5 }, ulp: 1 },
  { label: 'relu (threshold -1)', name: 'relu', options: { threshold: -1 }, ulp: 1 },
  { label: 'leaky_relu', name: 'leaky_relu', ulp: 0, exact: true },
  { label: 'leaky_relu (torch)', name: 'leaky_relu', options: { preset: 'torch' }, ulp: 0, exact: true },
  { label: 'relu6', name: 'relu6', ulp: 0, exact: true },
  { label: 'elu', name: 'elu', ulp: 1 },
  { label: 'elu (alpha 0.5)', name: 'elu', options: { alpha: 0.5 }, ulp: 1 },
  { label: 'selu', name: 'selu', ulp: 2 },
  { label: 'celu (alpha 2)', name: 'celu', options: { alpha: 2 }, ulp: 1 },
  { label: 'exponential', name: 'exponential', ulp: 1 },
  { label: 'sigmoid', name: 'sigmoid', ulp: 3 },
  { label: 'tanh', name: 'tanh', ulp: 1 },
  { label: 'gelu', name: 'gelu', ulp: 9 },
  { label: 'gelu (tanh)', name: 'gelu', options: { approximate: true }, ulp: 4 },
  { label: 'hard_sigmoid', name: 'hard_sigmoid', ulp: 1 },
  { label: 'hard_sigmoid (onnx)', name: 'hard_sigmoid', options: { preset: 'onnx' }, ulp: 1 },
  { label: 'hard_silu', name: 'hard_silu', ulp: 2 },
  { label: 'hard_swish (alpha 0.2, beta 0.4)', name: 'hard_swish', options: { alpha: 0.2, beta: 0.4 }, ulp: 2 },
  { label: 'hard_tanh', name: 'hard_tanh', ulp: 0, exact: true },
  { label: 'hard_tanh (-2, 3)', name: 'hard_tanh', options: { minVal: -2, maxVal: 3 }, ulp: 0, exact: true },
  { label: 'hard_shrink', name: 'hard_shrink', ulp: 0, exact: true },
  { label: 'soft_shrink', name: 'soft_shrink', ulp: 0, exact: true },
  { label: 'log_sigmoid', name: 'log_sigmoid', ulp: 2 },
  { label: 'mish', name: 'mish', ulp: 5 },
  { label: 'silu', name: 'silu', ulp: 4 },
  { label: 'swish (beta 1.5)', name: 'swish', options: { beta: 1.5 }, ulp: 4 },
  { label: 'softplus', name: 'softplus', ulp: 2 },
  { label: 'softplus (torch: beta 2, threshold 20)', name: 'softplus', options: { preset: 'torch', beta: 2 }, ulp: 2 },
  { label: 'softsign', name: 'softsign', ulp: 1 },
  { label: 'sparse_plus', name: 'sparse_plus', ulp: 2 },
  { label: 'sparse_sigmoid', name: 'sparse_sigmoid', ulp: 0, exact: true },
  { label: 'squareplus', name: 'squareplus', ulp: 3 },
  { label: 'squareplus (b 0.5)', name: 'squareplus', options: { b: 0.5 }, ulp: 3 },
  { label: 'tanh_shrink', name: 'tanh_shrink', ulp: 4 },
  { label: 'threshold (1, -5)', name: 'threshold', options: { threshold: 1, value: -5 }, ulp: 0, exact: true },
  { label: 'thresholded_relu', name: 'thresholded_relu', ulp: 0, exact: true },
];

const MIN_NORMAL = 2 ** -126;
export const SUBNORMAL_TOLERANCE = 2 ** -140;

/** κ(x) = |x·f'(x)/f(x)| by a central difference of the double-precision function. */
function conditionNumber(f: (x: number) => number, x: number): number {
  const y = f(x);
  if (x === 0 || y === 0 || !Number.isFinite(x) || !Number.isFinite(y)) return 0;
  const h = Math.abs(x) * 1e-7;
  const slope = (f(x + h) - f(x - h)) / (2 * h);
  return Number.isFinite(slope) ? Math.abs((x * slope) / y) : 0;
}

export function expectActivation(c: Case, actual: Float32Array, x: Float32Array): void {
  const f = ref.scalarActivation(c.name, c.options);
  const expected = ref.activate(c.name, x, c.options);
  if (c.exact) return expectSameBits(actual, expected, x);
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < x.length; i++) {
    const [a, e] = [actual[i]!, expected[i]!];
    if (Number.isNaN(e) || Number.isNaN(a)) {
      if (Number.isNaN(e) !== Number.isNaN(a)) expect.fail(`${c.label}(${x[i]}): got ${a}, expected ${e}`);
    } else if (Math.abs(e) < MIN_NORMAL) {
      if (!(Math.abs(a - e) <= SUBNORMAL_TOLERANCE)) expect.fail(`${c.label}(${x[i]}): got ${a}, expected ${e} (subnormal range)`);
    } else {
      const allowed = c.ulp + 2 * conditionNumber(f, x[i]!);
      const d = ulpDistance(a, e);
      if (d > allowed) expect.fail(`${c.label}(${x[i]}): got ${a}, expected ${e}: ${d} ulp > ${allowed.toFixed(1)}`);
    }
  }
}

/**
 * Row-wise functions and their bounds, per output: softmax and softmin as `softmaxTolerance`;
 * log_softmax absolutely, (|x - max| + |y| + 6 + n/4)·2^-23 (the rounding of x - max, of ln Σ and
 * of the sum); sparsemax (|x| + 1)·2^-22 per row (τ is summed in double, then rounded); glu
 * 4 ulp (sigmoid's 3 and the product), 2^-140 absolute for subnormal results.
 */
export const ROWWISE: [ActivationName, (x: Float32Array, cols: number) => (e: number, i: number) => number][] = [
  ['softmax', (x, cols) => softmaxTolerance(x, cols)],
  [
    'softmin',
    (x, cols) =>
      softmaxTolerance(
        x.map((v) => -v),
        cols,
      ),
  ],
  [
    'log_softmax',
    (x, cols) => (e, i) => {
      const start = i - (i % cols);
      const max = Math.max(...x.subarray(start, start + cols));
      return (Math.abs(x[i]! - max) + Math.abs(e) + 6 + cols / 4) * 2 ** -23;
    },
  ],
  [
    'sparsemax',
    (x, cols) => (_e, i) => {
      const start = i - (i % cols);
      return (Math.max(...x.subarray(start, start + cols).map(Math.abs)) + 1) * 2 ** -22;
    },
  ],
  ['glu', () => (e) => 4 * 2 ** -23 * Math.abs(e) + SUBNORMAL_TOLERANCE],
];

/**
 * Derivatives. The backward kernels return dx = dy·f'(x); the bound against the reference's
 * derivative formula is |dx − dy·f'(x)| ≤ 2^-20·|dy|·max(1, |f'(x)|): relative 1e-6 where the slope
 * is large, absolute where it is small (1 − tanh², s(1 − s) and the like lose relative accuracy as
 * they approach 0). Where f'(x) overflows float32, the product is ±Inf. The reference's formulas are
 * themselves checked against central differences.
 */
export const ELEMENTWISE: [string, ActivationName, ActivationOptions][] = [
  ...ACTIVATION_NAMES.filter((n) => !(ROWWISE_NAMES as string[]).includes(n)).map(
    (n) => [n, n, {}] as [string, ActivationName, ActivationOptions],
  ),
  ['relu (slope, max, threshold)', 'relu', { negativeSlope: 0.1, maxValue: 6, threshold: 0.5 }],
  ['elu (alpha 0.5)', 'elu', { alpha: 0.5 }],
  ['celu (alpha 2)', 'celu', { alpha: 2 }],
  ['gelu (tanh)', 'gelu', { approximate: true }],
  ['hard_sigmoid (onnx)', 'hard_sigmoid', { preset: 'onnx' }],
  ['softplus (torch, beta 2)', 'softplus', { preset: 'torch', beta: 2 }],
  ['swish (beta 1.5)', 'swish', { beta: 1.5 }],
];

export function expectBackward(actual: Float32Array, x: Float32Array, dy: Float32Array, d: (x: number) => number, label: string) {
  for (let i = 0; i < x.length; i++) {
    const slope = d(x[i]!);
    const expected = Math.fround(dy[i]! * slope);
    const a = actual[i]!;
    if (Number.isNaN(expected) || Number.isNaN(a)) {
      if (Number.isNaN(expected) !== Number.isNaN(a)) expect.fail(`${label}'(${x[i]})·${dy[i]}: got ${a}, expected ${expected}`);
      continue;
    }
    if (a === expected) continue;
    // Where f'(x) itself overflows float32 (exponential past 88.72), dy·f'(x) is ±Inf in float32
    // even when the exact product would fit.
    if (Math.abs(slope) > 3.4028234663852886e38 && a === Math.sign(expected) * Infinity) continue;
    // Against the unrounded product, as stated above: just beyond FLT_MAX its rounding is ±Inf,
    // while the kernel's product with f'(x) rounded down by an ulp may still be FLT_MAX.
    const tolerance = 2 ** -20 * Math.abs(dy[i]!) * Math.max(1, Math.abs(slope));
    if (!(Math.abs(a - dy[i]! * slope) <= tolerance))
      expect.fail(`${label}'(${x[i]})·${dy[i]}: got ${a}, expected ${expected} (±${tolerance})`);
  }
}
