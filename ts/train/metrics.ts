/**
 * Metrics over Float32Arrays of targets and predictions (`n × classes`, row-major), as plain
 * functions (`import { metrics } from 'simdnet'`) and as `compile({ metrics })` computes them.
 * Binary metrics threshold predictions at 0.5; multi-class ones take each row's argmax, and
 * precision, recall and f1 average over the classes (macro). A ratio with a zero denominator is 0.
 */
import { fail } from '../errors.js';
import type { ResolvedLoss } from './losses.js';

type Values = ArrayLike<number>;

/** Logs of a batch or an epoch: the loss and each metric by the name it was compiled with. */
export interface Logs {
  loss: number;
  [name: string]: number;
}

const ratio = (a: number, b: number) => (b === 0 ? 0 : a / b);

function argmax(values: Values, row: number, classes: number): number {
  let best = 0;
  for (let c = 1; c < classes; c++) if (values[row * classes + c]! > values[row * classes + best]!) best = c;
  return best;
}

/** Each sample's class: argmax of its row, or for one column whether the value exceeds 0.5. */
function classesOf(values: Values, classes: number): Int32Array {
  const n = values.length / Math.max(classes, 1);
  return Int32Array.from({ length: n }, (_, r) => (classes === 1 ? Number(values[r]! > 0.5) : argmax(values, r, classes)));
}

/** Fraction of elements where prediction > threshold agrees with target > threshold (Keras' binary_accuracy). */
export function binaryAccuracy(yTrue: Values, yPred: Values, threshold = 0.5): number {
  let hits = 0;
  for (let i = 0; i < yPred.length; i++) hits += Number(yPred[i]! > threshold === yTrue[i]! > threshold);
  return ratio(hits, yPred.length);
}

/** Fraction of rows whose predicted argmax is the target's argmax. */
export function categoricalAccuracy(yTrue: Values, yPred: Values, classes: number): number {
  const [t, p] = [classesOf(yTrue, classes), classesOf(yPred, classes)];
  return ratio(
    t.reduce((hits, c, i) => hits + Number(c === p[i]), 0),
    t.length,
  );
}

/** Fraction of rows whose predicted argmax is the class id in `labels`. */
export function sparseCategoricalAccuracy(labels: Values, yPred: Values, classes: number): number {
  const p = classesOf(yPred, classes);
  return ratio(
    p.reduce((hits, c, i) => hits + Number(c === labels[i]), 0),
    p.length,
  );
}

/** Per class: true positives, false positives, false negatives (one class for a single column). */
function confusion(yTrue: Values, yPred: Values, classes: number): { tp: number; fp: number; fn: number }[] {
  const [t, p] = [classesOf(yTrue, classes), classesOf(yPred, classes)];
  const counted = classes === 1 ? [1] : Array.from({ length: classes }, (_, c) => c);
  return counted.map((c) => {
    let [tp, fp, fn] = [0, 0, 0];
    t.forEach((truth, i) => {
      if (p[i] === c) truth === c ? tp++ : fp++;
      else if (truth === c) fn++;
    });
    return { tp, fp, fn };
  });
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

export function precision(yTrue: Values, yPred: Values, classes = 1): number {
  return mean(confusion(yTrue, yPred, classes).map(({ tp, fp }) => ratio(tp, tp + fp)));
}

export function recall(yTrue: Values, yPred: Values, classes = 1): number {
  return mean(confusion(yTrue, yPred, classes).map(({ tp, fn }) => ratio(tp, tp + fn)));
}

export function f1(yTrue: Values, yPred: Values, classes = 1): number {
  return mean(confusion(yTrue, yPred, classes).map(({ tp, fp, fn }) => ratio(2 * tp, 2 * tp + fp + fn)));
}

/**
 * Area under the ROC curve of scores `yPred` for binary targets `yTrue` (> 0.5 is positive), over
 * every element (one-hot rows: the micro average), exactly: the Mann–Whitney statistic with ties
 * counted half. Keras approximates it over 200 thresholds.
 */
export function auc(yTrue: Values, yPred: Values): number {
  const order = Array.from({ length: yPred.length }, (_, i) => i).sort((a, b) => yPred[a]! - yPred[b]!);
  let [positives, rankSum] = [0, 0];
  for (let i = 0; i < order.length;) {
    let j = i;
    while (j < order.length && yPred[order[j]!] === yPred[order[i]!]) j++;
    // Ranks i+1 .. j share their mean.
    for (let k = i; k < j; k++) {
      if (yTrue[order[k]!]! > 0.5) [positives, rankSum] = [positives + 1, rankSum + (i + j + 1) / 2];
    }
    i = j;
  }
  const negatives = yPred.length - positives;
  return ratio(rankSum - (positives * (positives + 1)) / 2, positives * negatives);
}

function meanOf(yTrue: Values, yPred: Values, f: (d: number) => number): number {
  let sum = 0;
  for (let i = 0; i < yPred.length; i++) sum += f(yPred[i]! - yTrue[i]!);
  return ratio(sum, yPred.length);
}

export const meanSquaredError = (yTrue: Values, yPred: Values) => meanOf(yTrue, yPred, (d) => d * d);
export const meanAbsoluteError = (yTrue: Values, yPred: Values) => meanOf(yTrue, yPred, Math.abs);
export const rootMeanSquaredError = (yTrue: Values, yPred: Values) => Math.sqrt(meanSquaredError(yTrue, yPred));

/** The metrics as plain functions: `import { metrics } from 'simdnet'`. */
export const metrics = {
  binaryAccuracy,
  categoricalAccuracy,
  sparseCategoricalAccuracy,
  precision,
  recall,
  f1,
  auc,
  meanSquaredError,
  meanAbsoluteError,
  rootMeanSquaredError,
};

/** What a compiled metric computes, from one-hot or binary targets. */
type MetricKind = 'binary_accuracy' | 'categorical_accuracy' | 'precision' | 'recall' | 'f1' | 'auc' | 'mse' | 'mae' | 'rmse';

/** A compiled metric: the name its logs use, what it computes, and over how many classes (1: every element is binary). */
export interface MetricName {
  readonly key: string;
  readonly kind: MetricKind;
  readonly classes: number;
}

const METRIC_ALIASES: Record<string, MetricKind | 'accuracy'> = {
  accuracy: 'accuracy',
  acc: 'accuracy',
  binary_accuracy: 'binary_accuracy',
  binaryAccuracy: 'binary_accuracy',
  categorical_accuracy: 'categorical_accuracy',
  categoricalAccuracy: 'categorical_accuracy',
  sparse_categorical_accuracy: 'categorical_accuracy',
  sparseCategoricalAccuracy: 'categorical_accuracy',
  precision: 'precision',
  recall: 'recall',
  f1: 'f1',
  f1_score: 'f1',
  auc: 'auc',
  mse: 'mse',
  mean_squared_error: 'mse',
  meanSquaredError: 'mse',
  mae: 'mae',
  mean_absolute_error: 'mae',
  meanAbsoluteError: 'mae',
  rmse: 'rmse',
  root_mean_squared_error: 'rmse',
};

/**
 * Resolves metric names. With binary cross-entropy or a single output every element is a binary
 * prediction ('accuracy' is binary accuracy), otherwise each row is one of `units` classes ('accuracy'
 * is categorical; sparse labels reach the metrics one-hot), as Keras chooses.
 */
export function resolveMetrics(names: unknown, loss: ResolvedLoss, units: number): MetricName[] {
  if (!Array.isArray(names)) fail('INVALID_ARGUMENT', 'metrics must be an array of names');
  return names.map((name) => {
    if (typeof name !== 'string' || !Object.hasOwn(METRIC_ALIASES, name)) {
      fail('INVALID_ARGUMENT', `unknown metric ${JSON.stringify(name)}; known: ${Object.keys(METRIC_ALIASES).join(', ')}`);
    }
    const kind = METRIC_ALIASES[name]!;
    const binary = loss.name === 'binary_crossentropy' || units === 1;
    return {
      key: name,
      kind: kind === 'accuracy' ? (binary ? 'binary_accuracy' : 'categorical_accuracy') : kind,
      classes: binary ? 1 : units,
    };
  });
}

/** The compiled metrics over targets (one-hot for sparse labels) and predictions. */
export function computeMetrics(metrics: readonly MetricName[], targets: Float32Array, predictions: Float32Array): Record<string, number> {
  const logs: Record<string, number> = {};
  for (const { key, kind, classes } of metrics) {
    logs[key] = (() => {
      switch (kind) {
        case 'binary_accuracy':
          return binaryAccuracy(targets, predictions);
        case 'categorical_accuracy':
          return categoricalAccuracy(targets, predictions, classes);
        case 'precision':
          return precision(targets, predictions, classes);
        case 'recall':
          return recall(targets, predictions, classes);
        case 'f1':
          return f1(targets, predictions, classes);
        case 'auc':
          return auc(targets, predictions);
        case 'mse':
          return meanSquaredError(targets, predictions);
        case 'mae':
          return meanAbsoluteError(targets, predictions);
        case 'rmse':
          return rootMeanSquaredError(targets, predictions);
      }
    })();
  }
  return logs;
}
