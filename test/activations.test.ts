import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ActivationName, ActivationOptions } from '../ts/index.js';
import * as ref from '../ts/reference.js';
import { CASES, ROWWISE, expectActivation } from './activation-cases.js';
import { EDGE_VALUES, SIZES, expectClose, expectSameBits, floats, instances, randomArray } from './helpers.js';

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
      fc.assert(
        fc.property(fc.array(floats(-200, 200), { maxLength: 41 }), (values) => {
          const x = Float32Array.from(values);
          expectActivation(c, run(x), x);
        }),
      );
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
      const rows = [
        [0, -Infinity, 1, 2],
        [NaN, 1, 2, 3],
        [Infinity, 1, 0, 0],
        [-Infinity, -Infinity, 5, 5],
        [1e-45, -0, 0, 5.9e-39],
        [1e30, 1e30, -1e30, 0],
      ];
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
      fc.assert(
        fc.property(fc.integer({ min: 1, max: 40 }), fc.array(floats(-80, 80), { minLength: 2, maxLength: 120 }), (n, values) => {
          const cols = width(n);
          const x = Float32Array.from(values.slice(0, values.length - (values.length % cols)));
          fc.pre(x.length > 0);
          expectClose(nn.activate(name, x, { axisSize: cols }), ref.activate(name, x, { axisSize: cols }), toleranceOf(x, cols));
        }),
      );
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
    expect(at('gelu', 1, { approximate: true })).toBeCloseTo(0.841192, 6);
    expect(at('softplus', 10, { preset: 'torch', beta: 3 })).toBe(10);
    expect(at('selu', -1)).toBeCloseTo(1.0507009873554805 * 1.6732632423543772 * Math.expm1(-1), 6);
    expect(at('thresholded_relu', 0.5)).toBe(0);
    expect(at('relu', 7, { maxValue: 6 })).toBe(6);
  });
});
