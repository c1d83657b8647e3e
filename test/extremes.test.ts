import { describe, it } from 'vitest';
import type { ActivationName, ActivationOptions } from '../ts/index.js';
import * as ref from '../ts/reference.js';
import { CASES, type Case, ELEMENTWISE, ROWWISE, expectActivation, expectBackward } from './activation-cases.js';
import { expectClose, instances } from './helpers.js';

/**
 * Every activation at the top of the float32 range, against the same bounds as the ordinary range:
 * inputs where an intermediate (x², x³, exp(x), β·x, a sum of two terms, a row sum of gradients)
 * would overflow although the result does not. Where the exact result overflows float32, the
 * reference rounds it to ±Inf and so must the kernel.
 */
const FLT_MAX = 3.4028234663852886e38;
const MAGNITUDES = [
  FLT_MAX,
  3.4e38,
  1e38,
  2 ** 127,
  2 ** 126,
  1e30,
  2 ** 64,
  1e19,
  2 ** 60,
  1e15,
  1e10,
  1e5,
  1000,
  100,
  89,
  88.7,
  50,
  20,
  15,
];
const EXTREMES = Float32Array.from(MAGNITUDES.flatMap((v) => [v, -v]));
/** Gradients for the backward passes: ordinary ones, and ones whose product with f'(x) fits only if formed in the right order. */
const GRADIENTS = [1, -0.75, FLT_MAX, -FLT_MAX, 1e-30];

/** Parameters at the extremes their formulas allow (the bound of the same function's default case). */
const PARAMETER_EXTREMES: Case[] = [
  { label: 'relu (slope 0.5, threshold 2^126)', name: 'relu', options: { negativeSlope: 0.5, threshold: 2 ** 126 }, ulp: 1 },
  { label: 'relu (slope 1e30)', name: 'relu', options: { negativeSlope: 1e30 }, ulp: 1 },
  { label: 'leaky_relu (slope 1000)', name: 'leaky_relu', options: { negativeSlope: 1000 }, ulp: 0, exact: true },
  { label: 'elu (alpha 1e38)', name: 'elu', options: { alpha: 1e38 }, ulp: 1 },
  { label: 'celu (alpha 0.001)', name: 'celu', options: { alpha: 0.001 }, ulp: 1 },
  { label: 'hard_sigmoid (alpha 1e10)', name: 'hard_sigmoid', options: { alpha: 1e10 }, ulp: 1 },
  { label: 'hard_silu (alpha 1e-30, beta 0.5)', name: 'hard_silu', options: { alpha: 1e-30, beta: 0.5 }, ulp: 2 },
  { label: 'hard_shrink (threshold 2^126)', name: 'hard_shrink', options: { threshold: 2 ** 126 }, ulp: 0, exact: true },
  { label: 'soft_shrink (threshold 2^126)', name: 'soft_shrink', options: { threshold: 2 ** 126 }, ulp: 0, exact: true },
  { label: 'swish (beta 1e20)', name: 'swish', options: { beta: 1e20 }, ulp: 4 },
  { label: 'softplus (beta 100)', name: 'softplus', options: { beta: 100 }, ulp: 2 },
  { label: 'softplus (beta 0.3)', name: 'softplus', options: { beta: 0.3 }, ulp: 2 },
  { label: 'softplus (beta -2)', name: 'softplus', options: { beta: -2 }, ulp: 2 },
  { label: 'squareplus (b 1e30)', name: 'squareplus', options: { b: 1e30 }, ulp: 3 },
];

/** Rows mixing ±FLT_MAX with ordinary values, 6 wide: a vector and a tail (glu: two halves of 3). */
const ROWS = [
  [FLT_MAX, 1, -FLT_MAX, 0, 0.5, -2],
  [FLT_MAX, FLT_MAX, 0, -1, FLT_MAX, 3],
  [-FLT_MAX, -FLT_MAX, 2, 3, -1, 2],
  [1e38, -1e38, 2 ** 127, -(2 ** 127), 1e38, 2 ** 126],
  [0, 10, -5, 3, 1, -1],
  [FLT_MAX, -FLT_MAX, FLT_MAX, -FLT_MAX, FLT_MAX, -FLT_MAX],
];
/** Gradients whose row sums overflow float32 (glu takes the first 3). */
const ROW_GRADIENTS = [
  [1, -1, 0.5, 2, -0.25, 1],
  [FLT_MAX, -FLT_MAX, FLT_MAX, -FLT_MAX, FLT_MAX, -FLT_MAX],
  [FLT_MAX, FLT_MAX, FLT_MAX, -1, FLT_MAX, FLT_MAX],
  [-FLT_MAX, 0, 0, 0, -FLT_MAX, 1],
];

/** The backward sweep: every case of the forward tables, and the backward tests' cases they lack (aliases, defaults). */
const FORWARD_CASES = [...CASES, ...PARAMETER_EXTREMES];
const caseKey = (name: ActivationName, options: object = {}) => `${name} ${JSON.stringify(options)}`;
const covered = new Set(FORWARD_CASES.map((c) => caseKey(c.name, c.options)));
const BACKWARD_CASES: [string, ActivationName, ActivationOptions][] = [
  ...FORWARD_CASES.map((c) => [c.label, c.name, c.options ?? {}] as [string, ActivationName, ActivationOptions]),
  ...ELEMENTWISE.filter(([, name, options]) => !covered.has(caseKey(name, options))),
];

describe.each(await instances())('extreme values on the %s build', (_variant, nn) => {
  it.each(FORWARD_CASES)('$label forward: within its bound at ±FLT_MAX and near every intermediate overflow', (c) => {
    expectActivation(c, nn.activate(c.name, EXTREMES, c.options), EXTREMES);
  });

  it.each(BACKWARD_CASES)('%s backward: dy·f′(x) within its bound, also for dy = ±FLT_MAX', (label, name, options) => {
    const x = Float32Array.from(GRADIENTS.flatMap(() => [...EXTREMES]));
    const dy = Float32Array.from(GRADIENTS.flatMap((g) => Array.from(EXTREMES, () => g)));
    expectBackward(nn.activateBackward(name, x, dy, options), x, dy, ref.derivative(name, options), label);
  });

  describe.each(ROWWISE)('%s', (name, toleranceOf) => {
    it('forward: rows of ±FLT_MAX mixed with ordinary values', () => {
      for (const row of ROWS) {
        const x = Float32Array.from(row);
        expectClose(nn.activate(name, x), ref.activate(name, x), toleranceOf(x, x.length));
      }
    });
  });

  /**
   * Row-wise backward bounds of test/derivatives.test.ts, scaled by the largest |dy| of the row:
   * softmax, log_softmax, softmin 2^-20·(1 + n/8) absolute; sparsemax 4·2^-24·(1 + n); glu 2^-20
   * relative to the result (absolute below 1).
   */
  const BACKWARD: [ActivationName, (e: number, scale: number, cols: number) => number][] = [
    ['softmax', (_e, scale, cols) => 2 ** -20 * (1 + cols / 8) * scale],
    ['log_softmax', (_e, scale, cols) => 2 ** -20 * (1 + cols / 8) * scale],
    ['softmin', (_e, scale, cols) => 2 ** -20 * (1 + cols / 8) * scale],
    ['sparsemax', (_e, scale, cols) => 4 * 2 ** -24 * (1 + cols) * scale],
    ['glu', (e) => 2 ** -20 * Math.max(1, Math.abs(e))],
  ];

  describe.each(BACKWARD)('%s', (name, toleranceOf) => {
    it('backward: rows of ±FLT_MAX, and gradients of ±FLT_MAX whose sums overflow', () => {
      for (const row of ROWS) {
        for (const gradient of ROW_GRADIENTS) {
          const x = Float32Array.from(row);
          const dy = Float32Array.from(name === 'glu' ? gradient.slice(0, 3) : gradient);
          const scale = Math.max(1, ...Array.from(dy, Math.abs));
          const expected = ref.activateBackward(name, x, dy);
          expectClose(nn.activateBackward(name, x, dy), expected, (e) => toleranceOf(e, scale, x.length));
        }
      }
    });
  });
});
