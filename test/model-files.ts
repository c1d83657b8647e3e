import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { expect } from 'vitest';
import { type ErrorCode, type Sequential, type Simdnet, SimdnetError } from '../ts/index.js';
import { randomArray } from './helpers.js';

/** A TF.js `model.json` document: a topology and a manifest of weight groups. */
export interface TfjsDocument {
  modelTopology: { class_name: string; config: { layers: { class_name: string; config: Record<string, unknown> }[] } };
  weightsManifest: { paths: string[]; weights: Record<string, unknown>[] }[];
}

/** A TF.js model.json for one Dense layer 3→4 named 'dense' (relu), its float32 shard, and those weights. */
export function tinyTfjs(seed = 1): { doc: TfjsDocument; shard: Uint8Array; kernel: Float32Array; bias: Float32Array } {
  const [kernel, bias] = [randomArray(12, seed, 1), randomArray(4, seed + 1, 1)];
  const doc: TfjsDocument = {
    modelTopology: {
      class_name: 'Sequential',
      config: {
        layers: [
          { class_name: 'Dense', config: { name: 'dense', units: 4, activation: 'relu', use_bias: true, batch_input_shape: [null, 3] } },
        ],
      },
    },
    weightsManifest: [
      {
        paths: ['group1-shard1of1.bin'],
        weights: [
          { name: 'dense/kernel', shape: [3, 4], dtype: 'float32' },
          { name: 'dense/bias', shape: [4], dtype: 'float32' },
        ],
      },
    ],
  };
  const shard = new Uint8Array(16 * 4);
  shard.set(new Uint8Array(kernel.buffer), 0);
  shard.set(new Uint8Array(bias.buffer), 48);
  return { doc, shard, kernel, bias };
}

/** `doc` with its one weight group read from `paths`. */
export function withPaths(doc: TfjsDocument, ...paths: string[]): TfjsDocument {
  return { ...doc, weightsManifest: [{ ...doc.weightsManifest[0]!, paths }] };
}

/** Writes `files` (name → bytes or a JSON document) under `dir`, making folders as needed; returns `dir`. */
export function writeFiles(dir: string, files: Record<string, Uint8Array | object>): string {
  for (const [name, content] of Object.entries(files)) {
    const path = join(dir, name);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, content instanceof Uint8Array ? content : JSON.stringify(content));
  }
  return dir;
}

/**
 * Runs `load`, which must fail with a SimdnetError of `code` whose message matches `message`, and
 * checks that it left `nn`'s allocated bytes and an earlier model's predictions as they were.
 */
export async function expectRefused(nn: Simdnet, witness: Sequential, load: () => Promise<unknown>, code: ErrorCode, message?: RegExp) {
  const x = randomArray(witness.inputDim * 2, 99, 1);
  const before = witness.predict(x);
  const bytes = nn.allocatedBytes;
  const error = await load().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, `expected ${code}`).toBeInstanceOf(SimdnetError);
  expect((error as SimdnetError).code, (error as Error).message).toBe(code);
  if (message) expect((error as Error).message).toMatch(message);
  expect(nn.allocatedBytes).toBe(bytes);
  expect(witness.predict(x)).toEqual(before);
}

/** `text` as a regular expression that matches it literally. */
export const literally = (text: string) => new RegExp(text.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&'));
