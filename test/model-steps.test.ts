import { describe, expect, it } from 'vitest';
import { type LayerSpec, SimdnetError, init } from '../ts/index.js';
import { instances, randomArray } from './helpers.js';
import { expectRefused } from './model-files.js';

const nn = await init();
const tolerance = (e: number) => 2e-6 * Math.max(1, Math.abs(e));

/** The same layers without steps: what the steps are applied to, in JavaScript, by the reference. */
const KERNEL = randomArray(6 * 5, 1, 0.6);
const BIAS = randomArray(5, 2, 0.3);
const SCALE = randomArray(5, 3, 2);
const SLOPES = randomArray(5, 4, 1);
const SPECS: LayerSpec[] = [
  {
    inputDim: 6,
    units: 5,
    activation: 'tanh',
    kernel: KERNEL,
    bias: BIAS,
    folded: ['BatchNormalization'],
    then: [
      { name: 'leaky_relu', negativeSlope: 0.1 },
      { scale: SCALE, shift: 0.25, label: 'BatchNormalization' },
      { name: 'prelu', slope: SLOPES },
      'softmax',
    ],
  },
  { units: 3, seed: 7, then: ['sigmoid'] },
];

/** The steps of SPECS in JavaScript, row by row (float64: the kernels' float32 error is within `tolerance`). */
function reference(x: Float32Array, rows: number): Float32Array {
  const bare = nn.sequential([{ inputDim: 6, units: 5, activation: 'tanh', kernel: KERNEL, bias: BIAS }]);
  const hidden = bare.predict(x, rows);
  bare.dispose();
  for (let r = 0; r < rows; r++) {
    const row = hidden.subarray(5 * r, 5 * r + 5);
    row.forEach((v, c) => {
      const leaky = v > 0 ? v : 0.1 * v;
      const affine = leaky * SCALE[c]! + 0.25;
      row[c] = affine > 0 ? affine : SLOPES[c]! * affine;
    });
    const max = Math.max(...row);
    const sum = row.reduce((s, v) => s + Math.exp(v - max), 0);
    row.forEach((v, c) => (row[c] = Math.exp(v - max) / sum));
  }
  const second = nn.sequential([{ inputDim: 5, units: 3, seed: 7 }]);
  const y = second.predict(hidden, rows).map((v) => 1 / (1 + Math.exp(-v)));
  second.dispose();
  return y;
}

describe("steps after a layer's activation", () => {
  it('run in order, in place, between layers, as the reference computes them', () => {
    const model = nn.sequential(SPECS);
    for (const rows of [1, 3, 8]) {
      const x = randomArray(rows * 6, 10 + rows, 2);
      const expected = reference(x, rows);
      model.predict(x).forEach((v, i) => expect(Math.abs(v - expected[i]!)).toBeLessThanOrEqual(tolerance(expected[i]!)));
    }
    model.dispose();
  });

  it('run the same in every build (scalar, SIMD128, relaxed SIMD)', async () => {
    const x = randomArray(5 * 6, 21, 2);
    const expected = reference(x, 5);
    for (const [variant, build] of await instances()) {
      const y = build.sequential(SPECS).predict(x);
      y.forEach((v, i) => expect(Math.abs(v - expected[i]!), `${variant} [${i}]`).toBeLessThanOrEqual(tolerance(expected[i]!)));
    }
  });

  it('a row-wise step that needs scratch (sparsemax over 40 units) gets it, as nn.activate computes it', () => {
    const layer: LayerSpec = { inputDim: 3, units: 40, activation: 'elu', seed: 4 };
    const x = randomArray(2 * 3, 22, 2);
    const expected = nn.activate('sparsemax', nn.sequential([layer]).predict(x), { axisSize: 40 });
    expect(nn.sequential([{ ...layer, then: ['sparsemax'] }]).predict(x)).toEqual(expected);
  });

  it('are saved (format version 2) and loaded back exactly; a model without steps stays version 1', async () => {
    const model = nn.sequential(SPECS);
    const saved = model.save();
    expect(JSON.parse(saved.json).version).toBe(2);
    expect(JSON.parse(nn.sequential([{ inputDim: 2, units: 1 }]).save().json).version).toBe(1);
    const loaded = await nn.loadModel(saved);
    expect(loaded.summary()).toBe(model.summary());
    const x = randomArray(4 * 6, 5, 2);
    expect(loaded.predict(x)).toEqual(model.predict(x));
    // The steps' values are not weights.
    expect(loaded.getWeights()).toEqual(model.getWeights());
    expect(model.getWeights()).toHaveLength(4);
  });

  it("are rows of summary(), like Keras' layers, with folded layers and non-trainable counts", () => {
    const summary = nn.sequential(SPECS).summary();
    const rows = summary
      .split('\n')
      .filter((line) => /^[a-z_0-9]+ \(/.test(line))
      .map((line) => line.split(/\s{2,}/)[0]);
    expect(rows).toEqual([
      'dense (Dense, tanh)',
      'batch_normalization (BatchNormalization, folded)',
      'leaky_re_lu (LeakyReLU)',
      'batch_normalization_1 (BatchNormalization)',
      'p_re_lu (PReLU)',
      'softmax (Softmax)',
      'dense_1 (Dense)',
      'activation (Activation, sigmoid)',
    ]);
    expect(summary).toContain(`Total params: ${6 * 5 + 5 + 5 * 3 + 3 + 2 * 5 + 5}`);
    expect(summary).toContain(`Non-trainable params: ${2 * 5 + 5}`);
  });

  it('are refused by compile(), which leaves the model as it was', () => {
    const model = nn.sequential(SPECS);
    const allocated = nn.allocatedBytes;
    expect(() => model.compile({ loss: 'mse' })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/layer 0 has steps/) }),
    );
    expect(nn.allocatedBytes).toBe(allocated);
    expect(() => model.trainOnBatch(new Float32Array(6), new Float32Array(3))).toThrow(/compile\(\)/);
  });

  it.each([
    ['a scale of the wrong length', { scale: [1, 2], shift: 0 }, 'SHAPE_MISMATCH'],
    ['a NaN shift', { scale: 1, shift: [0, 0, NaN, 0, 0] }, 'INVALID_ARGUMENT'],
    ['an affine step with an unknown key', { scale: 1, shift: 0, bias: 1 }, 'INVALID_ARGUMENT'],
    ['glu', 'glu', 'INVALID_ARGUMENT'],
    ['an unknown activation', 'relu7', 'UNKNOWN_ACTIVATION'],
    ['prelu without slopes', 'prelu', 'INVALID_ARGUMENT'],
    ['not an array', 'tanh', 'INVALID_ARGUMENT', true],
  ])('%s is refused before any memory is touched', (_, step, code, bare = false) => {
    const earlier = nn.sequential(SPECS);
    const x = randomArray(2 * 6, 9, 1);
    const before = earlier.predict(x);
    const allocated = nn.allocatedBytes;
    const then = bare ? step : [step];
    let error: unknown;
    try {
      nn.sequential([{ inputDim: 6, units: 5, then } as LayerSpec]);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SimdnetError);
    expect(error).toMatchObject({ code, message: expect.stringMatching(/layer 0/) });
    expect(nn.allocatedBytes).toBe(allocated);
    expect(earlier.predict(x)).toEqual(before);
  });
});

describe('hostile saved models with steps (format version 2): INVALID_MODEL naming the layer, nothing allocated', () => {
  const saved = nn.sequential(SPECS).save();
  const witness = nn.sequential([{ inputDim: 2, units: 2, activation: 'tanh' }]);
  type Doc = { version: number; layers: { then?: unknown[]; folded?: unknown }[] };
  const changed = (change: (doc: Doc) => void) => {
    const doc = JSON.parse(saved.json) as Doc;
    change(doc);
    return { json: JSON.stringify(doc), weights: saved.weights };
  };
  it.each([
    [
      'a scale outside the weights',
      (d: Doc) => ((d.layers[0]!.then![1] as { scale: number[] }).scale = [1e6, 5]),
      /layer 0's step 1's scale lies outside/,
    ],
    [
      'a shift of the wrong length',
      (d: Doc) => ((d.layers[0]!.then![1] as { shift: number[] }).shift[1] = 4),
      /layer 0's step 1's shift has 4 values, expected 5/,
    ],
    [
      'an affine step without a label',
      (d: Doc) => delete (d.layers[0]!.then![1] as { label?: string }).label,
      /layer 0's step 1's label must be a string/,
    ],
    ['a glu step', (d: Doc) => (d.layers[1]!.then = ['glu']), /layer 1's step 0: glu halves the width: a step cannot apply it/],
    ['an unknown activation step', (d: Doc) => (d.layers[1]!.then = ['relu7']), /layer 1's step 0: unknown activation "relu7"/],
    [
      'prelu slopes for another width',
      (d: Doc) => (d.layers[0]!.then![2] = { name: 'prelu', slope: [1, 2] }),
      /layer 0's step 2: prelu has 2 slopes for rows of 5/,
    ],
    ['then that is not an array', (d: Doc) => (d.layers[1]!.then = 'sigmoid' as never), /layer 1's then must be an array/],
    ['folded that is not a list of names', (d: Doc) => (d.layers[0]!.folded = [3]), /layer 0's folded must be an array of names/],
    ['version 4', (d: Doc) => (d.version = 4), /version 1 to 3/],
  ])('%s', async (_, change, message) => {
    const source = changed(change);
    await expectRefused(nn, witness, () => nn.loadModel(source), 'INVALID_MODEL', message);
  });
});
