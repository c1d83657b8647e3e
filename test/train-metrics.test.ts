import { describe, expect, it } from 'vitest';
import { metrics } from '../ts/index.js';
import { classificationScores, rocAuc } from '../ts/reference.js';
import { randomArray } from './helpers.js';
import { oneHot } from './train-helpers.js';

/** Scores rounded to a grid of 8 values, so that ties occur. */
const coarse = (n: number, seed: number) => randomArray(n, seed).map((v) => Math.round((v + 1) * 4) / 8);

describe('metrics as plain functions, against the counting definitions of the reference', () => {
  it.each([1, 2, 3, 7])('precision, recall, f1 and accuracy over %i classes', (classes) => {
    for (const seed of [1, 2, 3]) {
      const n = 50;
      const labels = Int32Array.from(randomArray(n, seed), (v) => Math.floor(((v + 1) / 2) * Math.max(classes, 2)) % Math.max(classes, 2));
      const yTrue = classes === 1 ? Float32Array.from(labels) : oneHot(labels, classes);
      const yPred = randomArray(n * classes, seed + 10).map((v) => (v + 1) / 2);
      const expected = classificationScores(yTrue, yPred, classes);
      expect(metrics.precision(yTrue, yPred, classes)).toBeCloseTo(expected.precision, 12);
      expect(metrics.recall(yTrue, yPred, classes)).toBeCloseTo(expected.recall, 12);
      expect(metrics.f1(yTrue, yPred, classes)).toBeCloseTo(expected.f1, 12);
      const accuracy = classes === 1 ? metrics.binaryAccuracy(yTrue, yPred) : metrics.categoricalAccuracy(yTrue, yPred, classes);
      expect(accuracy).toBeCloseTo(expected.accuracy, 12);
      if (classes > 1) expect(metrics.sparseCategoricalAccuracy(labels, yPred, classes)).toBe(accuracy);
    }
  });

  it('auc is the pairwise probability, ties counted half', () => {
    for (const seed of [4, 5, 6]) {
      const yTrue = randomArray(80, seed).map((v) => Number(v > 0.2));
      const yPred = coarse(80, seed + 1);
      expect(metrics.auc(yTrue, yPred)).toBeCloseTo(rocAuc(yTrue, yPred), 12);
    }
    expect(metrics.auc([0, 0, 1, 1], [0.1, 0.2, 0.3, 0.4])).toBe(1);
  });

  it('mse, mae, rmse', () => {
    const [t, p] = [
      [0, 1, 2, 3],
      [1, 1, 0, 3],
    ];
    expect(metrics.meanSquaredError(t, p)).toBe(5 / 4);
    expect(metrics.meanAbsoluteError(t, p)).toBe(3 / 4);
    expect(metrics.rootMeanSquaredError(t, p)).toBe(Math.sqrt(5 / 4));
  });

  it('a ratio with nothing to count is 0', () => {
    expect(metrics.precision([1, 1], [0.1, 0.2])).toBe(0);
    expect(metrics.auc([1, 1], [0.1, 0.2])).toBe(0);
  });
});
