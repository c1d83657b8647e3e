import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { describe, expect, it } from 'vitest';
import { SimdnetError, init } from '../ts/index.js';
import { seededRandom } from '../ts/random.js';
import { foldStandardization, standardization, standardize } from '../ts/train/standardize.js';
import { randomArray } from './helpers.js';
import { expectNear, loadTfjsExport } from './train-helpers.js';

const cli = fileURLToPath(new URL('../dist/ts/cli/main.js', import.meta.url));
const run = (args: string[], cwd: string) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', cwd });
const nn = await init();
await tf.setBackend('cpu');

/**
 * XOR of Gaussians (centres (±1, ±1), σ = 0.5, label: the signs differ): the Bayes accuracy is
 * Φ(2)² + (1 − Φ(2))² = 0.9555. The features are scaled and shifted far from standardized values
 * (x·300 + 1000, y·0.01), and a constant column is added, so that only a model trained on
 * standardized features, whose standardization is saved with it, learns and predicts well.
 */
function xorData(n: number, seed: number) {
  const random = seededRandom(seed);
  const gaussian = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const rows: number[][] = [];
  for (let i = 0; i < n; i++) {
    const [sx, sy] = [random() < 0.5 ? -1 : 1, random() < 0.5 ? -1 : 1];
    rows.push([1000 + 300 * (sx + 0.5 * gaussian()), 0.01 * (sy + 0.5 * gaussian()), 7, sx === sy ? 0 : 1]);
  }
  return rows;
}
const BAYES_ACCURACY = 0.9555;

const csv = (header: string, rows: number[][]) => `${header}\n${rows.map((r) => r.join(',')).join('\n')}\n`;

describe('simdnet train', () => {
  const dir = mkdtempSync(join(tmpdir(), 'simdnet-train-'));
  // The label in the middle, named: --label finds it.
  writeFileSync(
    join(dir, 'data.csv'),
    csv(
      'x,label,y,constant',
      xorData(1000, 1).map(([x, y, c, label]) => [x!, label!, y!, c!]),
    ),
  );
  const heldOut = xorData(2000, 2);
  writeFileSync(
    join(dir, 'held-out.csv'),
    csv(
      'x,y,constant',
      heldOut.map((r) => r.slice(0, 3)),
    ),
  );
  const command = [
    'train',
    'data.csv',
    '--layers',
    '128:relu,64:relu,1:sigmoid',
    '--loss',
    'binary_crossentropy',
    '--label',
    'label',
    '--epochs',
    '20',
    '--batch-size',
    '32',
    '--validation-split',
    '0.2',
    '--seed',
    '3',
  ];

  it('trains on a CSV, reports the KPIs on the validation split, and simdnet predict applies the saved standardization', () => {
    const r = run([...command, '--out', 'model.json'], dir);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/Epoch 20\/20 .* val_accuracy: /);
    const kpi = (name: string) => Number(new RegExp(`^  ${name} +([\\d.,]+)$`, 'm').exec(r.stdout)?.[1]?.replaceAll(',', ''));
    expect(r.stdout).toMatch(/validation split \(200 rows\)/);
    expect(kpi('accuracy')).toBeGreaterThan(BAYES_ACCURACY - 0.04);
    for (const name of ['loss', 'precision', 'recall', 'f1', 'mse']) expect(kpi(name), name).toBeGreaterThan(0);
    expect(kpi('samples/s')).toBeGreaterThan(0);
    // The model file holds dense layers only: the standardization is folded into the first one.
    const saved = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as { layers: { inputDim: number }[] };
    expect(saved.layers.map((l) => l.inputDim)).toEqual([3, 128, 64]);
    const p = run(['predict', 'model.json', '--input', 'held-out.csv'], dir);
    expect(p.stderr).toBe('');
    const predictions = p.stdout.trim().split('\n').map(Number);
    const hits = predictions.filter((v, i) => (v > 0.5 ? 1 : 0) === heldOut[i]![3]).length;
    expect(hits / heldOut.length).toBeGreaterThan(BAYES_ACCURACY - 0.03);
  });

  it('--format tfjs writes the same model as TF.js Layers files', async () => {
    expect(run([...command, '--out', 'tfjs.json', '--format', 'tfjs'], dir).status).toBe(0);
    const modelJson = JSON.parse(readFileSync(join(dir, 'tfjs.json'), 'utf8'));
    expect(modelJson.weightsManifest[0].paths).toEqual(['tfjs.weights.bin']);
    const theirs = await loadTfjsExport(modelJson, new Uint8Array(readFileSync(join(dir, 'tfjs.weights.bin'))));
    // Same seed, same data: the same training as the simdnet files of the first test.
    const ours = await nn.loadModel(join(dir, 'model.json'));
    const x = Float32Array.from(heldOut.slice(0, 50).flatMap((r) => r.slice(0, 3)));
    expectNear((theirs.predict(tf.tensor2d(x, [50, 3])) as tf.Tensor).dataSync(), ours.predict(x), 1e-5, 1e-6);
  });

  it.each([
    ['no --layers', ['train', 'data.csv', '--loss', 'mse'], /missing --layers/],
    ['a layer of 0 units', ['train', 'data.csv', '--layers', '0:relu', '--loss', 'mse'], /--layers: "0:relu"/],
    ['an unknown activation', ['train', 'data.csv', '--layers', '4:nope,1', '--loss', 'mse'], /UNKNOWN_ACTIVATION/],
    ['an unknown loss', ['train', 'data.csv', '--layers', '1', '--loss', 'hinge'], /INVALID_ARGUMENT: unknown loss "hinge"/],
    ['an unknown optimizer', ['train', 'data.csv', '--layers', '1', '--loss', 'mse', '--optimizer', 'adagrad'], /unknown optimizer/],
    ['an unknown label', ['train', 'data.csv', '--layers', '1', '--loss', 'mse', '--label', 'z'], /--label z: no such column/],
    ['validation split 1', ['train', 'data.csv', '--layers', '1', '--loss', 'mse', '--validation-split', '1'], /--validation-split/],
    ['epochs 0', ['train', 'data.csv', '--layers', '1', '--loss', 'mse', '--epochs', '0'], /--epochs must be an integer ≥ 1/],
    [
      'labels that are not class ids',
      ['train', 'data.csv', '--layers', '3:softmax', '--loss', 'categorical_crossentropy', '--label', 'x'],
      /is not a class id in \[0, 3\)/,
    ],
    ['several units with mse', ['train', 'data.csv', '--layers', '2', '--loss', 'mse'], /needs a categorical loss/],
    ['an unknown format', ['train', 'data.csv', '--layers', '1', '--loss', 'mse', '--format', 'onnx'], /--format must be simdnet or tfjs/],
    ['a missing file', ['train', 'none.csv', '--layers', '1', '--loss', 'mse'], /ENOENT/],
  ])('%s: exit 1, one error line, nothing written', (_, args, message) => {
    const r = run([...args, '--out', 'rejected.json'], dir);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(existsSync(join(dir, 'rejected.json'))).toBe(false);
  });

  const categorical = ['sparse_categorical_crossentropy', 'categorical_crossentropy'];
  it.each(categorical)('three classes by angle, class ids in the label column: %s', (loss) => {
    const random = seededRandom(9);
    const sector = (a: number, b: number) => Math.min(2, Math.floor(((Math.atan2(b, a) + Math.PI) / (2 * Math.PI)) * 3));
    const rows = Array.from({ length: 600 }, () => {
      const [a, b] = [2 * random() - 1, 2 * random() - 1];
      return [a, b, sector(a, b)];
    });
    writeFileSync(join(dir, 'classes.csv'), csv('a,b,class', rows));
    const r = run(
      ['train', 'classes.csv', '--layers', '32:relu,3:softmax', '--loss', loss, '--epochs', '40', '--seed', '1', '--out', `${loss}.json`],
      dir,
    );
    expect(r.stderr).toBe('');
    // The sectors' borders are straight lines through the origin: a small network separates them almost perfectly.
    expect(Number(/^ {2}accuracy +([\d.]+)$/m.exec(r.stdout)?.[1])).toBeGreaterThan(0.9);
    writeFileSync(
      join(dir, 'points.csv'),
      csv('a,b', [
        [0.5, 0.5],
        [-0.9, 0.1],
      ]),
    );
    const predicted = run(['predict', `${loss}.json`, '--input', 'points.csv'], dir).stdout;
    const predictions = predicted
      .trim()
      .split('\n')
      .map((line) => line.split(',').map(Number));
    expect(predictions.map((p) => p.indexOf(Math.max(...p)))).toEqual([sector(0.5, 0.5), sector(-0.9, 0.1)]);
  });

  it('has its own --help and is listed in simdnet --help', () => {
    const help = run(['train', '--help'], dir);
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/^usage: simdnet train <data.csv> --layers/);
    expect(help.stdout).toMatch(/--validation-split/);
    expect(run(['--help'], dir).stdout).toMatch(/^ {2}train <data.csv>/m);
  });

  it('rejects a data cell that is not a number, naming its line', () => {
    writeFileSync(join(dir, 'bad.csv'), 'a,b\n1,2\n3,x\n');
    const r = run(['train', 'bad.csv', '--layers', '1', '--loss', 'mse', '--out', 'rejected.json'], dir);
    expect(r.stderr.trim()).toBe('simdnet: line 3: "x" is not a finite decimal number');
    // Beyond float32's range the model would compute with Infinity and save NaN weights.
    writeFileSync(join(dir, 'big.csv'), 'a,b\n1,2\n3,1e39\n');
    const big = run(['train', 'big.csv', '--layers', '1', '--loss', 'mse', '--out', 'rejected.json'], dir);
    expect(big.stderr.trim()).toBe('simdnet: line 3: "1e39" is not a finite decimal number');
    expect(existsSync(join(dir, 'rejected.json'))).toBe(false);
  });

  it('--format tfjs refuses an activation TF.js cannot express before training, writing nothing', () => {
    writeFileSync(
      join(dir, 'small.csv'),
      csv(
        'a,b,y',
        Array.from({ length: 20 }, (_, i) => [i % 2, (i >> 1) % 2, i % 3 === 0 ? 1 : 0]),
      ),
    );
    const r = run(
      [
        'train',
        'small.csv',
        '--layers',
        '3:hard_sigmoid,1:sigmoid',
        '--loss',
        'binary_crossentropy',
        '--format',
        'tfjs',
        '--out',
        'hs.json',
      ],
      dir,
    );
    expect(r.status).toBe(1);
    expect(r.stdout).not.toMatch(/epoch/i);
    expect(r.stderr.trim()).toMatch(/^simdnet: INVALID_ARGUMENT: .*TF\.js Layers has no activation/);
    expect(existsSync(join(dir, 'hs.json'))).toBe(false);
  });
});

describe('standardization folded into the first layer', () => {
  it('the folded model on raw features predicts what the model predicts on standardized ones', () => {
    const [n, dim] = [40, 4];
    const raw = randomArray(n * dim, 5, 1).map((v, i) => (i % dim === 3 ? 2.5 : v * 10 ** (i % dim) + 50 * (i % dim)));
    const scaling = standardization(raw, 30, dim);
    expect(scaling.std[3]).toBe(1); // the constant feature
    const model = nn.sequential([{ inputDim: dim, units: 6, activation: 'tanh' }, { units: 2 }]);
    const expected = model.predict(standardize(raw.slice(), scaling));
    const [bytes, second] = [nn.allocatedBytes, model.layers[1]!.getWeights()];
    foldStandardization(model, scaling);
    expect(nn.allocatedBytes).toBe(bytes);
    expect(model.layers[1]!.getWeights()).toEqual(second);
    expectNear(model.predict(raw), expected, 2e-5, 1e-6);
    model.dispose();
  });

  it('a disposed model: DISPOSED, memory unchanged', () => {
    const model = nn.sequential([{ inputDim: 2, units: 1 }]);
    model.dispose();
    const bytes = nn.allocatedBytes;
    expect(() => foldStandardization(model, standardization(new Float32Array([1, 2]), 1, 2))).toThrow(SimdnetError);
    expect(() => foldStandardization(model, standardization(new Float32Array([1, 2]), 1, 2))).toThrow(/DISPOSED/);
    expect(nn.allocatedBytes).toBe(bytes);
  });
});
