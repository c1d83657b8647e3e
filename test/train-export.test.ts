import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { describe, expect, it } from 'vitest';
import { type ActivationSpec, type Sequential, SimdnetError, init } from '../ts/index.js';
import { randomArray } from './helpers.js';
import { expectNear, layersOf, loadTfjsExport } from './train-helpers.js';

const nn = await init();
await tf.setBackend('cpu');

/** simdnet's and TF.js' predictions of the exported model, for 9 random rows. */
async function bothPredictions(model: Sequential) {
  const x = randomArray(9 * model.inputDim, 4, 2);
  const { modelJson, weightsBin } = model.toTfjs();
  const theirs = (await loadTfjsExport(modelJson, weightsBin)).predict(tf.tensor2d(x, [9, model.inputDim])) as tf.Tensor;
  return { ours: model.predict(x), theirs: theirs.dataSync() };
}

describe('model.toTfjs(): TF.js Layers files', () => {
  // Each activation TF.js Layers computes, as a Dense activation or (leaky_relu, prelu) a layer after a linear Dense.
  const activations: ActivationSpec[] = [
    'relu',
    'tanh',
    'sigmoid',
    'elu',
    'selu',
    'relu6',
    'softplus',
    'softsign',
    'mish',
    'silu',
    'gelu',
    { name: 'hard_sigmoid', preset: 'tfjs' },
    { name: 'leaky_relu', negativeSlope: 0.1 },
    { name: 'prelu', slope: [0.1, 0.2, 0.3, 0.4, 0.5] },
    'linear',
    'softmax',
  ];

  const named = activations.map((a) => [typeof a === 'string' ? a : JSON.stringify(a), a] as const);
  it.each(named)('%s: tf.loadLayersModel predicts the same', async (_, act) => {
    const layers = layersOf([3, 5, 5, 2], [act, 'tanh', 'linear'], 7);
    const model = nn.sequential(layers.map((l) => l.spec));
    const { ours, theirs } = await bothPredictions(model);
    expectNear(theirs, ours, 1e-5, 1e-6);
    model.dispose();
  });

  it('writes the weights as little-endian float32 in manifest order, and names the weights file', () => {
    const model = nn.sequential([
      { inputDim: 2, units: 3, activation: { name: 'prelu', slope: 0.25 } },
      { units: 1, activation: 'sigmoid' },
    ]);
    const { modelJson, weightsBin } = model.toTfjs('w.bin');
    expect(modelJson.weightsManifest[0]!.paths).toEqual(['w.bin']);
    expect(modelJson.weightsManifest[0]!.weights.map((w) => `${w.name} [${w.shape.join(',')}]`)).toEqual([
      'dense/kernel [2,3]',
      'dense/bias [3]',
      'p_re_lu/alpha [3]',
      'dense_1/kernel [3,1]',
      'dense_1/bias [1]',
    ]);
    const [k0, b0, k1, b1] = model.getWeights();
    const view = new DataView(weightsBin.buffer);
    const floats = Array.from({ length: weightsBin.byteLength / 4 }, (_, i) => view.getFloat32(4 * i, true));
    expect(floats).toEqual([...k0!, ...b0!, 0.25, 0.25, 0.25, ...k1!, ...b1!]);
    model.dispose();
  });

  it.each([
    ['sparsemax', 'sparsemax'],
    ['elu with alpha 0.5', { name: 'elu', alpha: 0.5 }],
    ['hard_sigmoid of Keras 3', 'hard_sigmoid'],
    ['relu with maxValue', { name: 'relu', maxValue: 2 }],
    ['gelu_tanh (TF.js cannot read its own name for it back)', { name: 'gelu', approximate: true }],
  ] as [string, ActivationSpec][])('%s has no TF.js form: INVALID_ARGUMENT, nothing allocated', (_, act) => {
    const model = nn.sequential([
      { inputDim: 2, units: 3, activation: 'relu' },
      { units: 3, activation: act },
    ]);
    const bytes = nn.allocatedBytes;
    let error: unknown;
    try {
      model.toTfjs();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SimdnetError);
    expect((error as SimdnetError).code).toBe('INVALID_ARGUMENT');
    expect((error as Error).message).toMatch(/layer 1: TF.js Layers has no activation/);
    expect(nn.allocatedBytes).toBe(bytes);
    model.dispose();
  });

  it('a disposed model: DISPOSED; a weights path that is not a string: INVALID_ARGUMENT', () => {
    const model = nn.sequential([{ inputDim: 2, units: 1 }]);
    const bytes = nn.allocatedBytes;
    expect(() => model.toTfjs(3 as never)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(nn.allocatedBytes).toBe(bytes);
    model.dispose();
    expect(() => model.toTfjs()).toThrow(expect.objectContaining({ code: 'DISPOSED', name: 'SimdnetError' }));
  });
});
