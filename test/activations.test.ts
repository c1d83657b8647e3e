import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ActivationName, ActivationOptions } from '../ts/index.js';
import * as ref from '../ts/reference.js';
import { EDGE_VALUES, SIZES, expectClose, expectSameBits, floats, instances, randomArray, softmaxTolerance, ulpDistance } from './helpers.js';

/**
 * Every elementwise function with the options it is tested under, and its error bound against the
 * double-precision reference: `exact` cases are bit-exact (sign of zero and NaN included); the
 * others allow `ulp` plus twice the function's condition number κ(x) = |x·f'(x)/f(x)| in ulps (the
 * error a 1-ulp rounding of x itself would cause, which the kernels incur when they round an
 * intermediate argument), where the result is a normal float32, and 2^-140 absolute where it is
 * subnormal. The `ulp` values are the worst the accuracy sweep found (README).
 */
interface Case {
  label: string;
  name: ActivationName;
  options?: ActivationOptions;
  ulp: number;
  exact?: boolean;
}

const CASES: Case[] = [
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
const SUBNORMAL_TOLERANCE = 2 ** -140;

/** κ(x) = |x·f'(x)/f(x)| by a central difference of the double-precision function. */
function conditionNumber(f: (x: number) => number, x: number): number {
  const y = f(x);
  if (x === 0 || y === 0 || !Number.isFinite(x) || !Number.isFinite(y)) return 0;
  const h = Math.abs(x) * 1e-7;
  const slope = (f(x + h) - f(x - h)) / (2 * h);
  return Number.isFinite(slope) ? Math.abs((x * slope) / y) : 0;
}

function expectActivation(c: Case, actual: Float32Array, x: Float32Array): void {
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

describe.each(await instances())('activations on the %s build', (_variant, nn) => {
  describe.each(CASES)('$label', (c) => {
    const run = (x: Float32Array) => nn.activate(c.name, x, c.options);

    it('matches the reference on edge values', () => {
      const x = Float32Array.from(EDGE_VALUES);
      expectActivation(c, run(x), x);
    });

    it.each(SIZES)('matches the reference on %i random values (tails included)', (n) => {
      const x = randomArray(n, n + 1, 12);
      expectActivation(c, run(x), x);
    });

    it('matches the reference on any float32 (property)', () => {
      fc.assert(fc.property(fc.array(floats(-200, 200), { maxLength: 41 }), (values) => {
        const x = Float32Array.from(values);
        expectActivation(c, run(x), x);
      }));
    });

    it('works in place, out of place and into a tensor', () => {
      const x = randomArray(37, 5, 4);
      const t = nn.tensor(x, [37]);
      const out = nn.activate(c.name, t, c.options);
      expectActivation(c, out.data, x);
      expectSameBits(t.data, x);
      const into = nn.zeros([37]);
      expect(nn.activate(c.name, t, { ...c.options, into })).toBe(into);
      expectSameBits(into.data, out.data);
      into.dispose();
      expect(nn.activate(c.name, t, { ...c.options, inPlace: true })).toBe(t);
      expectSameBits(t.data, out.data);
      t.dispose();
      out.dispose();
    });
  });

  it('leaky_relu takes its slope from options.alpha', () => {
    const x = Float32Array.from([-2, -0.5, 0, 3]);
    expectSameBits(nn.activate('leaky_relu', x, { alpha: 0.01 }), ref.activate('leaky_relu', x, { alpha: 0.01 }));
    expect(Array.from(nn.activate('leaky_relu', x, { alpha: 0.5 }))).toEqual([-1, -0.25, 0, 3]);
  });

  /**
   * Row-wise functions and their bounds, per output: softmax and softmin as `softmaxTolerance`;
   * log_softmax absolutely, (|x - max| + |y| + 6 + n/4)·2^-23 (the rounding of x - max, of ln Σ and
   * of the sum); sparsemax (|x| + 1)·2^-22 per row (τ is summed in double, then rounded); glu
   * 4 ulp (sigmoid's 3 and the product), 2^-140 absolute for subnormal results.
   */
  const ROWWISE: [ActivationName, (x: Float32Array, cols: number) => (e: number, i: number) => number][] = [
    ['softmax', (x, cols) => softmaxTolerance(x, cols)],
    ['softmin', (x, cols) => softmaxTolerance(x.map((v) => -v), cols)],
    ['log_softmax', (x, cols) => (e, i) => {
      const start = i - (i % cols);
      const max = Math.max(...x.subarray(start, start + cols));
      return (Math.abs(x[i]! - max) + Math.abs(e) + 6 + cols / 4) * 2 ** -23;
    }],
    ['sparsemax', (x, cols) => (_e, i) => {
      const start = i - (i % cols);
      return (Math.max(...x.subarray(start, start + cols).map(Math.abs)) + 1) * 2 ** -22;
    }],
    ['glu', () => (e) => 4 * 2 ** -23 * Math.abs(e) + SUBNORMAL_TOLERANCE],
  ];

  describe.each(ROWWISE)('%s', (name, toleranceOf) => {
    const width = (cols: number) => (name === 'glu' ? 2 * cols : cols);

    it.each(SIZES.filter((n) => n > 0))('rows of %i', (n) => {
      const [rows, cols] = [3, width(n)];
      const x = randomArray(rows * cols, cols, 30);
      const t = nn.tensor(x, [rows, cols]);
      const y = nn.activate(name, t);
      expect(y.shape).toEqual([rows, name === 'glu' ? cols / 2 : cols]);
      expectClose(y.data, ref.activate(name, x, { axisSize: cols }), toleranceOf(x, cols));
      if (name === 'softmax' || name === 'softmin' || name === 'sparsemax') {
        for (let r = 0; r < rows; r++) expect(y.data.subarray(r * cols, (r + 1) * cols).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
      }
      t.dispose();
      y.dispose();
    });

    it('follows the reference on edge values (NaN, ±Inf, ±0, subnormals, huge)', () => {
      const rows = [[0, -Infinity, 1, 2], [NaN, 1, 2, 3], [Infinity, 1, 0, 0], [-Infinity, -Infinity, 5, 5], [1e-45, -0, 0, 5.9e-39], [1e30, 1e30, -1e30, 0]];
      for (const row of rows) {
        const x = Float32Array.from(row);
        expectClose(nn.activate(name, x), ref.activate(name, x), toleranceOf(x, x.length));
      }
    });

    it('works in place and with axisSize on flat arrays', () => {
      const x = randomArray(24, 9, 3);
      expectClose(nn.activate(name, x, { axisSize: 6 }), ref.activate(name, x, { axisSize: 6 }), toleranceOf(x, 6));
      if (name !== 'glu') {
        const t = nn.tensor(x, [4, 6]);
        const expected = nn.activate(name, t);
        expect(nn.activate(name, t, { inPlace: true })).toBe(t);
        expectSameBits(t.data, expected.data);
      }
    });

    it('matches the reference on random rows (property)', () => {
      fc.assert(fc.property(fc.integer({ min: 1, max: 40 }), fc.array(floats(-80, 80), { minLength: 2, maxLength: 120 }), (n, values) => {
        const cols = width(n);
        const x = Float32Array.from(values.slice(0, values.length - (values.length % cols)));
        fc.pre(x.length > 0);
        expectClose(nn.activate(name, x, { axisSize: cols }), ref.activate(name, x, { axisSize: cols }), toleranceOf(x, cols));
      }));
    });
  });

  describe('prelu', () => {
    it('takes a slope per position of the last axis, bit-exact', () => {
      for (const cols of [1, 3, 4, 5, 8, 17]) {
        const x = Float32Array.from([...randomArray(4 * cols, cols, 5)]);
        x.set([NaN, -0, -Infinity].slice(0, Math.min(3, x.length)));
        const slope = randomArray(cols, cols + 7, 1);
        const t = nn.tensor(x, [4, cols]);
        expectSameBits(nn.activate('prelu', t, { slope }).data, ref.activate('prelu', x, { slope, axisSize: cols }));
        expectSameBits(nn.activate('prelu', x, { slope, axisSize: cols }), ref.activate('prelu', x, { slope, axisSize: cols }));
        expect(nn.activate('prelu', t, { slope, inPlace: true })).toBe(t);
        t.dispose();
      }
    });

    it('broadcasts a single slope and checks what it is given', () => {
      const x = Float32Array.from([-2, -1, 0, 1]);
      expect(Array.from(nn.activate('prelu', x, { slope: 0.25 }))).toEqual([-0.5, -0.25, 0, 1]);
      expect(Array.from(nn.activate('prelu', x, { slope: [0.5] }))).toEqual([-1, -0.5, 0, 1]);
      expect(() => nn.activate('prelu', x)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
      expect(() => nn.activate('prelu', x, { slope: [1, 2] })).toThrow(expect.objectContaining({ code: 'SHAPE_MISMATCH' }));
      expect(() => nn.activate('prelu', x, { slope: [1, NaN, 1, 1] })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    });
  });

  it('softmax is stable for huge inputs', () => {
    expectClose(nn.activate('softmax', Float32Array.from([1e30, 1e30, -1e30])), Float32Array.from([0.5, 0.5, 0]), () => 1e-7);
  });

  it('applies framework presets and documented defaults', () => {
    const at = (name: ActivationName, x: number, options?: ActivationOptions) => nn.activate(name, Float32Array.of(x), options)[0];
    expect(at('leaky_relu', -1)).toBeCloseTo(-0.2, 7);
    expect(at('leaky_relu', -1, { preset: 'torch' })).toBeCloseTo(-0.01, 7);
    expect(at('leaky_relu', -1, { preset: 'onnx' })).toBeCloseTo(-0.01, 7);
    expect(at('leaky_relu', -1, { preset: 'tfjs' })).toBeCloseTo(-0.2, 7);
    expect(at('hard_sigmoid', 1)).toBeCloseTo(1 / 6 + 0.5, 6);
    expect(at('hard_sigmoid', 1, { preset: 'onnx' })).toBeCloseTo(0.7, 6);
    expect(at('hard_sigmoid', 1, { preset: 'tfjs' })).toBeCloseTo(0.7, 6);
    expect(at('gelu', 1)).toBeCloseTo(0.8413447, 6);
    expect(at('gelu', 1, { approximate: true })).toBeCloseTo(0.8411920, 6);
    expect(at('softplus', 10, { preset: 'torch', beta: 3 })).toBe(10);
    expect(at('selu', -1)).toBeCloseTo(1.0507009873554805 * 1.6732632423543772 * Math.expm1(-1), 6);
    expect(at('thresholded_relu', 0.5)).toBe(0);
    expect(at('relu', 7, { maxValue: 6 })).toBe(6);
  });
});
