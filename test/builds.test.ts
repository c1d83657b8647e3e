import { describe, expect, it } from 'vitest';
import { ACTIVATION_NAMES, init } from '../ts/index.js';
import { ROWWISE_NAMES } from '../ts/activations.js';
import { EDGE_VALUES, expectSameBits, randomArray } from './helpers.js';

// The scalar build runs the SIMD kernels' code with each v128 operation done lane by lane
// (crate/src/simd), so it must produce exactly the SIMD128 build's bits — not merely stay within
// the error bounds the other tests check against the reference.
describe("the scalar build computes the SIMD128 build's bits", async () => {
  const [simd, scalar] = await Promise.all([init({ variant: 'simd' }), init({ variant: 'scalar' })]);
  expect([simd.variant, scalar.variant]).toEqual(['simd', 'scalar']);
  // Wide ranges, edge values and an odd length, so that tails and every branch of each function run.
  const x = Float32Array.from([...EDGE_VALUES, ...randomArray(301, 1, 3), ...randomArray(301, 2, 30), ...randomArray(301, 3, 120)]);
  const dy = randomArray(x.length, 4, 2);
  const elementwise = ACTIVATION_NAMES.filter((n) => !(ROWWISE_NAMES as string[]).includes(n));

  it.each(elementwise)('%s, forward and backward', (name) => {
    expectSameBits(scalar.activate(name, x), simd.activate(name, x), x);
    expectSameBits(scalar.activateBackward(name, x, dy), simd.activateBackward(name, x, dy), x);
  });

  it.each(ROWWISE_NAMES.filter((n) => n !== 'prelu'))('%s over rows of 26, forward and backward', (name) => {
    const rows = x.subarray(0, 26 * 35);
    expectSameBits(scalar.activate(name, rows, { axisSize: 26 }), simd.activate(name, rows, { axisSize: 26 }));
    if (name !== 'glu') {
      expectSameBits(
        scalar.activateBackward(name, rows, dy.subarray(0, rows.length), { axisSize: 26 }),
        simd.activateBackward(name, rows, dy.subarray(0, rows.length), { axisSize: 26 }),
      );
    }
  });

  it('dense layers of every tile shape, with a fused activation', () => {
    for (const [batch, inputDim, units] of [
      [1, 37, 45],
      [2, 9, 33],
      [3, 64, 8],
      [9, 33, 17],
      [64, 100, 40],
    ] as const) {
      const config = {
        inputDim,
        units,
        activation: 'gelu' as const,
        kernel: randomArray(inputDim * units, units, 1),
        bias: randomArray(units, batch, 1),
      };
      const input = randomArray(batch * inputDim, inputDim, 2);
      const [a, b] = [scalar.dense(config), simd.dense(config)];
      expectSameBits(a.apply(input, batch), b.apply(input, batch));
      a.dispose();
      b.dispose();
    }
  });
});
