import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ActivationName } from '../ts/index.js';
import * as ref from '../ts/reference.js';
import { EDGE_VALUES, SIZES, expectClose, expectSameBits, expectUlp, floats, instances, randomArray, softmaxTolerance } from './helpers.js';

/**
 * Tolerances against the double-precision reference rounded to float32:
 * - linear, relu, leaky_relu: bit-exact (including the sign of zero and NaN), the slope being float32;
 * - sigmoid 3 ulp, tanh 1 ulp: the worst errors the sweep over every float32 of `npm run accuracy` found (README).
 */
const ELEMENTWISE: [ActivationName, number][] = [['linear', 0], ['relu', 0], ['leaky_relu', 0], ['sigmoid', 3], ['tanh', 1]];

const check = (maxUlp: number, actual: Float32Array, expected: Float32Array, inputs: ArrayLike<number>) =>
  maxUlp === 0 ? expectSameBits(actual, expected, inputs) : expectUlp(actual, expected, maxUlp, inputs);

describe.each(await instances())('activations on the %s build', (_variant, nn) => {
  describe.each(ELEMENTWISE)('%s', (name, maxUlp) => {
    it('matches the reference on edge values', () => {
      const x = Float32Array.from(EDGE_VALUES);
      check(maxUlp, nn.activate(name, x), ref.activate(name, x), x);
    });

    it.each(SIZES)('matches the reference on %i random values (tails included)', (n) => {
      const x = randomArray(n, n + 1, 12);
      check(maxUlp, nn.activate(name, x), ref.activate(name, x), x);
    });

    it('matches the reference on any float32 (property)', () => {
      fc.assert(fc.property(fc.array(floats(-200, 200), { maxLength: 41 }), (values) => {
        const x = Float32Array.from(values);
        check(maxUlp, nn.activate(name, x), ref.activate(name, x), x);
      }));
    });

    it('works in place and out of place on tensors', () => {
      const x = randomArray(37, 5, 4);
      const t = nn.tensor(x, [37]);
      const out = nn.activate(name, t);
      check(maxUlp, out.data, ref.activate(name, x), x);
      expectSameBits(t.data, x);
      const into = nn.zeros([37]);
      expect(nn.activate(name, t, { into })).toBe(into);
      expectSameBits(into.data, out.data);
      into.dispose();
      expect(nn.activate(name, t, { inPlace: true })).toBe(t);
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

  describe('softmax', () => {
    it.each(SIZES.filter((n) => n > 0))('rows of %i', (cols) => {
      const rows = 3;
      const x = randomArray(rows * cols, cols, 30);
      const t = nn.tensor(x, [rows, cols]);
      const y = nn.activate('softmax', t);
      expect(y.shape).toEqual([rows, cols]);
      expectClose(y.data, ref.softmax(x, cols), softmaxTolerance(x, cols));
      for (let r = 0; r < rows; r++) {
        const sum = y.data.subarray(r * cols, (r + 1) * cols).reduce((a, b) => a + b, 0);
        expect(sum).toBeCloseTo(1, 5);
      }
      t.dispose();
      y.dispose();
    });

    it('is stable for huge inputs and follows the reference on edge values', () => {
      expectClose(nn.activate('softmax', Float32Array.from([1e30, 1e30, -1e30])), Float32Array.from([0.5, 0.5, 0]), () => 1e-7);
      for (const row of [[0, -Infinity, 1], [NaN, 1, 2, 3, 4], [Infinity, 1], [-Infinity, -Infinity], [1e-45, -0, 0, 5.9e-39]]) {
        const x = Float32Array.from(row);
        expectClose(nn.activate('softmax', x), ref.softmax(x), softmaxTolerance(x, x.length));
      }
    });

    it('uses axisSize on flat arrays, the whole array by default', () => {
      const x = randomArray(12, 9, 3);
      expectClose(nn.activate('softmax', x, { axisSize: 4 }), ref.softmax(x, 4), softmaxTolerance(x, 4));
      expectClose(nn.activate('softmax', x), ref.softmax(x), softmaxTolerance(x, 12));
    });

    it('matches the reference on random rows (property)', () => {
      fc.assert(fc.property(fc.integer({ min: 1, max: 40 }), fc.array(floats(-80, 80), { minLength: 1, maxLength: 120 }), (cols, values) => {
        const x = Float32Array.from(values.slice(0, values.length - (values.length % cols)));
        fc.pre(x.length > 0);
        expectClose(nn.activate('softmax', x, { axisSize: cols }), ref.softmax(x, cols), softmaxTolerance(x, cols));
      }));
    });
  });
});
