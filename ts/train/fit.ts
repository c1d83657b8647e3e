import { checkCount, fail } from '../errors.js';
import { seededRandom } from '../random.js';
import type { Tensor } from '../tensor.js';
import { Diagnostics, type LayerDiagnostics } from './diagnostics.js';
import { type Logs, computeMetrics } from './metrics.js';
import { Progress } from './progress.js';
import { StepMode } from '../abi.js';
import type { Dataset, Targets, Trainer } from './trainer.js';

/** Callbacks of `fit` (TF.js' names); each may return a promise, which `fit` awaits. */
export interface FitCallbacks {
  onTrainBegin?(): unknown;
  onTrainEnd?(logs: Logs): unknown;
  onEpochBegin?(epoch: number): unknown;
  onEpochEnd?(epoch: number, logs: Logs): unknown;
  /** `logs.loss` is the running mean of the epoch so far (metrics come at the epoch's end). */
  onBatchEnd?(batch: number, logs: Logs): unknown;
}

export interface FitOptions {
  /** Default 1. */
  epochs?: number;
  /** Default 32. */
  batchSize?: number;
  /** Shuffle the training samples before each epoch (default true). */
  shuffle?: boolean;
  /** Seed of the shuffle: same seed, data and build → the same weights, bit for bit. Default: random. */
  seed?: number;
  /** The last fraction of the samples (taken before shuffling) held out for validation, as Keras. */
  validationSplit?: number;
  validationData?: [x: Float32Array | Tensor, y: Targets];
  /** 1 (default): a progress bar per epoch on a terminal, one line per epoch otherwise; 2: one line; 0: silent. */
  verbose?: 0 | 1 | 2;
  callbacks?: FitCallbacks;
  /** Per layer: dead ReLUs, saturated sigmoid/tanh outputs, gradient norms (see docs/training.md). */
  diagnostics?: boolean;
}

export interface EvaluateOptions {
  /** Default 32. */
  batchSize?: number;
}

export interface History {
  /** 0, 1, ... one per epoch run. */
  epoch: number[];
  /** Each log key (loss, metrics, val_*) → its value per epoch. */
  history: Record<string, number[]>;
  /** With `diagnostics: true`: per epoch, per layer. */
  diagnostics?: LayerDiagnostics[][];
}

function batchSizeOf(value: unknown): number {
  const size = checkCount(value ?? 32, 'batchSize');
  if (size === 0) fail('INVALID_ARGUMENT', 'batchSize must be at least 1');
  return size;
}

/** Checks every option before anything runs, and splits off the validation samples. */
function prepare(trainer: Trainer, x: unknown, y: unknown, options: FitOptions) {
  if (options === null || typeof options !== 'object') fail('INVALID_ARGUMENT', 'fit() options must be an object');
  const epochs = checkCount(options.epochs ?? 1, 'epochs');
  const batchSize = batchSizeOf(options.batchSize);
  const verbose = options.verbose ?? 1;
  if (verbose !== 0 && verbose !== 1 && verbose !== 2) fail('INVALID_ARGUMENT', `verbose must be 0, 1 or 2, got ${String(verbose)}`);
  const seed = options.seed ?? Math.floor(Math.random() * 2 ** 32);
  if (typeof seed !== 'number' || !Number.isFinite(seed)) fail('INVALID_ARGUMENT', `seed must be a number, got ${String(seed)}`);
  const callbacks = options.callbacks ?? {};
  if (callbacks === null || typeof callbacks !== 'object') fail('INVALID_ARGUMENT', 'callbacks must be an object of functions');
  let data = trainer.dataset(x, y);
  let validation: Dataset | null = null;
  const split = options.validationSplit ?? 0;
  if (options.validationData !== undefined) {
    if (!Array.isArray(options.validationData) || options.validationData.length !== 2)
      fail('INVALID_ARGUMENT', 'validationData must be [x, y]');
    validation = trainer.dataset(options.validationData[0], options.validationData[1], ' of validationData');
  } else if (split !== 0) {
    if (typeof split !== 'number' || !(split > 0 && split < 1))
      fail('INVALID_ARGUMENT', `validationSplit must be in (0, 1), got ${String(split)}`);
    // Keras: the first ⌈n·(1 − split)⌉ samples train, the rest validate.
    const at = Math.ceil(data.n * (1 - split));
    if (at === data.n) fail('INVALID_ARGUMENT', `validationSplit ${split} of ${data.n} samples leaves no validation sample`);
    const [inputs, units] = [trainer.inputDim, trainer.loss.sparse ? 1 : trainer.outputDim];
    validation = { x: data.x.subarray(at * inputs), y: data.y.subarray(at * units), n: data.n - at };
    data = { x: data.x.subarray(0, at * inputs), y: data.y.subarray(0, at * units), n: at };
  }
  return { epochs, batchSize, verbose, seed, callbacks, data, validation, shuffle: options.shuffle ?? true };
}

/** What each batch of an epoch reports: its index, its size, and the epoch's mean loss so far. */
interface BatchReport {
  batch: number;
  rows: number;
  loss: number;
}

/**
 * Runs `data` through the model in batches (mode `mode`), yielding after each batch; returns the
 * mean loss and the metrics. A generator, so that `fit` can await callbacks between batches and
 * `evaluate` can run it synchronously.
 */
function* epochSteps(
  trainer: Trainer,
  data: Dataset,
  order: Int32Array | null,
  batchSize: number,
  mode: 0 | 2,
): Generator<BatchReport, Logs> {
  const units = trainer.outputDim;
  const keep = trainer.metrics.length > 0;
  const [predictions, targets] = keep ? [new Float32Array(data.n * units), new Float32Array(data.n * units)] : [null, null];
  let lossSum = 0;
  for (let start = 0, batch = 0; start < data.n; start += batchSize, batch++) {
    const rows = Math.min(batchSize, data.n - start);
    lossSum += trainer.step(data, order, start, rows, mode) * rows;
    if (keep) {
      const last = trainer.lastBatch(rows);
      predictions!.set(last.predictions, start * units);
      targets!.set(last.targets, start * units);
    }
    yield { batch, rows, loss: lossSum / (start + rows) };
  }
  return { loss: lossSum / data.n, ...(keep ? computeMetrics(trainer.metrics, targets!, predictions!) : {}) };
}

/** Runs an epoch's generator to its end. */
function drain(steps: Generator<BatchReport, Logs>): Logs {
  for (;;) {
    const next = steps.next();
    if (next.done) return next.value;
  }
}

export function evaluate(trainer: Trainer, x: unknown, y: unknown, options: EvaluateOptions = {}): Logs {
  if (options === null || typeof options !== 'object') fail('INVALID_ARGUMENT', 'evaluate() options must be an object');
  const batchSize = batchSizeOf(options.batchSize);
  return drain(epochSteps(trainer, trainer.dataset(x, y), null, batchSize, StepMode.loss));
}

/** Keras' `fit`: see FitOptions. Every option and input is checked before the first step. */
export async function fit(trainer: Trainer, x: unknown, y: unknown, options: FitOptions = {}): Promise<History> {
  const { epochs, batchSize, verbose, seed, callbacks, data, validation, shuffle } = prepare(trainer, x, y, options);
  const random = seededRandom(seed);
  const order = Int32Array.from({ length: data.n }, (_, i) => i);
  const history: History = { epoch: [], history: {} };
  const diagnostics = options.diagnostics ? new Diagnostics(trainer) : null;
  if (diagnostics) history.diagnostics = [];
  const stepCount = Math.ceil(data.n / batchSize);
  let logs: Logs = { loss: NaN };
  await callbacks.onTrainBegin?.();
  for (let epoch = 0; epoch < epochs; epoch++) {
    await callbacks.onEpochBegin?.(epoch);
    if (shuffle) {
      for (let i = data.n - 1; i > 0; i--) {
        const j = Math.floor(random() * (i + 1));
        [order[i], order[j]] = [order[j]!, order[i]!];
      }
    }
    const progress = new Progress(epoch, epochs, stepCount, verbose);
    const steps = epochSteps(trainer, data, order, batchSize, StepMode.update);
    for (let next = steps.next(); ; next = steps.next()) {
      if (next.done) {
        logs = next.value;
        break;
      }
      const { batch, rows, loss } = next.value;
      diagnostics?.observe(rows);
      progress.batch(batch + 1, { loss });
      await callbacks.onBatchEnd?.(batch, { batch, size: rows, loss });
    }
    if (validation) {
      const validationLogs = drain(epochSteps(trainer, validation, null, batchSize, StepMode.loss));
      for (const [key, value] of Object.entries(validationLogs)) logs[`val_${key}`] = value;
    }
    if (diagnostics) {
      const { layers, warnings } = diagnostics.epoch();
      history.diagnostics!.push(layers);
      for (const d of layers) {
        if (d.deadFraction !== undefined) logs[`layer${d.layer}_dead_fraction`] = d.deadFraction;
        if (d.saturatedFraction !== undefined) logs[`layer${d.layer}_saturated_fraction`] = d.saturatedFraction;
        logs[`layer${d.layer}_gradient_norm`] = d.gradientNorm;
      }
      warnings.forEach((w) => progress.warn(w));
    }
    progress.end(logs);
    history.epoch.push(epoch);
    for (const [key, value] of Object.entries(logs)) (history.history[key] ??= []).push(value);
    await callbacks.onEpochEnd?.(epoch, logs);
  }
  await callbacks.onTrainEnd?.(logs);
  return history;
}
