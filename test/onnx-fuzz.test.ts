import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SimdnetError, init } from '../ts/index.js';
import { randomArray } from './helpers.js';
import { type Graph, concat, edit, model } from './onnx-model.js';

const nn = await init();
const w = (n: number, seed: number) => randomArray(n, seed, 0.5);

/** Valid models that between them use every field the reader reads: raw_data and float_data, INT, FLOAT and
 * STRING attributes, Gemm with and without C, MatMul + Add, PRelu's slope initializer and pass-through ops. */
const SEEDS = [
  model(
    [
      { op: 'Gemm', inputs: ['W0', 'B0'], attributes: { transB: 1, alpha: 0.5 } },
      { op: 'LeakyRelu', inputs: [], attributes: { alpha: 0.1 } },
      { op: 'MatMul', inputs: ['W1'] },
      { op: 'Add', inputs: ['B1'] },
      { op: 'Softmax', inputs: [] },
    ],
    { W0: [[4, 3], w(12, 1)], B0: [[4], w(4, 2)], W1: [[4, 2], w(8, 3)], B1: [[1, 2], w(2, 4)] },
  ),
  model(
    [
      { op: 'Flatten', inputs: [] },
      { op: 'Gemm', inputs: ['W0', 'B0'], attributes: { beta: 2 } },
      { op: 'PRelu', inputs: ['S'] },
      { op: 'Gemm', inputs: ['W1'] },
      { op: 'Gelu', inputs: [], attributes: { approximate: 'tanh' } },
    ],
    { W0: [[2, 3], w(6, 5)], B0: [[3], w(3, 6)], S: [[3], w(3, 7)], W1: [[3, 2], w(6, 8)] },
    20,
    true,
  ),
];

/** One change to a file's bytes; positions are taken modulo the length, so every one applies to any file. */
const mutation = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), count: fc.integer({ min: 1, max: 8 }) }),
  // A varint of 10 to 40 bytes: the 10-byte cap, and the length and key fields it lands in.
  fc.record({
    kind: fc.constant('varint' as const),
    at: fc.nat(),
    bytes: fc.integer({ min: 10, max: 40 }),
    last: fc.integer({ min: 0, max: 0x7f }),
  }),
  fc.record({ kind: fc.constant('duplicate' as const), at: fc.nat(), count: fc.integer({ min: 1, max: 64 }) }),
);
type Mutation = typeof mutation extends fc.Arbitrary<infer M> ? M : never;

function mutate(bytes: Uint8Array, m: Mutation): Uint8Array {
  const at = m.at % (bytes.length + 1);
  const splice = (remove: number, insert: ArrayLike<number>) =>
    concat(bytes.subarray(0, at), Array.from(insert), bytes.subarray(at + remove));
  switch (m.kind) {
    case 'flip':
      return at < bytes.length ? splice(1, [bytes[at]! ^ (1 << m.bit)]) : bytes;
    case 'truncate':
      return bytes.subarray(0, at);
    case 'insert':
      return splice(0, m.bytes);
    case 'delete':
      return splice(m.count, []);
    case 'varint':
      return splice(0, [...Array<number>(m.bytes - 1).fill(0xff), m.last]);
    case 'duplicate':
      return splice(0, bytes.subarray(at, at + m.count));
  }
}

/** A whole node, initializer or graph input given twice (in place, so that the chain order stays). */
const repeatedField = fc.record({ list: fc.constantFrom('node', 'initializer', 'input'), at: fc.nat() });

function repeat(bytes: Uint8Array, { list, at }: { list: 'node' | 'initializer' | 'input'; at: number }): Uint8Array {
  return edit(bytes, (g: Graph) => {
    const items: unknown[] = g[list];
    items.splice(at % items.length, 0, items[at % items.length]);
  });
}

describe('ONNX import of mutated files', () => {
  it('rejects with a SimdnetError or loads, leaving memory and an earlier model as they were', async () => {
    const earlier = await nn.loadModel(SEEDS[0]!);
    const x = w(2 * earlier.inputDim, 9);
    const predictions = earlier.predict(x);
    const allocated = nn.allocatedBytes;
    const outcomes = { loaded: 0, rejected: 0 };
    const runs = 3000;
    // No bound per case: a hang (the reader once took 23 s on 160 KB of 0xff) fails on the test's timeout.
    await fc.assert(
      fc.asyncProperty(
        fc.nat(SEEDS.length - 1),
        fc.oneof({ arbitrary: fc.constant(null), weight: 3 }, { arbitrary: repeatedField, weight: 1 }),
        fc.array(mutation, { minLength: 1, maxLength: 3 }),
        async (seed, repeated, mutations) => {
          const bytes = mutations.reduce(mutate, repeated ? repeat(SEEDS[seed]!, repeated) : SEEDS[seed]!);
          const loaded = await nn.loadModel(bytes).catch((e: unknown) => {
            if (!(e instanceof SimdnetError)) throw e;
            return undefined;
          });
          if (loaded) {
            expect(loaded.predict(new Float32Array(loaded.inputDim))).toHaveLength(loaded.outputDim);
            loaded.dispose();
          }
          outcomes[loaded ? 'loaded' : 'rejected']++;
          expect(nn.allocatedBytes).toBe(allocated);
          expect(earlier.predict(x)).toEqual(predictions);
        },
      ),
      { numRuns: runs },
    );
    expect(outcomes.loaded + outcomes.rejected).toBe(runs);
    // Mutations that never broke a file, or always did, would test nothing.
    expect(outcomes.loaded).toBeGreaterThan(0);
    expect(outcomes.rejected).toBeGreaterThan(0);
  });
});
