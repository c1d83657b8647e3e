/**
 * `simdnet train data.csv --layers 128:relu,1:sigmoid --loss binary_crossentropy ... --out model.json`:
 * trains a Sequential model on a CSV file with a header row, standardizing the features with the
 * training split's mean and standard deviation, then folds that standardization into the first
 * layer (ts/train/standardize.ts), so the saved model takes raw features in `simdnet predict` and
 * `nn.loadModel`. Node only.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { type LayerSpec, type OptimizerSpec, type Sequential, type Simdnet, metrics } from '../index.js';
import { resolveLoss } from '../train/losses.js';
import { foldStandardization, standardization, standardize } from '../train/standardize.js';
import { parseRows } from './rows.js';

export const TRAIN_USAGE = 'train <data.csv> --layers units:activation,... --loss name [--out model.json] [options]';

export const TRAIN_SUMMARY = `trains a model on a CSV file with a header row (one column is the label, the others the features)
and writes it beside --out (model.json + model.bin, or TF.js Layers files with --format tfjs). The
features are standardized with the training split's mean and standard deviation, folded into the
first layer's weights: the saved model takes raw features. Prints a progress bar, then the loss,
accuracy, precision, recall, F1 and MSE on the validation split, and the training samples/s.
  --layers spec            dense layers, e.g. 128:relu,64:relu,1:sigmoid (no activation: linear)
  --loss name              e.g. binary_crossentropy, sparse_categorical_crossentropy, mse
  --label NAME             the label column (default: the last one); with several output units, class ids
  --epochs n               default 10
  --batch-size n           default 32
  --validation-split f     the last fraction of the rows, held out (default 0.2; 0: report on the training rows)
  --optimizer name         sgd, adam (default), adamw, rmsprop
  --learning-rate f        default: the optimizer's (Keras')
  --metrics a,b            shown per epoch (default accuracy for a cross-entropy, mae otherwise)
  --seed n                 weights and shuffling (default: random, printed)
  --out file               default model.json
  --format simdnet|tfjs    default simdnet (--out and <stem>.bin); tfjs: --out and <stem>.weights.bin`;

export const TRAIN_OPTIONS = {
  layers: { type: 'string' },
  loss: { type: 'string' },
  label: { type: 'string' },
  epochs: { type: 'string', default: '10' },
  'batch-size': { type: 'string', default: '32' },
  'validation-split': { type: 'string', default: '0.2' },
  optimizer: { type: 'string', default: 'adam' },
  'learning-rate': { type: 'string' },
  metrics: { type: 'string' },
  seed: { type: 'string' },
  out: { type: 'string', default: 'model.json' },
  format: { type: 'string', default: 'simdnet' },
} as const;

type Values = Record<string, string | boolean | undefined>;

/** A whole number ≥ `least` from option `--name`. */
function integer(values: Values, name: string, least: number): number {
  const text = String(values[name]);
  if (!/^\d+$/.test(text) || Number(text) < least || !Number.isSafeInteger(Number(text))) {
    throw new Error(`--${name} must be an integer ≥ ${least}, got ${text}`);
  }
  return Number(text);
}

/** `128:relu,64,1:sigmoid` → layer specs (the activation's name is checked by nn.sequential). */
export function parseLayers(text: string, inputDim: number, seed: number): LayerSpec[] {
  return text.split(',').map((part, i) => {
    const match = /^\s*(\d+)\s*(?::\s*([A-Za-z0-9_]+)\s*)?$/.exec(part);
    if (!match || Number(match[1]) < 1) throw new Error(`--layers: "${part}" is not units:activation with units ≥ 1`);
    const activation = (match[2] ?? 'linear') as LayerSpec['activation'];
    return { ...(i === 0 ? { inputDim } : {}), units: Number(match[1]), activation, seed: seed + i };
  });
}

/** The options, checked before the data is read. */
function options(values: Values, path: string | undefined) {
  if (path === undefined) throw new Error('train: missing the data file argument (simdnet train --help)');
  if (values.layers === undefined) throw new Error('train: missing --layers (simdnet train --help)');
  if (values.loss === undefined) throw new Error('train: missing --loss (simdnet train --help)');
  const split = Number(values['validation-split']);
  if (!(split >= 0 && split < 1)) throw new Error(`--validation-split must be in [0, 1), got ${String(values['validation-split'])}`);
  const format = values.format;
  if (format !== 'simdnet' && format !== 'tfjs') throw new Error(`--format must be simdnet or tfjs, got ${String(format)}`);
  const rate = values['learning-rate'];
  if (rate !== undefined && !(Number(rate) > 0)) throw new Error(`--learning-rate must be a positive number, got ${String(rate)}`);
  const loss = resolveLoss(values.loss);
  const optimizer = { name: values.optimizer, ...(rate === undefined ? {} : { learningRate: Number(rate) }) };
  const crossentropy = loss.name.endsWith('crossentropy');
  const given =
    values.metrics === undefined
      ? undefined
      : String(values.metrics)
          .split(',')
          .map((m) => m.trim());
  const metricNames = given ?? [crossentropy ? 'accuracy' : 'mae'];
  return {
    path,
    loss,
    crossentropy,
    optimizer,
    metricNames,
    split,
    epochs: integer(values, 'epochs', 1),
    batchSize: integer(values, 'batch-size', 1),
    seed: values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : integer(values, 'seed', 0),
    out: String(values.out),
    format,
  };
}

/** The CSV's features and label column (by name, default the last). */
function dataset(text: string, label: string | undefined) {
  const { rows, header } = parseRows(text, true);
  if (!header || rows.length === 0) throw new Error('the data file needs a header row and at least one row of values');
  const column = label === undefined ? header.length - 1 : header.indexOf(label);
  if (column < 0) throw new Error(`--label ${label}: no such column; the columns are ${header.join(', ')}`);
  if (header.length < 2) throw new Error('the data file needs at least one feature column besides the label');
  const width = header.length - 1;
  const x = new Float32Array(rows.length * width);
  const labels = new Float64Array(rows.length);
  rows.forEach((row, r) => {
    if (row.length !== header.length)
      throw new Error(`data row ${r + 1} has ${row.length} values; the header has ${header.length} columns`);
    labels[r] = row[column]!;
    x.set(
      row.filter((_, c) => c !== column),
      r * width,
    );
  });
  return { x, labels, width, n: rows.length };
}

/**
 * The targets `fit` takes for `labels`: the values themselves for one output unit; class ids for
 * several (sparse loss), one-hot for categorical cross-entropy. Also their one-hot (or single
 * column) form, which the metrics compare with the predictions.
 */
function targetsOf(labels: Float64Array, units: number, lossName: string) {
  if (units === 1) {
    const y = Float32Array.from(labels);
    return { y, dense: y };
  }
  if (!lossName.includes('categorical'))
    throw new Error(`a ${units}-unit output needs a categorical loss (the label column holds class ids)`);
  const dense = new Float32Array(labels.length * units);
  labels.forEach((id, r) => {
    if (!Number.isInteger(id) || id < 0 || id >= units)
      throw new Error(`data row ${r + 1}: label ${id} is not a class id in [0, ${units})`);
    dense[r * units + id] = 1;
  });
  return { y: lossName === 'sparse_categorical_crossentropy' ? Int32Array.from(labels) : dense, dense };
}

/** The KPI table over `x` (raw features) and `dense` targets: the loss, the classification scores for a cross-entropy, the MSE. */
function kpis(
  model: Sequential,
  x: Float32Array,
  y: Float32Array | Int32Array,
  dense: Float32Array,
  crossentropy: boolean,
): [string, number][] {
  const predictions = model.predict(x);
  const units = model.outputDim;
  const rows: [string, number][] = [['loss', model.evaluate(x, y, { batchSize: 256 }).loss]];
  if (crossentropy) {
    const accuracy = units === 1 ? metrics.binaryAccuracy(dense, predictions) : metrics.categoricalAccuracy(dense, predictions, units);
    rows.push(
      ['accuracy', accuracy],
      ['precision', metrics.precision(dense, predictions, units)],
      ['recall', metrics.recall(dense, predictions, units)],
      ['f1', metrics.f1(dense, predictions, units)],
    );
  }
  rows.push(['mse', metrics.meanSquaredError(dense, predictions)]);
  return rows;
}

export async function train(nn: Simdnet, values: Values, [path]: string[]): Promise<void> {
  const o = options(values, path);
  const data = dataset(await readFile(o.path, 'utf8'), values.label as string | undefined);
  const specs = parseLayers(String(values.layers), data.width, o.seed);
  const units = specs.at(-1)!.units;
  const { y, dense } = targetsOf(data.labels, units, o.loss.name);
  // Keras' split: the first ⌈n·(1 − split)⌉ rows train; the standardization is theirs alone.
  const trainRows = Math.ceil(data.n * (1 - o.split));
  if (trainRows === data.n && o.split > 0) throw new Error(`--validation-split ${o.split} of ${data.n} rows leaves no validation row`);
  const scaling = standardization(data.x, trainRows, data.width);
  const model = nn.sequential(specs);
  try {
    // An activation TF.js cannot express fails now, not after every epoch has run.
    if (o.format === 'tfjs') model.toTfjs();
    model.compile({ optimizer: o.optimizer as OptimizerSpec, loss: o.loss.name, metrics: o.metricNames });
    console.log(`simdnet train: ${data.n} rows × ${data.width} features, ${trainRows} training; seed ${o.seed}; '${nn.variant}' build`);
    const lastBatch = Math.ceil(trainRows / o.batchSize) - 1;
    let [trainingMs, epochStart] = [0, 0];
    await model.fit(standardize(data.x.slice(), scaling), y, {
      epochs: o.epochs,
      batchSize: o.batchSize,
      seed: o.seed,
      validationSplit: o.split || undefined,
      callbacks: {
        onEpochBegin: () => void (epochStart = performance.now()),
        // Before the validation pass: the throughput counts training steps only.
        onBatchEnd: (batch) => void (batch === lastBatch && (trainingMs += performance.now() - epochStart)),
      },
    });
    foldStandardization(model, scaling);
    const held = o.split > 0 ? trainRows : 0;
    const targetWidth = o.loss.sparse ? 1 : units;
    const [x, targets] = [data.x.subarray(held * data.width), y.subarray(held * targetWidth)];
    const validation = kpis(model, x, targets, dense.subarray(held * units), o.crossentropy);
    console.log(`\n${o.split > 0 ? `validation split (${data.n - trainRows} rows)` : `training rows (${data.n})`}:`);
    for (const [name, value] of validation) console.log(`  ${name.padEnd(10)} ${value.toFixed(4)}`);
    console.log(`  ${'samples/s'.padEnd(10)} ${Math.round((trainRows * o.epochs) / (trainingMs / 1000)).toLocaleString('en-US')}`);
    await save(model, o.out, o.format === 'tfjs');
  } finally {
    model.dispose();
  }
}

/** Writes `out` and its weights file beside it: `<stem>.bin` (simdnet) or `<stem>.weights.bin` (TF.js). */
async function save(model: Sequential, out: string, tfjs: boolean): Promise<void> {
  const stem = basename(out).replace(/\.json$/i, '');
  const weightsName = `${stem}${tfjs ? '.weights.bin' : '.bin'}`;
  const weightsPath = join(dirname(out), weightsName);
  if (tfjs) {
    const { modelJson, weightsBin } = model.toTfjs(weightsName);
    await writeFile(out, JSON.stringify(modelJson));
    await writeFile(weightsPath, weightsBin);
  } else {
    const { json, weights } = model.save(weightsName);
    await writeFile(out, json);
    await writeFile(weightsPath, weights);
  }
  console.log(`\nwrote ${out} and ${weightsPath}`);
}
