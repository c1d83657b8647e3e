import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { describe, expect, it } from 'vitest';
import { type TfjsArtifacts, init } from '../ts/index.js';
import { randomArray } from './helpers.js';

const nn = await init();
await tf.setBackend('cpu');

/** What TF.js hands a save handler, passed to loadModel as it is (its type is accepted as such). */
async function artifactsOf(model: tfl.LayersModel): Promise<tf.io.ModelArtifacts> {
  let saved: tf.io.ModelArtifacts | undefined;
  await model.save(tf.io.withSaveHandler(async (a) => {
    saved = a;
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
  }));
  return saved!;
}

/** simdnet's predictions against TF.js's own on the same rows (TF.js's CPU backend, float32). */
async function expectSameAsTfjs(model: tfl.LayersModel, inputDim: number) {
  const x = randomArray(6 * inputDim, inputDim, 2);
  const expected = (model.predict(tf.tensor2d(x, [6, inputDim])) as tf.Tensor).dataSync() as Float32Array;
  const m = await nn.loadModel(await artifactsOf(model));
  const y = m.predict(x);
  expect(y).toHaveLength(expected.length);
  y.forEach((v, i) => expect(Math.abs(v - expected[i]!)).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(expected[i]!))));
  return m;
}

describe('TF.js Layers import, checked against TF.js', () => {
  it('Dense layers with activations, and Activation, LeakyReLU, ELU, ReLU, Softmax, Dropout layers', async () => {
    const model = tfl.sequential({ layers: [
      tfl.layers.dense({ inputShape: [5], units: 8, activation: 'relu' }),
      tfl.layers.dense({ units: 7 }), tfl.layers.leakyReLU({ alpha: 0.3 }),
      tfl.layers.dropout({ rate: 0.5 }),
      tfl.layers.dense({ units: 6 }), tfl.layers.elu(),
      tfl.layers.dense({ units: 6 }), tfl.layers.reLU({ maxValue: 0.5 }),
      tfl.layers.dense({ units: 5 }), tfl.layers.activation({ activation: 'tanh' }),
      tfl.layers.dense({ units: 4, activation: 'hardSigmoid' }),
      tfl.layers.dense({ units: 3, useBias: false }), tfl.layers.softmax(),
    ] });
    const m = await expectSameAsTfjs(model, 5);
    expect(m.layers.map((l) => l.activation.name)).toEqual(['relu', 'leaky_relu', 'elu', 'relu', 'tanh', 'hard_sigmoid', 'softmax']);
  });

  it('PReLU layers, with a slope per unit or one shared, saved and loaded back', async () => {
    const model = tfl.sequential({ layers: [
      tfl.layers.dense({ inputShape: [5], units: 9 }), tfl.layers.prelu(),
      tfl.layers.dense({ units: 4 }), tfl.layers.prelu({ sharedAxes: [1] }),
      tfl.layers.dense({ units: 2, activation: 'sigmoid' }),
    ] });
    model.layers[1]!.setWeights([tf.tensor1d(randomArray(9, 3, 1))]);
    model.layers[3]!.setWeights([tf.tensor1d([0.4])]);
    const m = await expectSameAsTfjs(model, 5);
    expect(m.layers.map((l) => l.activation.name)).toEqual(['prelu', 'prelu', 'sigmoid']);
    const x = randomArray(3 * 5, 4, 2);
    expect((await nn.loadModel(m.save())).predict(x)).toEqual(m.predict(x));
  });

  it('an InputLayer with batch_input_shape, sigmoid/selu/softplus, and weights looked up by name', async () => {
    const input = tfl.layers.inputLayer({ inputShape: [4] });
    const model = tfl.sequential({ layers: [input, tfl.layers.dense({ units: 6, activation: 'selu' }), tfl.layers.dense({ units: 3, activation: 'softplus' }), tfl.layers.dense({ units: 2, activation: 'sigmoid' })] });
    const artifacts = await artifactsOf(model);
    // The same weights in another order, with each group's specs and data permuted together.
    const specs = artifacts.weightSpecs!;
    const data = new Uint8Array(artifacts.weightData as ArrayBuffer);
    let at = 0;
    const parts = specs.map((s) => {
      const n = s.shape.reduce((a, b) => a * b, 1) * 4;
      const part = { spec: s, bytes: data.slice(at, at + n) };
      at += n;
      return part;
    }).reverse();
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
    writeFileSync(join(dir, 'model.json'), JSON.stringify({
      modelTopology,
      weightsManifest: [{ paths: ['group1-shard1of1.bin'], weights: [
        { ...weightSpecs![0], quantization: { dtype: 'uint8', scale, min: -1 } },
        { ...weightSpecs![1], quantization: { dtype: 'float16' } },
      ] }],
    }));
    const m = await nn.loadModel(join(dir, 'model.json'));
    const [k, b] = m.getWeights();
    k!.forEach((v, i) => expect(v).toBeCloseTo(q[i]! * scale - 1, 6));
    expect(Array.from(b!)).toEqual([1, -0.5]);
  });

  it('names what it does not support', async () => {
    const conv = tfl.sequential({ layers: [tfl.layers.dense({ inputShape: [4], units: 4 }), tfl.layers.batchNormalization()] });
    await expect(nn.loadModel(await artifactsOf(conv))).rejects.toThrow(/BatchNormalization/);
    const twice = tfl.sequential({ layers: [tfl.layers.dense({ inputShape: [4], units: 4, activation: 'relu' }), tfl.layers.activation({ activation: 'tanh' })] });
    await expect(nn.loadModel(await artifactsOf(twice))).rejects.toMatchObject({ code: 'INVALID_MODEL' });
  });
});
