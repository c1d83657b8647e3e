import { describe, expect, it } from 'vitest';
import type { ActivationSpec, LossSpec, Simdnet } from '../ts/index.js';
import { preluSlopes } from '../ts/activations.js';
import { type ReferenceLoss, gradients } from '../ts/reference.js';
import { instances, randomArray } from './helpers.js';
import { buildModel, expectNear, layersOf, oneHot } from './train-helpers.js';

const builds = await instances();

/** Every activation a dense layer can train through (all but glu, which halves the width). */
const ACTIVATIONS: ActivationSpec[] = [
  'linear',
  'relu',
  'leaky_relu',
  'relu6',
  'elu',
  'selu',
  'celu',
  'exponential',
  'sigmoid',
  'tanh',
  'hard_sigmoid',
  'hard_silu',
  'hard_tanh',
  'hard_shrink',
  'soft_shrink',
  'log_sigmoid',
  'mish',
  'silu',
  'softplus',
  'softsign',
  'sparse_plus',
  'sparse_sigmoid',
  'squareplus',
  'tanh_shrink',
  'threshold',
  'thresholded_relu',
  'gelu',
  { name: 'gelu', approximate: true },
  { name: 'relu', negativeSlope: 0.1, maxValue: 2, threshold: 0.1 },
  'softmax',
  'log_softmax',
  'softmin',
  'sparsemax',
  { name: 'prelu', slope: 0.25 },
];

/** Losses with an output layer and targets each suits: [loss for compile, reference loss, output activation, sparse]. */
const LOSSES: [LossSpec, ReferenceLoss, ActivationSpec, boolean][] = [
  ['mse', { name: 'mean_squared_error' }, 'linear', false],
  ['mae', { name: 'mean_absolute_error' }, 'tanh', false],
  [{ name: 'huber', delta: 0.3 }, { name: 'huber', delta: 0.3 }, 'linear', false],
  ['binary_crossentropy', { name: 'binary_crossentropy' }, 'sigmoid', false],
  ['binaryCrossentropy', { name: 'binary_crossentropy' }, 'hard_sigmoid', false],
  [{ name: 'binary_crossentropy', fromLogits: true }, { name: 'binary_crossentropy', fromLogits: true }, 'linear', false],
  ['categorical_crossentropy', { name: 'categorical_crossentropy' }, 'softmax', false],
  // Not a softmax: Keras normalizes each row by its sum.
  ['categorical_crossentropy', { name: 'categorical_crossentropy' }, 'sigmoid', false],
  ['categorical_crossentropy', { name: 'categorical_crossentropy' }, 'softplus', false],
  [{ name: 'categoricalCrossentropy', fromLogits: true }, { name: 'categorical_crossentropy', fromLogits: true }, 'linear', false],
  ['sparse_categorical_crossentropy', { name: 'categorical_crossentropy' }, 'softmax', true],
];

const name = (a: ActivationSpec | LossSpec) => (typeof a === 'string' ? a : JSON.stringify(a));

/** Targets for a loss: class ids (and their one-hot rows), probabilities in (0, 1), or values. */
function targetsFor(loss: ReferenceLoss, sparse: boolean, batch: number, units: number, seed: number) {
  if (sparse || loss.name === 'categorical_crossentropy') {
    const labels = Int32Array.from(randomArray(batch, seed), (v) => Math.floor(((v + 1) / 2) * units) % units);
    return { y: sparse ? labels : oneHot(labels, units), dense: oneHot(labels, units) };
  }
  const values = randomArray(batch * units, seed);
  const y = loss.name === 'binary_crossentropy' ? values.map((v) => Math.round((v + 1) / 2)) : values;
  return { y, dense: y };
}

/**
 * Tolerance of a kernel gradient against the double reference: float32 sums over the batch and the
 * layer widths (each term's rounding ~2^-24 relative) and the activations' few-ulp approximations,
 * amplified through the layers: 2e-4 of the largest gradient of the variable, plus 1e-6.
 */
const [RELATIVE, ABSOLUTE] = [2e-4, 1e-6];

function checkGradients(
  nn: Simdnet,
  widths: number[],
  activations: ActivationSpec[],
  loss: LossSpec,
  ref: ReferenceLoss,
  sparse: boolean,
  seed: number,
) {
  const layers = layersOf(widths, activations, seed);
  const batch = widths[0] === 1 ? 3 : 5;
  const [inputDim, units] = [widths[0]!, widths.at(-1)!];
  const x = randomArray(batch * inputDim, seed + 7, 1.5);
  const { y, dense } = targetsFor(ref, sparse, batch, units, seed + 8);
  const model = buildModel(nn, layers);
  model.compile({ optimizer: 'sgd', loss });
  const actual = model.trainer.gradients(x, y);
  const expected = gradients(
    layers.map((l) => l.reference),
    x,
    dense,
    batch,
    ref,
  );
  expect(actual).toHaveLength(expected.gradients.length);
  actual.forEach((g, i) => expectNear(g, expected.gradients[i]!, RELATIVE, ABSOLUTE, `variable ${i}`));
  // The loss is a float32 mean of float32 terms: within 1e-5 relative.
  expect(Math.abs(model.evaluate(x, y).loss - expected.loss)).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(expected.loss)));
  model.dispose();
}

describe.each(builds)('training gradients, %s build', (_, nn) => {
  it.each(ACTIVATIONS.map((a) => [name(a), a] as const))('through a hidden %s layer, odd shapes', (_, activation) => {
    for (const widths of [
      [1, 3, 1],
      [3, 5, 2],
      [5, 17, 3],
      [17, 33, 5],
      [33, 1, 17],
    ]) {
      checkGradients(nn, widths, [activation, 'linear'], 'mse', { name: 'mean_squared_error' }, false, widths[1]!);
    }
  });

  it.each(LOSSES.map((l) => [`${name(l[0])} over ${name(l[2])}`, ...l] as const))('loss %s', (_, loss, ref, output, sparse) => {
    for (const widths of [
      [3, 5, 1],
      [5, 4, 3],
      [17, 9, 10],
    ]) {
      if (widths.at(-1) === 1 && ref.name === 'categorical_crossentropy') continue;
      checkGradients(nn, widths, ['tanh', output], loss, ref, sparse, widths[0]! * 3);
    }
  });

  it('three layers, batch 1 and batch 33', () => {
    for (const batchWidth of [1, 33]) {
      checkGradients(
        nn,
        [batchWidth, 9, 7, 4],
        ['relu', 'sigmoid', 'softmax'],
        'categorical_crossentropy',
        { name: 'categorical_crossentropy' },
        false,
        5,
      );
    }
  });

  it('matches central finite differences of its own loss (float32: h = 1e-2, tolerance 2e-3)', () => {
    const layers = layersOf([4, 6, 3], ['tanh', 'softmax'], 3);
    const model = buildModel(nn, layers);
    model.compile({ optimizer: 'sgd', loss: 'sparse_categorical_crossentropy' });
    const x = randomArray(8 * 4, 1);
    const y = new Int32Array([0, 1, 2, 0, 1, 2, 2, 1]);
    const [kernel] = model.trainer.gradients(x, y);
    const weights = model.getWeights();
    for (const at of [0, 5, 11, 23]) {
      const lossAt = (h: number) => {
        const shifted = weights.map((w) => w.slice());
        shifted[0]![at]! += h;
        model.setWeights(shifted);
        return model.evaluate(x, y, { batchSize: 8 }).loss;
      };
      const h = 1e-2;
      expect(Math.abs((lossAt(h) - lossAt(-h)) / (2 * h) - kernel![at]!)).toBeLessThan(2e-3);
    }
    model.dispose();
  });
});

describe('the reference gradients', () => {
  /**
   * Central differences in double, h = 2^-20 ≈ 1e-6: truncation O(h²) and rounding O(1e-16/h) stay
   * below 1e-7; a power of two, so that a step of prelu's slopes (float32 in the activation) is exact.
   */
  it.each([
    ...ACTIVATIONS.map((a) => [name(a), a, LOSSES[0]!] as const),
    ...LOSSES.map((l) => [name(l[0]), 'tanh' as ActivationSpec, l] as const),
  ])('match finite differences: %s', (_, activation, [, ref, output]) => {
    const layers = layersOf([3, 4, 3], [activation, output], 11).map((l) => l.reference);
    const x = randomArray(5 * 3, 2, 1.5);
    const { dense } = targetsFor(ref, false, 5, 3, 4);
    const { gradients: analytic } = gradients(layers, x, dense, 5, ref);
    const h = 2 ** -20;
    // Each layer's variables, in the order of `gradients`: kernel, bias, and prelu's slopes (one per unit).
    const variables = layers.flatMap((layer, l) => {
      const slopes = layer.activation === 'prelu' ? [preluSlopes(layer.activationOptions!.slope, layer.units)] : [];
      return [layer.kernel, layer.bias!, ...slopes].map((values, v) => ({ l, v, values }));
    });
    expect(analytic).toHaveLength(variables.length);
    variables.forEach(({ l, v, values }, index) => {
      for (let i = 0; i < values.length; i++) {
        const at = (d: number) => {
          const copy = Float64Array.from(values);
          copy[i]! += d;
          const changed = [{ kernel: copy }, { bias: copy }, { activationOptions: { slope: Array.from(copy) } }][v];
          return gradients(
            layers.map((other, j) => (j === l ? { ...other, ...changed } : other)),
            x,
            dense,
            5,
            ref,
          ).loss;
        };
        const numeric = (at(h) - at(-h)) / (2 * h);
        expect(Math.abs(numeric - analytic[index]![i]!), `layer ${l} variable ${v}[${i}]`).toBeLessThan(1e-6);
      }
    });
  });
});
