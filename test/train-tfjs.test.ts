import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { describe, expect, it } from 'vitest';
import { type LossSpec, type OptimizerSpec, init } from '../ts/index.js';
import { randomArray } from './helpers.js';
import { expectNear, layersOf, oneHot } from './train-helpers.js';

const nn = await init();
await tf.setBackend('cpu');

/**
 * TF.js places Adam's ε after the bias correction (ε_tfjs = ε_keras / √(1 − β2ᵗ), which changes
 * with t): with ε = 1e-10 on both sides the difference is below float32 rounding, so both run the
 * same update. Keras' own ε placement is tested against the reference (train-optimizers).
 */
const OPTIMIZERS: [OptimizerSpec, () => tf.Optimizer][] = [
  [{ name: 'sgd', learningRate: 0.1 }, () => tf.train.sgd(0.1)],
  [{ name: 'sgd', learningRate: 0.1, momentum: 0.9 }, () => tf.train.momentum(0.1, 0.9)],
  [{ name: 'adam', learningRate: 0.01, epsilon: 1e-10 }, () => tf.train.adam(0.01, 0.9, 0.999, 1e-10)],
  [{ name: 'rmsprop', learningRate: 0.01 }, () => tf.train.rmsprop(0.01, 0.9, 0, 1e-7)],
];

type TfLoss = string | ((yTrue: tf.Tensor, yPred: tf.Tensor) => tf.Tensor);
/** Each loss with an output activation and the TF.js loss it corresponds to. */
const LOSSES: [LossSpec, string, TfLoss, 'values' | 'binary' | 'onehot' | 'labels'][] = [
  ['mse', 'linear', 'meanSquaredError', 'values'],
  ['mae', 'linear', 'meanAbsoluteError', 'values'],
  [{ name: 'huber', delta: 0.5 }, 'linear', (t, p) => tf.losses.huberLoss(t, p, undefined, 0.5), 'values'],
  ['binary_crossentropy', 'sigmoid', 'binaryCrossentropy', 'binary'],
  ['categorical_crossentropy', 'softmax', 'categoricalCrossentropy', 'onehot'],
  ['categorical_crossentropy', 'sigmoid', 'categoricalCrossentropy', 'onehot'],
  ['sparse_categorical_crossentropy', 'softmax', 'sparseCategoricalCrossentropy', 'labels'],
];

const [N, INPUTS, HIDDEN, UNITS, BATCH] = [40, 5, 7, 3, 8];

function targets(kind: (typeof LOSSES)[number][3]) {
  const labels = Int32Array.from(randomArray(N, 9), (v) => Math.floor((v + 1) * 1.5) % UNITS);
  switch (kind) {
    case 'values':
      return { ours: randomArray(N * UNITS, 8), theirs: tf.tensor2d(randomArray(N * UNITS, 8), [N, UNITS]) };
    case 'binary': {
      const y = randomArray(N * UNITS, 8).map((v) => Number(v > 0));
      return { ours: y, theirs: tf.tensor2d(y, [N, UNITS]) };
    }
    case 'onehot': {
      const y = oneHot(labels, UNITS);
      return { ours: y, theirs: tf.tensor2d(y, [N, UNITS]) };
    }
    case 'labels':
      return { ours: labels, theirs: tf.tensor2d(Float32Array.from(labels), [N, 1]) };
  }
}

/**
 * One epoch (5 batches, no shuffling) in both from the same weights: the weights within 2e-5 of
 * the largest of each array (float32 in both, summed in different orders), the epoch loss within 1e-5.
 */
async function compare(optimizer: OptimizerSpec, tfOptimizer: tf.Optimizer, [loss, output, tfLoss, kind]: (typeof LOSSES)[number]) {
  const layers = layersOf([INPUTS, HIDDEN, UNITS], ['tanh', output as 'linear'], 21, 0.6);
  const model = nn.sequential(layers.map((l) => l.spec));
  model.compile({ optimizer, loss });
  const theirs = tfl.sequential({
    layers: [
      tfl.layers.dense({ inputShape: [INPUTS], units: HIDDEN, activation: 'tanh' }),
      tfl.layers.dense({ units: UNITS, activation: output as 'linear' }),
    ],
  });
  theirs.setWeights(layers.flatMap((l) => [tf.tensor2d(l.spec.kernel, [l.spec.inputDim, l.spec.units]), tf.tensor1d(l.spec.bias)]));
  theirs.compile({ optimizer: tfOptimizer, loss: tfLoss });
  const x = randomArray(N * INPUTS, 7, 1.5);
  const y = targets(kind);
  const ours = await model.fit(x, y.ours, { epochs: 1, batchSize: BATCH, shuffle: false, verbose: 0 });
  const history = await theirs.fit(tf.tensor2d(x, [N, INPUTS]), y.theirs, { epochs: 1, batchSize: BATCH, shuffle: false, verbose: 0 });
  const expectedLoss = history.history.loss![0] as number;
  expect(Math.abs(ours.history.loss![0]! - expectedLoss)).toBeLessThanOrEqual(1e-5 * Math.max(1, expectedLoss));
  const expected = theirs.getWeights().map((w) => w.dataSync() as Float32Array);
  model.getWeights().forEach((w, i) => expectNear(w, expected[i]!, 2e-5, 0, `variable ${i}`));
  model.dispose();
}

describe('one epoch against TF.js Layers 4.22 (CPU backend)', () => {
  it.each(OPTIMIZERS.map(([o, t]) => [JSON.stringify(o), o, t] as const))('optimizer %s, mse', async (_, optimizer, tfOptimizer) => {
    await compare(optimizer, tfOptimizer(), LOSSES[0]!);
  });

  it.each(LOSSES.map((l) => [`${JSON.stringify(l[0])} over ${l[1]}`, l] as const))('loss %s, sgd', async (_, loss) => {
    await compare(OPTIMIZERS[0]![0], OPTIMIZERS[0]![1](), loss);
  });

  it('adam with categorical cross-entropy', async () => {
    await compare(OPTIMIZERS[2]![0], OPTIMIZERS[2]![1](), LOSSES[4]!);
  });
});
