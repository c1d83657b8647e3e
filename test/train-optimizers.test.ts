import { describe, expect, it } from 'vitest';
import type { OptimizerSpec } from '../ts/index.js';
import { type DenseWeights, gradients, optimizerStep, referenceOptimizer } from '../ts/reference.js';
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

describe.each(builds)("prelu's slopes, %s build: learned as Keras' PReLU alpha", (_, nn) => {
  // 9 units: not a whole number of vectors (the kernel updates a padded copy of the slopes).
  it.each(OPTIMIZERS.map((o) => [JSON.stringify(o), o] as const))('5 steps of %s against the reference', (_, optimizer) => {
    const slope = Array.from({ length: 9 }, (_, i) => 0.05 * i - 0.1);
    const layers = layersOf([6, 9, 3], [{ name: 'prelu', slope }, 'linear'], 4);
    const model = buildModel(nn, layers);
    model.compile({ optimizer, loss: 'mse' });
    const x = randomArray(10 * 6, 1, 1.5);
    const y = randomArray(10 * 3, 2);
    const [hidden, output] = layers.map((l) => l.reference) as [DenseWeights, DenseWeights];
    const variables = [hidden.kernel, hidden.bias!, slope, output.kernel, output.bias!].map((v) => Float64Array.from(v));
    const opt = referenceOptimizer(optimizer, variables);
    for (let step = 0; step < 5; step++) {
      model.trainOnBatch(x, y);
      const [k0, b0, s0, k1, b1] = variables as [Float64Array, Float64Array, Float64Array, Float64Array, Float64Array];
      const current = [
        { ...hidden, kernel: k0, bias: b0, activationOptions: { slope: Array.from(s0) } },
        { ...output, kernel: k1, bias: b1 },
      ];
      optimizerStep(opt, variables, gradients(current, x, y, 10, { name: 'mean_squared_error' }).gradients);
    }
    const learned = model.layers[0]!.slopes();
    expect(Array.from(learned)).not.toEqual(Array.from(Float32Array.from(slope)));
    expectNear(learned, variables[2]!, RELATIVE, 0, 'slopes');
    const [k0, b0, k1, b1] = model.getWeights();
    [k0, b0, k1, b1].forEach((w, i) => expectNear(w!, variables[[0, 1, 3, 4][i]!]!, RELATIVE, 0, `variable ${i}`));
    // The learned slopes are what save() writes.
    expect(JSON.parse(model.save().json).layers[0].activation.slope).toEqual(Array.from(learned));
    model.dispose();
  });

  it("the kernel's slope gradient matches central finite differences of its own loss (float32: h = 1e-2, tolerance 2e-3)", () => {
    const slope = [0.3, -0.2, 0.1, 0.25, 0.05];
    const build = (s: number[]) => {
      const model = nn.sequential(layersOf([4, 5, 2], [{ name: 'prelu', slope: s }, 'linear'], 6).map((l) => l.spec));
      model.compile({ optimizer: 'sgd', loss: 'mse' });
      return model;
    };
    const [x, y] = [randomArray(8 * 4, 3, 2), randomArray(8 * 2, 5)];
    const model = build(slope);
    const analytic = model.trainer.gradients(x, y)[2]!;
    model.dispose();
    for (let at = 0; at < slope.length; at++) {
      const lossAt = (h: number) => {
        const shifted = build(slope.map((s, i) => (i === at ? s + h : s)));
        const loss = shifted.evaluate(x, y, { batchSize: 8 }).loss;
        shifted.dispose();
        return loss;
      };
      expect(Math.abs((lossAt(1e-2) - lossAt(-1e-2)) / 2e-2 - analytic[at]!), `slope ${at}`).toBeLessThan(2e-3);
    }
  });
});
