import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { describe, expect, it } from 'vitest';
import { type TfjsArtifacts, init } from '../ts/index.js';
import { quantizeWeights } from '../ts/int8.js';
import { randomArray, ulpDistance } from './helpers.js';
import { expectRefused } from './model-files.js';

const nn = await init();
await tf.setBackend('cpu');

/** What TF.js hands a save handler, passed to loadModel as it is (its type is accepted as such). */
async function artifactsOf(model: tfl.LayersModel): Promise<tf.io.ModelArtifacts> {
  let saved: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      saved = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  return saved!;
}

/**
 * simdnet's predictions against TF.js's own on the same rows (TF.js's CPU backend, float32), within
 * 1e-5 relative (1e-5 absolute below 1); `inputShape` is the input's shape but the batch (default [inputDim]).
 */
async function expectSameAsTfjs(model: tfl.LayersModel, inputDim: number, inputShape = [inputDim]) {
  const x = randomArray(6 * inputDim, inputDim, 2);
  const expected = (model.predict(tf.tensor(x, [6, ...inputShape])) as tf.Tensor).dataSync() as Float32Array;
  const m = await nn.loadModel(await artifactsOf(model));
  const y = m.predict(x);
  expect(y).toHaveLength(expected.length);
  y.forEach((v, i) => expect(Math.abs(v - expected[i]!)).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(expected[i]!))));
  return m;
}

describe('TF.js Layers import, checked against TF.js', () => {
  it('Dense layers with activations, and Activation, LeakyReLU, ELU, ReLU, Softmax, Dropout layers', async () => {
    const model = tfl.sequential({
      layers: [
        tfl.layers.dense({ inputShape: [5], units: 8, activation: 'relu' }),
        tfl.layers.dense({ units: 7 }),
        tfl.layers.leakyReLU({ alpha: 0.3 }),
        tfl.layers.dropout({ rate: 0.5 }),
        tfl.layers.dense({ units: 6 }),
        tfl.layers.elu(),
        tfl.layers.dense({ units: 6 }),
        tfl.layers.reLU({ maxValue: 0.5 }),
        tfl.layers.dense({ units: 5 }),
        tfl.layers.activation({ activation: 'tanh' }),
        tfl.layers.dense({ units: 4, activation: 'hardSigmoid' }),
        tfl.layers.dense({ units: 3, useBias: false }),
        tfl.layers.softmax(),
      ],
    });
    const m = await expectSameAsTfjs(model, 5);
    expect(m.layers.map((l) => l.activation.name)).toEqual(['relu', 'leaky_relu', 'elu', 'relu', 'tanh', 'hard_sigmoid', 'softmax']);
  });

  it('PReLU layers, with a slope per unit or one shared, saved and loaded back', async () => {
    const model = tfl.sequential({
      layers: [
        tfl.layers.dense({ inputShape: [5], units: 9 }),
        tfl.layers.prelu(),
        tfl.layers.dense({ units: 4 }),
        tfl.layers.prelu({ sharedAxes: [1] }),
        tfl.layers.dense({ units: 2, activation: 'sigmoid' }),
      ],
    });
    model.layers[1]!.setWeights([tf.tensor1d(randomArray(9, 3, 1))]);
    model.layers[3]!.setWeights([tf.tensor1d([0.4])]);
    const m = await expectSameAsTfjs(model, 5);
    expect(m.layers.map((l) => l.activation.name)).toEqual(['prelu', 'prelu', 'sigmoid']);
    const x = randomArray(3 * 5, 4, 2);
    expect((await nn.loadModel(m.save())).predict(x)).toEqual(m.predict(x));
  });

  it('an InputLayer with batch_input_shape, sigmoid/selu/softplus, and weights looked up by name', async () => {
    const input = tfl.layers.inputLayer({ inputShape: [4] });
    const model = tfl.sequential({
      layers: [
        input,
        tfl.layers.dense({ units: 6, activation: 'selu' }),
        tfl.layers.dense({ units: 3, activation: 'softplus' }),
        tfl.layers.dense({ units: 2, activation: 'sigmoid' }),
      ],
    });
    const artifacts = await artifactsOf(model);
    // The same weights in another order, with each group's specs and data permuted together.
    const specs = artifacts.weightSpecs!;
    const data = new Uint8Array(artifacts.weightData as ArrayBuffer);
    let at = 0;
    const parts = specs
      .map((s) => {
        const n = s.shape.reduce((a, b) => a * b, 1) * 4;
        const part = { spec: s, bytes: data.slice(at, at + n) };
        at += n;
        return part;
      })
      .reverse();
    const reordered: TfjsArtifacts = {
      modelTopology: artifacts.modelTopology,
      weightSpecs: parts.map((p) => p.spec),
      weightData: new Uint8Array(parts.flatMap((p) => Array.from(p.bytes))),
    };
    const x = randomArray(3 * 4, 9, 1);
    expect((await nn.loadModel(reordered)).predict(x)).toEqual((await nn.loadModel(artifacts)).predict(x));
    await expectSameAsTfjs(model, 4);
  });

  it('dequantizes uint8 and float16 weights, and loads model.json with its shard from disk', async () => {
    const model = tfl.sequential({ layers: [tfl.layers.dense({ inputShape: [3], units: 2, activation: 'relu' })] });
    const { modelTopology, weightSpecs, weightData } = await artifactsOf(model);
    const kernel = new Float32Array(weightData as ArrayBuffer, 0, 6);
    const scale = 0.01;
    const q = Uint8Array.from(kernel, (v) => Math.round((v + 1) / scale));
    const half = new Uint16Array([0x3c00, 0xb800]); // 1.0, -0.5
    const dir = mkdtempSync(join(tmpdir(), 'simdnet-tfjs-'));
    writeFileSync(join(dir, 'group1-shard1of1.bin'), new Uint8Array([...q, ...new Uint8Array(half.buffer)]));
    writeFileSync(
      join(dir, 'model.json'),
      JSON.stringify({
        modelTopology,
        weightsManifest: [
          {
            paths: ['group1-shard1of1.bin'],
            weights: [
              { ...weightSpecs![0], quantization: { dtype: 'uint8', scale, min: -1 } },
              { ...weightSpecs![1], quantization: { dtype: 'float16' } },
            ],
          },
        ],
      }),
    );
    const m = await nn.loadModel(join(dir, 'model.json'));
    const [k, b] = m.getWeights();
    k!.forEach((v, i) => expect(v).toBeCloseTo(q[i]! * scale - 1, 6));
    expect(Array.from(b!)).toEqual([1, -0.5]);
  });

  it('names what it does not support', async () => {
    const norm = tfl.sequential({ layers: [tfl.layers.dense({ inputShape: [4], units: 4 }), tfl.layers.layerNormalization()] });
    await expect(nn.loadModel(await artifactsOf(norm))).rejects.toMatchObject({
      code: 'INVALID_MODEL',
      message: expect.stringMatching(/LayerNormalization/),
    });
  });
});

/** Random moving statistics (and gamma, beta) for each BatchNormalization layer: fresh ones are the identity. */
function randomizeBatchNorms(model: tfl.LayersModel): void {
  model.layers
    .filter((l) => l.getClassName() === 'BatchNormalization')
    .forEach((layer, k) => {
      layer.setWeights(
        layer.getWeights().map((w, j) => {
          const values = randomArray(w.size, 40 + 4 * k + j, 1);
          // The last weight is the moving variance: positive, some near 0.
          return tf.tensor(j === layer.getWeights().length - 1 ? values.map((v) => v * v + 0.05) : values, w.shape);
        }),
      );
    });
}

/** The model's artifacts with `change` applied to a copy of its topology's layer named by class. */
async function changedArtifacts(
  model: tfl.LayersModel,
  className: string,
  change: (layer: Record<string, any>) => void,
): Promise<TfjsArtifacts> {
  const artifacts = await artifactsOf(model);
  const topology = structuredClone(artifacts.modelTopology) as { config: { layers: Record<string, any>[] } };
  change(topology.config.layers.find((l) => l.class_name === className)!);
  return { ...artifacts, modelTopology: topology };
}

describe('TF.js models of real shapes: stacked activations, BatchNormalization, Flatten, functional chains', () => {
  it('stacks activation layers after a Dense with an activation, in order', async () => {
    const model = tfl.sequential({
      layers: [
        tfl.layers.dense({ inputShape: [5], units: 16, activation: 'tanh' }),
        tfl.layers.leakyReLU({ alpha: 0.2 }),
        tfl.layers.activation({ activation: 'sigmoid' }),
        tfl.layers.dropout({ rate: 0.3 }),
        tfl.layers.dense({ units: 6 }),
        tfl.layers.reLU({ maxValue: 0.5 }),
        tfl.layers.elu(),
        tfl.layers.prelu(),
        tfl.layers.dense({ units: 3, activation: 'relu' }),
        tfl.layers.softmax(),
      ],
    });
    model.layers[7]!.setWeights([tf.tensor1d(randomArray(6, 5, 1))]);
    const m = await expectSameAsTfjs(model, 5);
    // A Dense without activation still fuses the first activation layer after it.
    expect(m.layers.map((l) => l.activation.name)).toEqual(['tanh', 'relu', 'relu']);
    expect(m.steps.map((list) => list.map((step) => (step.kind === 'activation' ? step.activation.name : step.label)))).toEqual([
      ['leaky_relu', 'sigmoid'],
      ['elu', 'prelu'],
      ['softmax'],
    ]);
    const x = randomArray(4 * 5, 6, 2);
    expect((await nn.loadModel(m.save())).predict(x)).toEqual(m.predict(x));
  });

  it('folds BatchNormalization into a linear Dense, and applies it as a per-unit affine after an activation', async () => {
    const model = tfl.sequential({
      layers: [
        tfl.layers.dense({ inputShape: [7], units: 12 }),
        tfl.layers.batchNormalization({ epsilon: 0.01 }),
        tfl.layers.reLU(),
        tfl.layers.dense({ units: 9, activation: 'tanh' }),
        tfl.layers.batchNormalization(),
        tfl.layers.dense({ units: 5, useBias: false }),
        tfl.layers.batchNormalization({ center: false, scale: false }),
        tfl.layers.leakyReLU(),
        tfl.layers.dense({ units: 4 }),
        tfl.layers.leakyReLU(),
        tfl.layers.batchNormalization({ axis: 1 }),
      ],
    });
    randomizeBatchNorms(model);
    const m = await expectSameAsTfjs(model, 7);
    expect(m.folded).toEqual([['BatchNormalization'], [], ['BatchNormalization'], []]);
    expect(m.layers.map((l) => l.activation.name)).toEqual(['relu', 'tanh', 'leaky_relu', 'leaky_relu']);
    expect(m.steps.map((list) => list.length)).toEqual([0, 1, 0, 1]);
    expect(m.summary()).toMatch(/batch_normalization \(BatchNormalization, folded\)\s+\(None, 12\)\s+0/);
    expect(m.summary()).toMatch(/batch_normalization_1 \(BatchNormalization\)\s+\(None, 9\)\s+18/);
    const x = randomArray(3 * 7, 8, 2);
    const copy = await nn.loadModel(m.save());
    expect(copy.predict(x)).toEqual(m.predict(x));
    expect(copy.summary()).toBe(m.summary());
  });

  it('reads a [batch, ...] input through Flatten or Reshape as [batch, features], and a Reshape after a Dense as nothing', async () => {
    const flat = tfl.sequential({
      layers: [
        tfl.layers.flatten({ inputShape: [3, 4] }),
        tfl.layers.dense({ units: 6, activation: 'relu' }),
        tfl.layers.dense({ units: 2 }),
      ],
    });
    expect((await expectSameAsTfjs(flat, 12, [3, 4])).inputDim).toBe(12);
    const reshaped = tfl.sequential({
      layers: [
        tfl.layers.inputLayer({ inputShape: [2, 3, 2] }),
        tfl.layers.reshape({ targetShape: [12] }),
        tfl.layers.dense({ units: 3 }),
        tfl.layers.reshape({ targetShape: [3] }),
        tfl.layers.dense({ units: 2, activation: 'sigmoid' }),
      ],
    });
    await expectSameAsTfjs(reshaped, 12, [2, 3, 2]);
  });

  it('loads a functional model whose graph is a single chain', async () => {
    const input = tfl.input({ shape: [2, 3] });
    let h = tfl.layers.flatten().apply(input) as tfl.SymbolicTensor;
    h = tfl.layers.dense({ units: 8 }).apply(h) as tfl.SymbolicTensor;
    h = tfl.layers.batchNormalization().apply(h) as tfl.SymbolicTensor;
    h = tfl.layers.leakyReLU().apply(h) as tfl.SymbolicTensor;
    const output = tfl.layers.dense({ units: 3, activation: 'softmax' }).apply(h) as tfl.SymbolicTensor;
    const model = tfl.model({ inputs: input, outputs: output });
    randomizeBatchNorms(model);
    const m = await expectSameAsTfjs(model, 6, [2, 3]);
    expect(m.folded[0]).toEqual(['BatchNormalization']);
  });
});

describe('hostile TF.js models of the new kinds: INVALID_MODEL naming the layer, nothing allocated', () => {
  const witness = nn.sequential([{ inputDim: 3, units: 2, activation: 'tanh' }]);
  const bn = () => {
    const model = tfl.sequential({
      layers: [tfl.layers.dense({ inputShape: [3], units: 4, activation: 'relu' }), tfl.layers.batchNormalization()],
    });
    randomizeBatchNorms(model);
    return model;
  };

  it('weight data given as a list with a hole (a fuzzed case: the hole was read as a buffer)', async () => {
    const artifacts = await artifactsOf(bn());
    // eslint-disable-next-line no-sparse-arrays
    const holed = { ...artifacts, weightData: [artifacts.weightData as ArrayBuffer, ,] as ArrayBuffer[] };
    await expectRefused(nn, witness, () => nn.loadModel(holed), 'INVALID_MODEL', /weightData must be an ArrayBuffer, a list of them/);
  });

  it('a functional model that branches, merges, or has two outputs', async () => {
    const input = tfl.input({ shape: [4] });
    const a = tfl.layers.dense({ units: 3, name: 'left' }).apply(input) as tfl.SymbolicTensor;
    const b = tfl.layers.dense({ units: 3, name: 'right' }).apply(input) as tfl.SymbolicTensor;
    const sum = tfl.layers.add({ name: 'sum' }).apply([a, b]) as tfl.SymbolicTensor;
    const merged = await artifactsOf(tfl.model({ inputs: input, outputs: sum }));
    await expectRefused(nn, witness, () => nn.loadModel(merged), 'INVALID_MODEL', /sum merges 2 inputs/);
    const twoOutputs = await artifactsOf(tfl.model({ inputs: input, outputs: [a, b] }));
    await expectRefused(nn, witness, () => nn.loadModel(twoOutputs), 'INVALID_MODEL', /output_layers must name exactly one layer/);
    // A branch whose other end is dropped from the outputs: the input feeds two layers.
    const topology = structuredClone((await artifactsOf(tfl.model({ inputs: input, outputs: sum }))).modelTopology) as any;
    topology.config.layers = topology.config.layers.filter((l: any) => l.name !== 'sum');
    topology.config.output_layers = [['left', 0, 0]];
    const branching = { ...merged, modelTopology: topology };
    await expectRefused(nn, witness, () => nn.loadModel(branching), 'INVALID_MODEL', /branches to left, right/);
  });

  it('BatchNormalization with a negative variance, a NaN epsilon, a weight of the wrong shape, another axis', async () => {
    const model = bn();
    const artifacts = await artifactsOf(model);
    const specs = artifacts.weightSpecs!;
    const data = new Float32Array((artifacts.weightData as ArrayBuffer).slice(0));
    const offset = (name: string) => {
      const at = specs.findIndex((w) => w.name.endsWith(name));
      return specs.slice(0, at).reduce((n, w) => n + w.shape.reduce((a, b) => a * b, 1), 0);
    };
    data[offset('moving_variance') + 2] = -0.5;
    const negative = { ...artifacts, weightData: data.buffer };
    await expectRefused(nn, witness, () => nn.loadModel(negative), 'INVALID_MODEL', /batch_normalization\w*: variance\[2\] is -0.5/);
    const nanEpsilon = await changedArtifacts(model, 'BatchNormalization', (l) => (l.config.epsilon = NaN));
    await expectRefused(nn, witness, () => nn.loadModel(nanEpsilon), 'INVALID_MODEL', /epsilon must be a finite number/);
    const reshapedSpecs = specs.map((w) => (w.name.endsWith('gamma') ? { ...w, shape: [2, 2] } : w));
    const wrongShape = { ...artifacts, weightSpecs: reshapedSpecs };
    await expectRefused(nn, witness, () => nn.loadModel(wrongShape), 'INVALID_MODEL', /gamma has shape \[2, 2\], expected \[4\]/);
    const otherAxis = await changedArtifacts(model, 'BatchNormalization', (l) => (l.config.axis = 0));
    await expectRefused(nn, witness, () => nn.loadModel(otherAxis), 'INVALID_MODEL', /only the feature \(last\) axis/);
  });

  it("a Reshape that does not flatten, a Flatten of a Dense's 3-D output, a normalization before any Dense", async () => {
    const reshape = tfl.sequential({
      layers: [tfl.layers.reshape({ inputShape: [12], targetShape: [3, 4] }), tfl.layers.dense({ units: 2 })],
    });
    const notFlat = await artifactsOf(reshape);
    await expectRefused(nn, witness, () => nn.loadModel(notFlat), 'INVALID_MODEL', /: a reshape to \[3,4\] is not to \[batch, 12\]/);
    const deep = tfl.sequential({
      layers: [tfl.layers.dense({ inputShape: [2, 3], units: 4 }), tfl.layers.flatten(), tfl.layers.dense({ units: 2 })],
    });
    const flattenAfter = await artifactsOf(deep);
    await expectRefused(
      nn,
      witness,
      () => nn.loadModel(flattenAfter),
      'INVALID_MODEL',
      /flatten\w* reshapes \[batch, 2, 4\] after a Dense layer/,
    );
    const first = tfl.sequential({ layers: [tfl.layers.batchNormalization({ inputShape: [3] }), tfl.layers.dense({ units: 2 })] });
    const normFirst = await artifactsOf(first);
    await expectRefused(nn, witness, () => nn.loadModel(normFirst), 'INVALID_MODEL', /must follow a Dense layer/);
  });
});

/** np.round: halves to even. */
const roundHalfEven = (v: number) => {
  const r = Math.round(v);
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
};

/**
 * `values` quantized to uint8 as tensorflowjs_converter's `quantize_weights` does it, in float64: the
 * range nudged (when it spans 0) to min = −zero·scale for an integer zero point; scale 1 for a constant tensor.
 */
function converterUint8(values: Float32Array): { levels: Uint8Array; scale: number; min: number } {
  const [lo, hi] = [Math.min(...values), Math.max(...values)];
  if (lo === hi) return { levels: new Uint8Array(values.length), scale: 1, min: lo };
  const scale = (hi - lo) / 255;
  const min = lo <= 0 && 0 <= hi ? -roundHalfEven((0 - lo) / scale) * scale : lo;
  const max = 255 * scale + min;
  return { levels: Uint8Array.from(values, (v) => roundHalfEven((Math.min(max, Math.max(min, v)) - min) / scale)), scale, min };
}

/** The model's artifacts with every kernel quantized to uint8 as the converter does, and each kernel's quantization. */
async function uint8Artifacts(model: tfl.LayersModel) {
  const { modelTopology, weightSpecs, weightData } = await artifactsOf(model);
  let at = 0;
  const parts = weightSpecs!.map((spec) => {
    const count = spec.shape.reduce((a, b) => a * b, 1);
    const values = new Float32Array((weightData as ArrayBuffer).slice(at * 4, (at += count) * 4));
    if (!spec.name.endsWith('kernel')) return { spec, bytes: new Uint8Array(values.buffer) };
    const { levels, scale, min } = converterUint8(values);
    return { spec: { ...spec, quantization: { dtype: 'uint8' as const, scale, min } }, bytes: levels, quantized: { levels, scale, min } };
  });
  const artifacts: TfjsArtifacts = {
    modelTopology,
    weightSpecs: parts.map((p) => p.spec),
    weightData: Uint8Array.from(parts.flatMap((p) => Array.from(p.bytes))),
  };
  return { artifacts, kernels: parts.flatMap((p) => (p.quantized ? [p.quantized] : [])) };
}

describe("TF.js uint8 weights with quantize: 'int8'", () => {
  const [inputs, hidden, outputs] = [24, 10, 3];
  const model = tfl.sequential({
    layers: [tfl.layers.dense({ inputShape: [inputs], units: hidden, activation: 'relu' }), tfl.layers.dense({ units: outputs })],
  });
  // Layer 0 spans [−0.5, 1]: zero point 85, so unit 3, which holds the 1 (level 255, 170 above the zero point),
  // cannot keep its integers. Layer 1's weights are all positive: the converter does not nudge its min, and no
  // integer zero point exists.
  const kernel0 = randomArray(inputs * hidden, 50, 0.5);
  kernel0[5 * hidden + 3] = 1;
  kernel0[7 * hidden + 1] = -0.5;
  model.layers[0]!.setWeights([tf.tensor2d(kernel0, [inputs, hidden]), tf.tensor1d(randomArray(hidden, 51, 0.2))]);
  const kernel1 = Float32Array.from(randomArray(hidden * outputs, 52), (v) => Math.abs(v) + 0.1);
  model.layers[1]!.setWeights([tf.tensor2d(kernel1, [hidden, outputs]), tf.tensor1d(randomArray(outputs, 53, 0.2))]);

  it("keeps the integers of each unit that fits int8 with TF.js' scale, re-quantizes the others, within the int8 bound", async () => {
    const { artifacts, kernels } = await uint8Artifacts(model);
    const theirs = await tfl.loadLayersModel(tf.io.fromMemory(artifacts as tf.io.ModelArtifacts));
    const m = await nn.loadModel(artifacts, { quantize: 'int8' });
    expect(m.layers.map((l) => l.quantization)).toEqual(['int8', 'int8']);
    const kept = m.layers.map((layer, l) => {
      const [k, n] = [layer.inputDim, layer.units];
      const { levels, scale, min } = kernels[l]!;
      const zero = Math.round(-min / scale);
      const dequantized = theirs.layers[l]!.getWeights()[0]!.dataSync() as Float32Array;
      const { codes, scales } = layer.getQuantizedWeights();
      const [weights] = layer.getWeights();
      const requantized = quantizeWeights(dequantized, k, n, false);
      const column = (a: ArrayLike<number>, o: number) => Array.from({ length: k }, (_, i) => a[i * n + o]!);
      const keptUnits: number[] = [];
      for (let o = 0; o < n; o++) {
        const integers = column(levels, o).map((q) => q - zero);
        if (-zero * scale === min && integers.every((c) => Math.abs(c) <= 127)) {
          keptUnits.push(o);
          expect(column(codes, o)).toEqual(integers);
          expect(scales[o]).toBe(Math.fround(scale));
          // The scale is a float64 in the file, a float32 here: code·scale is TF.js' value or its float32 neighbour.
          for (let i = 0; i < k; i++) expect(ulpDistance(weights![i * n + o]!, dequantized[i * n + o]!)).toBeLessThanOrEqual(1);
        } else {
          expect(column(codes, o)).toEqual(column(requantized.codes, o));
          expect(scales[o]).toBe(requantized.scales[o]);
        }
      }
      return keptUnits;
    });
    expect(kept).toEqual([[0, 1, 2, 4, 5, 6, 7, 8, 9], []]);
    // The first layer against TF.js' own, within docs/int8.md's bound.
    const batch = 8;
    const x = randomArray(batch * inputs, 54, 2);
    const y = m.layers[0]!.apply(x, batch);
    const expected = (theirs.layers[0]!.apply(tf.tensor2d(x, [batch, inputs])) as tf.Tensor).dataSync() as Float32Array;
    const [w, b] = theirs.layers[0]!.getWeights().map((t) => t.dataSync() as Float32Array);
    const { scales } = m.layers[0]!.getQuantizedWeights();
    for (let r = 0; r < batch; r++) {
      const row = x.subarray(r * inputs, (r + 1) * inputs);
      const step = Math.max(0, ...row) / 127 - Math.min(0, ...row) / 127;
      for (let o = 0; o < hidden; o++) {
        let [sumX, sumW, magnitude] = [0, 0, Math.abs(b![o]!)];
        for (let i = 0; i < inputs; i++) {
          const wi = w![i * hidden + o]!;
          [sumX, sumW, magnitude] = [sumX + Math.abs(row[i]!), sumW + Math.abs(wi), magnitude + Math.abs(row[i]! * wi)];
        }
        const s = scales[o]!;
        const bound = (s / 2) * sumX + (step / 2) * sumW + (inputs * step * s) / 4 + 2 ** -20 * magnitude;
        expect(Math.abs(y[r * hidden + o]! - expected[r * hidden + o]!), `row ${r}, unit ${o}`).toBeLessThanOrEqual(bound);
      }
    }
    m.dispose();
  });

  it('refuses a quantization scale of 0, below 0 or NaN (INVALID_MODEL), changing nothing', async () => {
    const witness = nn.sequential([{ inputDim: 3, units: 2, activation: 'tanh' }]);
    const { artifacts } = await uint8Artifacts(model);
    for (const scale of [0, -0.01, NaN]) {
      const weightSpecs = artifacts.weightSpecs!.map((s) => (s.quantization ? { ...s, quantization: { ...s.quantization, scale } } : s));
      await expectRefused(nn, witness, () => nn.loadModel({ ...artifacts, weightSpecs }, { quantize: 'int8' }), 'INVALID_MODEL', /scale/);
    }
    witness.dispose();
  });
});
