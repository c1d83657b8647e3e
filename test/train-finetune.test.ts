import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { describe, expect, it } from 'vitest';
import { type Sequential, type Targets, init } from '../ts/index.js';
import { randomArray } from './helpers.js';
import { model as onnxModel } from './onnx-model.js';
import { expectNear, loadTfjsExport } from './train-helpers.js';

const nn = await init();
await tf.setBackend('cpu');

/** 256 samples of 4 features; class 1 where x0·x1 + x2 > 0 (not linearly separable). */
const x = randomArray(256 * 4, 21, 1);
const classes = Int32Array.from({ length: 256 }, (_, i) => Number(x[4 * i]! * x[4 * i + 1]! + x[4 * i + 2]! > 0));

/** Fits `model` for 5 epochs; its loss must fall, and save() must round-trip the fine-tuned model. */
async function fineTune(model: Sequential, y: Targets) {
  const before = model.evaluate(x, y).loss;
  const history = await model.fit(x, y, { epochs: 5, batchSize: 16, seed: 2, verbose: 0 });
  const losses = history.history.loss!;
  expect(losses[4]).toBeLessThan(losses[0]!);
  expect(model.evaluate(x, y).loss).toBeLessThan(before * 0.9);
  const copy = await nn.loadModel(model.save());
  expect(copy.getWeights()).toEqual(model.getWeights());
  expect(copy.predict(x)).toEqual(model.predict(x));
  copy.dispose();
}

describe('fine-tuning imported models', () => {
  it('a TF.js Layers model (Dense, relu, PReLU, sigmoid): fit lowers the loss, the slopes learn, save() and toTfjs() round-trip', async () => {
    const theirs = tfl.sequential({
      layers: [
        tfl.layers.dense({ inputShape: [4], units: 16, activation: 'relu' }),
        tfl.layers.dense({ units: 8 }),
        tfl.layers.prelu({ alphaInitializer: tfl.initializers.constant({ value: 0.2 }) }),
        tfl.layers.dense({ units: 1, activation: 'sigmoid' }),
      ],
    });
    let artifacts: tf.io.ModelArtifacts | undefined;
    await theirs.save(
      tf.io.withSaveHandler(async (a) => {
        artifacts = a;
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }),
    );
    const model = await nn.loadModel(artifacts!);
    model.compile({ optimizer: { name: 'adam', learningRate: 0.01 }, loss: 'binary_crossentropy', metrics: ['accuracy'] });
    await fineTune(model, Float32Array.from(classes));
    expect(Array.from(model.layers[1]!.slopes()).some((s) => Math.abs(s - 0.2) > 1e-4)).toBe(true);
    // Back to TF.js: the fine-tuned model, slopes included, predicts the same there.
    const { modelJson, weightsBin } = model.toTfjs();
    const back = await loadTfjsExport(modelJson, weightsBin);
    expectNear((back.predict(tf.tensor2d(x, [256, 4])) as tf.Tensor).dataSync(), model.predict(x), 1e-5, 1e-6);
    model.dispose();
  });

  it('an ONNX model (Gemm transB, Relu, Gemm, Softmax): fit with sparse labels lowers the loss, save() round-trips', async () => {
    const bytes = onnxModel(
      [
        { op: 'Gemm', inputs: ['W0', 'B0'], attributes: { transB: 1 } },
        { op: 'Relu', inputs: [] },
        { op: 'Gemm', inputs: ['W1', 'B1'] },
        { op: 'Softmax', inputs: [] },
      ],
      {
        W0: [[12, 4], randomArray(48, 1, 0.6)],
        B0: [[12], randomArray(12, 2, 0.1)],
        W1: [[12, 2], randomArray(24, 3, 0.6)],
        B1: [[2], new Float32Array(2)],
      },
    );
    const model = await nn.loadModel(bytes);
    model.compile({ optimizer: { name: 'adam', learningRate: 0.01 }, loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });
    await fineTune(model, classes);
    model.dispose();
  });
});
