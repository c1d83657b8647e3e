import { describe, it } from 'vitest';
import type { OptimizerSpec } from '../ts/index.js';
import { gradients, optimizerStep, referenceOptimizer } from '../ts/reference.js';
import { instances, randomArray } from './helpers.js';
import { buildModel, expectNear, layersOf } from './train-helpers.js';

const builds = await instances();

const OPTIMIZERS: OptimizerSpec[] = [
  { name: 'sgd', learningRate: 0.1 },
  { name: 'sgd', learningRate: 0.1, momentum: 0.9 },
  { name: 'sgd', learningRate: 0.1, momentum: 0.9, nesterov: true },
  { name: 'sgd', learningRate: 0.1, weightDecay: 0.05 },
  { name: 'sgd', learningRate: 0.1, clipnorm: 0.05 },
  { name: 'sgd', learningRate: 0.1, momentum: 0.5, globalClipnorm: 0.05 },
  { name: 'sgd', learningRate: 0.1, clipvalue: 0.01 },
  'adam',
  { name: 'adam', learningRate: 0.01, beta1: 0.8, beta2: 0.99, epsilon: 1e-5 },
  { name: 'adam', learningRate: 0.01, amsgrad: true },
  'adamw',
  { name: 'adamw', learningRate: 0.01, weightDecay: 0.1, clipnorm: 0.02 },
  'rmsprop',
  { name: 'rmsprop', learningRate: 0.01, rho: 0.8, momentum: 0.5 },
  { name: 'rmsprop', learningRate: 0.01, centered: true },
  { name: 'rmsprop', learningRate: 0.01, centered: true, momentum: 0.9, epsilon: 1e-4 },
];

/**
 * Tolerance of the weights after 5 steps against the double reference: each step's float32 update
 * (gradient within ~1e-5 relative, the rule's few roundings) adds errors of order 1e-6 of the
 * weights; 2e-5 of the largest weight covers 5 steps.
 */
const RELATIVE = 2e-5;

describe.each(builds)('optimizers, %s build: 5 steps against the Keras rules in double', (_, nn) => {
  it.each(OPTIMIZERS.map((o) => [JSON.stringify(o), o] as const))('%s', (_, optimizer) => {
    const layers = layersOf([6, 9, 3], ['tanh', 'linear'], 4);
    const model = buildModel(nn, layers);
    model.compile({ optimizer, loss: 'mse' });
    const x = randomArray(10 * 6, 1, 1.5);
    const y = randomArray(10 * 3, 2);
    const reference = layers.map((l) => l.reference);
    const variables = reference.flatMap((l) => [Float64Array.from(l.kernel), Float64Array.from(l.bias!)]);
    const opt = referenceOptimizer(optimizer, variables);
    for (let step = 0; step < 5; step++) {
      model.trainOnBatch(x, y);
      const current = reference.map((l, i) => ({ ...l, kernel: variables[2 * i]!, bias: variables[2 * i + 1]! }));
      optimizerStep(opt, variables, gradients(current, x, y, 10, { name: 'mean_squared_error' }).gradients);
    }
    model.getWeights().forEach((w, i) => expectNear(w, variables[i]!, RELATIVE, 0, `variable ${i}`));
    model.dispose();
  });
});
