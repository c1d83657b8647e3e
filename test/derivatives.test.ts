import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ActivationName } from '../ts/index.js';
import * as ref from '../ts/reference.js';
import { ELEMENTWISE, expectBackward } from './activation-cases.js';
import { EDGE_VALUES, expectSameBits, floats, instances, randomArray } from './helpers.js';

describe('the reference derivatives', () => {
  it.each(ELEMENTWISE)('%s matches central differences away from kinks', (_label, name, options) => {
    const f = ref.scalarActivation(name, options);
    const d = ref.derivative(name, options);
    const difference = (x: number, h: number) => (f(x + h) - f(x - h)) / (2 * h);
    for (const x of randomArray(400, 17, 6)) {
      const h = 1e-5 * Math.max(1, Math.abs(x));
      const [coarse, fine] = [difference(x, h), difference(x, h / 2)];
      if (Math.abs(coarse - fine) > 1e-6 * Math.max(1, Math.abs(fine))) continue; // a kink within h
      expect(Math.abs(fine - d(x))).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(d(x))));
    }
  });
});

describe.each(await instances())('backward kernels on the %s build', (_variant, nn) => {
  describe.each(ELEMENTWISE)('%s', (label, name, options) => {
    const d = ref.derivative(name, options);

    it('matches the reference derivative on random and edge values', () => {
      const x = Float32Array.from([...randomArray(257, 3, 8), ...EDGE_VALUES]);
      const dy = randomArray(x.length, 4, 2);
      expectBackward(nn.activateBackward(name, x, dy, options), x, dy, d, label);
    });

    it('matches on any float32 (property), also on tensors', () => {
      fc.assert(
        fc.property(fc.array(floats(-100, 100), { minLength: 1, maxLength: 33 }), (values) => {
          const x = Float32Array.from(values);
          const dy = x.map((_, i) => 1 - i / values.length);
          expectBackward(nn.activateBackward(name, x, dy, options), x, dy, d, label);
        }),
      );
      const x = randomArray(12, 5, 4);
      const dy = randomArray(12, 6, 1);
      const [tx, tdy] = [nn.tensor(x, [3, 4]), nn.tensor(dy, [3, 4])];
      const dx = nn.activateBackward(name, tx, tdy, options);
      expect(dx.shape).toEqual([3, 4]);
      expect(dx.toArray()).toEqual(nn.activateBackward(name, x, dy, options));
      for (const t of [tx, tdy, dx]) t.dispose();
    });
  });

  describe.each(['softmax', 'log_softmax', 'softmin'] as ActivationName[])('%s (row-wise)', (name) => {
    it('matches the reference Jacobian product and a central difference of Σ dy·y', () => {
      for (const cols of [1, 3, 4, 7, 16, 33]) {
        const x = randomArray(2 * cols, cols, 4);
        const dy = randomArray(2 * cols, cols + 1, 1);
        const dx = nn.activateBackward(name, x, dy, { axisSize: cols });
        const expected = ref.activateBackward(name, x, dy, { axisSize: cols });
        dx.forEach((v, i) => expect(Math.abs(v - expected[i]!)).toBeLessThanOrEqual(2 ** -20 * (1 + cols / 8)));
        // d/dx_i Σ_j dy_j·y_j(x) by central differences in double
        const loss = (xs: Float64Array) => {
          const y = ref.activate(name, xs, { axisSize: cols });
          return y.reduce((s, v, j) => s + v * dy[j]!, 0);
        };
        for (const i of [0, cols - 1, cols]) {
          const [plus, minus] = [Float64Array.from(x), Float64Array.from(x)];
          plus[i]! += 1e-3;
          minus[i]! -= 1e-3;
          expect(Math.abs((loss(plus) - loss(minus)) / 2e-3 - expected[i]!)).toBeLessThanOrEqual(1e-3);
        }
      }
    });
  });

  it('sparsemax: dx = dy − mean(dy over the support) on the support, 0 elsewhere', () => {
    for (const cols of [1, 2, 5, 8, 13]) {
      const x = randomArray(3 * cols, cols + 20, 2);
      const dy = randomArray(3 * cols, cols + 21, 1);
      const dx = nn.activateBackward('sparsemax', x, dy, { axisSize: cols });
      const expected = ref.activateBackward('sparsemax', x, dy, { axisSize: cols });
      dx.forEach((v, i) => expect(Math.abs(v - expected[i]!)).toBeLessThanOrEqual(4 * 2 ** -24 * (1 + cols)));
    }
    const nanRow = nn.activateBackward('sparsemax', Float32Array.of(1, NaN, 0), Float32Array.of(1, 1, 1));
    expect(Array.from(nanRow).every(Number.isNaN)).toBe(true);
  });

  it('glu: da = dy·σ(b), db = dy·a·σ′(b), with dy half the width of x', () => {
    for (const h of [1, 3, 4, 9]) {
      const x = randomArray(2 * 2 * h, h + 30, 4);
      const dy = randomArray(2 * h, h + 31, 1);
      const dx = nn.activateBackward('glu', x, dy, { axisSize: 2 * h });
      expect(dx).toHaveLength(4 * h);
      const expected = ref.activateBackward('glu', x, dy, { axisSize: 2 * h });
      dx.forEach((v, i) => expect(Math.abs(v - expected[i]!)).toBeLessThanOrEqual(2 ** -20 * Math.max(1, Math.abs(expected[i]!))));
    }
    expect(() => nn.activateBackward('glu', new Float32Array(4), new Float32Array(4))).toThrow(
      expect.objectContaining({ code: 'SHAPE_MISMATCH' }),
    );
  });

  it('prelu: dx = dy·(x > 0 ? 1 : slope of the channel)', () => {
    const x = Float32Array.from([...randomArray(30, 8, 3), NaN, -0, 0, -Infinity, Infinity, 1e-45]);
    const dy = randomArray(x.length, 9, 2);
    const slope = randomArray(6, 10, 1);
    expectSameBits(
      nn.activateBackward('prelu', x, dy, { slope, axisSize: 6 }),
      ref.activateBackward('prelu', x, dy, { slope, axisSize: 6 }),
    );
  });

  it('rejects what it cannot do, with typed errors', () => {
    const x = new Float32Array(4);
    expect(() => nn.activateBackward('relu', x, new Float32Array(3))).toThrow(expect.objectContaining({ code: 'SHAPE_MISMATCH' }));
    expect(() => nn.activateBackward('relu', x, nn.tensor(x) as never)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => nn.activateBackward('nope' as never, x, x)).toThrow(expect.objectContaining({ code: 'UNKNOWN_ACTIVATION' }));
  });
});
