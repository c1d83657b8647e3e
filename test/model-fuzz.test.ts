import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type ErrorCode, SimdnetError, init } from '../ts/index.js';
import { randomArray } from './helpers.js';
import { tinyTfjs, writeFiles } from './model-files.js';

const nn = await init();
const witness = nn.sequential([{ inputDim: 3, units: 2, activation: 'tanh', seed: 7 }]);
const x = randomArray(6, 5, 1);
const expected = witness.predict(x);
const baseline = nn.allocatedBytes;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Key = string | number;

/** The path (keys from the root) of every value inside `doc`, the root excepted. */
function pathsOf(doc: Json, prefix: Key[] = []): Key[][] {
  if (doc === null || typeof doc !== 'object') return [];
  const keys: Key[] = Array.isArray(doc) ? doc.map((_, i) => i) : Object.keys(doc);
  return keys.flatMap((k) => [[...prefix, k], ...pathsOf((doc as Record<Key, Json>)[k]!, [...prefix, k])]);
}

/** What a field may become: removed, null, another type, a size made huge, negative or fractional, an odd string. */
const replacement = fc.oneof(
  fc.constant(undefined),
  fc.constantFrom<Json>(
    null,
    true,
    [],
    {},
    [3, 4],
    [-1],
    [1.5, 8],
    [2 ** 31, 2 ** 31],
    -1,
    0,
    0.5,
    1.5,
    3,
    4,
    12,
    2 ** 31,
    2 ** 40,
    1e300,
    -1e300,
    Number.MAX_SAFE_INTEGER + 2,
    '',
    '..',
    '../model.json',
    '/dev/zero',
    '__proto__',
    'constructor',
    'float16',
    'uint8',
    'uint16',
    'int8',
    'linear',
    'prelu',
    'glu',
    'Dense',
    'model.json',
    '%2e%2e/x',
    '\u0000',
  ),
  fc.string({ maxLength: 8 }),
  fc.double(),
);

/** One to four fields of `doc` changed (the index picks a path, modulo their count). */
const mutations = fc.array(fc.record({ at: fc.nat(), value: replacement }), { minLength: 1, maxLength: 4 });

function mutate(doc: Json, changes: { at: number; value: Json | undefined }[]): Json {
  const copy = structuredClone(doc);
  for (const { at, value } of changes) {
    const paths = pathsOf(copy);
    if (paths.length === 0) return value ?? null;
    const path = paths[at % paths.length]!;
    const parent = path.slice(0, -1).reduce((node, k) => (node as Record<Key, Json>)[k]!, copy) as Record<Key, Json>;
    if (value === undefined) delete parent[path.at(-1)!];
    // A copy: the replacements are shared constants, which a later change in the same run would
    // otherwise edit in place, once even into a cycle ([3, [cyclic]]) that JSON.stringify refuses.
    else parent[path.at(-1)!] = structuredClone(value);
  }
  return copy;
}

const utf8 = (text: string) => new TextEncoder().encode(text);

/** Weight bytes as they were, cut short or extended. */
const byteChange = fc.oneof(fc.constant(0), fc.integer({ min: -64, max: 64 }));
function resize(bytes: Uint8Array, change: number): Uint8Array {
  if (change <= 0) return bytes.subarray(0, Math.max(0, bytes.length + change));
  return new Uint8Array([...bytes, ...new Uint8Array(change).fill(0x7f)]);
}

/** `load` must load (the model is then disposed) or fail with a SimdnetError; either way memory and the witness are as they were. */
async function loadsOrRefuses(load: () => Promise<{ dispose(): void }>, codes: ErrorCode[] = ['INVALID_MODEL', 'IO_ERROR']): Promise<void> {
  try {
    (await load()).dispose();
  } catch (e) {
    if (!(e instanceof SimdnetError)) throw e;
    expect(codes).toContain(e.code);
  }
  expect(nn.allocatedBytes).toBe(baseline);
  expect(witness.predict(x)).toEqual(expected);
}

// Bounded: a few hundred runs of a few milliseconds each.
const RUNS = { numRuns: 200 };

describe('fuzzed model files only ever load or fail with a SimdnetError, leaving everything as it was', () => {
  it('TF.js model.json and shard from disk', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'simdnet-fuzz-'));
    const { doc, shard } = tinyTfjs();
    await fc.assert(
      fc.asyncProperty(mutations, byteChange, async (changes, change) => {
        const json = JSON.stringify(mutate(doc as unknown as Json, changes));
        writeFiles(dir, { 'model.json': utf8(json), 'group1-shard1of1.bin': resize(shard, change) });
        await loadsOrRefuses(() => nn.loadModel(join(dir, 'model.json')));
      }),
      RUNS,
    );
  });

  it('TF.js artifacts passed directly', async () => {
    const { doc, shard } = tinyTfjs();
    // weightData is a placeholder while mutating: where it is still null afterwards, the (resized) bytes go.
    const artifacts = {
      modelTopology: doc.modelTopology,
      weightSpecs: doc.weightsManifest[0]!.weights,
      weightData: null,
    } as unknown as Json;
    await fc.assert(
      fc.asyncProperty(mutations, byteChange, async (changes, change) => {
        const source = mutate(artifacts, changes) as Record<string, unknown> | null;
        if (source?.weightData === null) source.weightData = resize(shard, change);
        // With none of TF.js' keys left it is no model at all, which loadModel calls a bad argument; once
        // every field is gone a replacement string may be all that is left, which loadModel reads as a path.
        const tfjsLike =
          source !== null && typeof source === 'object' && ['modelTopology', 'weightSpecs', 'weightData'].some((k) => k in source);
        const codes: ErrorCode[] | undefined = typeof source === 'string' ? ['IO_ERROR'] : tfjsLike ? undefined : ['INVALID_ARGUMENT'];
        await loadsOrRefuses(() => nn.loadModel(source as never), codes);
      }),
      RUNS,
    );
  });

  it('simdnet model.json and model.bin, from disk and as { json, weights }', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'simdnet-fuzz-'));
    const model = nn.sequential([
      { inputDim: 3, units: 4, activation: { name: 'leaky_relu', negativeSlope: 0.1 } },
      { units: 2, activation: 'softmax' },
    ]);
    const saved = model.save();
    model.dispose();
    const doc = JSON.parse(saved.json) as Json;
    await fc.assert(
      fc.asyncProperty(mutations, byteChange, async (changes, change) => {
        const json = JSON.stringify(mutate(doc, changes));
        const weights = resize(saved.weights, change);
        writeFiles(dir, { 'model.json': utf8(json), 'model.bin': weights });
        await loadsOrRefuses(() => nn.loadModel(join(dir, 'model.json')));
        await loadsOrRefuses(() => nn.loadModel({ json, weights }));
      }),
      RUNS,
    );
  });
});
