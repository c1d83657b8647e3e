import { describe, expect, it } from 'vitest';
import type { ActivationName, ActivationOptions } from '../ts/index.js';
import * as ref from '../ts/reference.js';
import { expectSameBits, expectUlp, instances, randomArray } from './helpers.js';

/**
 * The functions built on exp test a block of 256 inputs at once (crate/src/activation/mod.rs
 * `apply_blocks`): a block within their short range runs exp's short path without the per-vector
 * test, any other block the careful one. Both must give the same bits, wherever a value sits.
 */
const BLOCK = 256;
const SHORT: { name: ActivationName; options?: ActivationOptions; range: number; ulp?: number }[] = [
  { name: 'exponential', range: 87, ulp: 1 },
  { name: 'sigmoid', range: 87, ulp: 3 },
  { name: 'silu', range: 87, ulp: 4 },
  { name: 'swish', options: { beta: 3 }, range: 29 },
  { name: 'swish', options: { beta: -0.25 }, range: 348 },
  { name: 'mish', range: 87, ulp: 5 },
];

/** Four blocks and a tail of values up to ±range, with the range's own ends in the first block. */
function withinRange(range: number, seed: number): Float32Array {
  const x = randomArray(4 * BLOCK + 37, seed, range);
  x.set([range, -range, Math.fround(range * (1 - 2 ** -23)), 0, -0], 5);
  return x;
}

describe('exp-based activations: blocks within the short range give the careful path’s bits', async () => {
  for (const [variant, nn] of await instances()) {
    for (const { name, options, range, ulp } of SHORT) {
      it(`${variant} ${name} ${JSON.stringify(options ?? {})}`, () => {
        const x = withinRange(range, 7);
        const short = nn.activate(name, x, options) as Float32Array;
        // One outlier per block sends every block down the careful path.
        for (const outlier of [Infinity, -Infinity, NaN, range * 1.5, -range * 1.5]) {
          const mixed = x.slice();
          for (let at = 11; at < mixed.length; at += BLOCK) mixed[at] = outlier;
          const careful = nn.activate(name, mixed, options) as Float32Array;
          const kept = (a: Float32Array) => a.filter((_, i) => i % BLOCK !== 11);
          expectSameBits(kept(careful), kept(short), kept(x));
        }
        // β·x rounds: the documented bound adds 2κ ulps for β ≠ 1 (docs/accuracy.md); activations.test.ts checks those.
        if (ulp !== undefined) expectUlp(short, ref.activate(name, x), ulp, x);
      });
    }
  }

  it('blocks just beyond the short range take the careful path (too wide a range would break these)', async () => {
    for (const [, nn] of await instances()) {
      // exp(x) up to 88.7 is a normal float32 that the short path's one-step scaling cannot reach.
      const up = Float32Array.from({ length: 2 * BLOCK }, (_, i) => 87 + (1.7 * i) / (2 * BLOCK));
      expectUlp(nn.activate('exponential', up), ref.activate('exponential', up), 1, up);
      // sigmoid below -87.3 is subnormal: the careful path's two-step scaling, within 2^-140.
      const down = Float32Array.from({ length: 2 * BLOCK }, (_, i) => -87 - (17 * i) / (2 * BLOCK));
      const [got, exact] = [nn.activate('sigmoid', down), ref.activate('sigmoid', down)];
      for (let i = 0; i < down.length; i++) {
        expect(Math.abs(got[i]! - exact[i]!), `sigmoid(${down[i]})`).toBeLessThanOrEqual(Math.max(2 ** -140, 3 * 2 ** -23 * exact[i]!));
      }
    }
  });
});
