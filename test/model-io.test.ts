import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { type LayerSpec, init } from '../ts/index.js';
import { expectSameBits, randomArray } from './helpers.js';

const nn = await init();
const SPECS: LayerSpec[] = [
  { inputDim: 7, units: 9, activation: { name: 'leaky_relu', negativeSlope: 0.05 } },
  { units: 5, activation: 'gelu', seed: 3 },
  { units: 4, activation: { name: 'hard_sigmoid', preset: 'onnx' } },
  { units: 3, activation: 'softmax' },
];
const cli = fileURLToPath(new URL('../dist/ts/cli/main.js', import.meta.url));

describe('saving and loading models (simdnet format)', () => {
  it('round-trips exactly: layers, activations with their options, weights, predictions', async () => {
    const model = nn.sequential(SPECS);
    const saved = model.save();
    const loaded = await nn.loadModel(saved);
    expect(loaded.summary()).toBe(model.summary());
    expect(loaded.layers.map((l) => l.activationSpec)).toEqual(model.layers.map((l) => l.activationSpec));
    expect(loaded.getWeights()).toEqual(model.getWeights());
    const x = randomArray(7 * 11, 1, 3);
    expectSameBits(loaded.predict(x), model.predict(x));
  });

  it('loads from a path, with the weights file beside the JSON', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'simdnet-'));
    const model = nn.sequential(SPECS);
    const { json, weights } = model.save('weights.bin');
    writeFileSync(join(dir, 'model.json'), json);
    writeFileSync(join(dir, 'weights.bin'), weights);
    const loaded = await nn.loadModel(join(dir, 'model.json'));
    const x = randomArray(7 * 2, 2, 1);
    expectSameBits(loaded.predict(x), model.predict(x));
  });

  it('rejects what is not a model, or weights that do not fit, with typed errors', async () => {
    const { json, weights } = nn.sequential(SPECS).save();
    await expect(nn.loadModel({ json: '{', weights })).rejects.toMatchObject({ code: 'INVALID_MODEL' });
    await expect(nn.loadModel({ json: '{"format":"keras"}', weights })).rejects.toMatchObject({ code: 'INVALID_MODEL' });
    await expect(nn.loadModel({ json, weights: weights.subarray(0, weights.length - 4) })).rejects.toMatchObject({ code: 'INVALID_MODEL' });
    await expect(nn.loadModel({ json, weights: weights.subarray(0, 7) })).rejects.toMatchObject({ code: 'INVALID_MODEL' });
    await expect(nn.loadModel({ json } as never)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});

describe('simdnet predict and info <model>', () => {
  const dir = mkdtempSync(join(tmpdir(), 'simdnet-cli-'));
  const model = nn.sequential(SPECS);
  const { json, weights } = model.save();
  writeFileSync(join(dir, 'model.json'), json);
  writeFileSync(join(dir, 'model.bin'), weights);
  const rows = [randomArray(7, 5, 2), randomArray(7, 6, 2), randomArray(7, 7, 2)];
  // The CLI sets Node 20's relaxed-SIMD flag itself, so it runs the relaxed build like the suite does.
  const cliBuild = init({ variant: 'relaxed' });
  const expectedOf = async () =>
    (await (await cliBuild).loadModel({ json, weights })).predict(Float32Array.from(rows.flatMap((r) => Array.from(r))));

  it('predicts CSV rows from a file, one CSV row of outputs per input row', async () => {
    writeFileSync(join(dir, 'input.csv'), `${rows.map((r) => Array.from(r).join(',')).join('\n')}\n`);
    const out = execFileSync(process.execPath, [cli, 'predict', join(dir, 'model.json'), '--input', join(dir, 'input.csv')], {
      encoding: 'utf8',
    });
    const values = out
      .trim()
      .split('\n')
      .map((line) => line.split(',').map(Number));
    expect(values).toHaveLength(3);
    expectSameBits(Float32Array.from(values.flat()), await expectedOf());
  });

  it('reads JSON rows from standard input and writes JSON', async () => {
    const input = JSON.stringify(rows.map((r) => Array.from(r)));
    const out = execFileSync(process.execPath, [cli, 'predict', join(dir, 'model.json'), '--input', '-', '--output', 'json'], {
      encoding: 'utf8',
      input,
    });
    expectSameBits(Float32Array.from((JSON.parse(out) as number[][]).flat()), await expectedOf());
  });

  it('fails with one clear line and a non-zero exit code', () => {
    for (const [args, message] of [
      [['predict', join(dir, 'model.json'), '--input', '-'], /row 1 has 2 values; the model takes 7/],
      [['predict', join(dir, 'missing.json'), '--input', '-'], /^simdnet: model file not found: .*missing\.json\n$/],
      [['predict', join(dir, 'model.json')], /predict: missing --input/],
      [['predict', '--input', '-'], /predict: missing the model file argument/],
      [['predict', join(dir, 'model.json'), '--input', '-', '--bogus'], /predict: Unknown option '--bogus'/],
      [['predict', join(dir, 'model.json'), '--input', '-', '--variant', 'avx'], /--variant must be one of relaxed, simd, scalar/],
      [['frobnicate'], /unknown command 'frobnicate'/],
    ] as const) {
      const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', input: '1,2\n' });
      expect(r.status).toBe(1);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(message);
    }
  });

  it("prints a saved model's summary", () => {
    const out = execFileSync(process.execPath, [cli, 'info', join(dir, 'model.json')], { encoding: 'utf8' });
    expect(out.trim()).toBe(model.summary());
  });
});
