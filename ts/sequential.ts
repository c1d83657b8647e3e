import { MODEL_LAYER_BYTES, MODEL_STEP_BYTES, writeModelLayer, writeModelStep } from './abi.js';
import type { Context } from './context.js';
import {
  type ApplyOptions,
  type ApplyTensorOptions,
  DENSE_CONFIG_KEYS,
  type DenseConfig,
  DenseLayer,
  batchOf,
  checkLength,
  outArrayOf,
  tensorOptions,
} from './dense.js';
import { checkCount, checkKeys, fail } from './errors.js';
import { type SavedModel, saveModel } from './io/format.js';
import { type Quantization, checkQuantization } from './int8.js';
import { type CheckedStep, type LayerStep, checkSteps, stepDesc, stepType } from './steps.js';
import { type TfjsExport, toTfjs } from './io/tfjs-export.js';
import { Tensor } from './tensor.js';
import { type FitOptions, type EvaluateOptions, type History, evaluate, fit } from './train/fit.js';
import type { Logs } from './train/metrics.js';
import { type CompileOptions, type Targets, Trainer } from './train/trainer.js';

/** Addresses of the input, the two hidden-activation buffers and the output; floats of kernel scratch. */
interface Workspace {
  x: number;
  a: number;
  b: number;
  y: number;
  scratch: number;
}

/** A dense layer of a Sequential model: `inputDim` is needed on the first layer only. */
export type LayerSpec = Omit<DenseConfig, 'inputDim'> & {
  inputDim?: number;
  /**
   * Steps applied in order after the activation, in the same wasm call: activations (any of
   * `nn.activate`'s but glu, with options) and per-unit affine maps `{ scale, shift }`. Not trained:
   * `compile()` refuses a model with steps. Model importers put here the activation and
   * BatchNormalization layers they cannot fuse into the Dense layer.
   */
  then?: readonly LayerStep[];
  /** What an importer folded into this layer's weights (e.g. 'BatchNormalization'): shown by `summary()`, saved. */
  folded?: readonly string[];
};

const LAYER_SPEC_KEYS = [...DENSE_CONFIG_KEYS, 'then', 'folded'] as const;

/** A layer's `folded` labels, checked. */
function checkFolded(folded: unknown, where: string): readonly string[] {
  if (folded === undefined) return [];
  if (!Array.isArray(folded) || !folded.every((f) => typeof f === 'string'))
    fail('INVALID_ARGUMENT', `${where}: folded must be an array of names`);
  return Object.freeze([...folded]);
}

/**
 * A stack of dense layers run by one wasm call per `predict`: the activations between layers stay in
 * wasm memory, in two buffers that are reused across calls and grow only with the batch.
 */
export class Sequential {
  /** The model's layers, frozen: the model owns them (it alone disposes them) and its table holds their addresses. */
  readonly layers: readonly DenseLayer[];
  /** The first layer's input width and the last layer's units (the layers are frozen: read once, on the hot path). */
  readonly inputDim: number;
  readonly outputDim: number;
  /** @internal Each layer's steps after its activation, checked (what the table's step lists hold). */
  readonly steps: readonly (readonly CheckedStep[])[];
  /** @internal Each layer's folded-in layers, as `LayerSpec.folded`. */
  readonly folded: readonly (readonly string[])[];
  #ctx: Context;
  #table: number;
  #capacity = 0;
  #workspace: Workspace | null = null;
  #disposed = false;
  #trainer: Trainer | null = null;

  /** @internal Use `nn.sequential()`. */
  constructor(ctx: Context, specs: readonly LayerSpec[]) {
    if (!Array.isArray(specs) || specs.length === 0) fail('INVALID_ARGUMENT', 'sequential() needs a non-empty array of layers');
    const configs: DenseConfig[] = [];
    const steps: CheckedStep[][] = [];
    const folded: (readonly string[])[] = [];
    let width = specs[0]?.inputDim;
    if (width === undefined) fail('INVALID_ARGUMENT', 'the first layer needs inputDim');
    specs.forEach((spec, i) => {
      if (spec === null || typeof spec !== 'object') fail('INVALID_ARGUMENT', `layer ${i} must be an object`);
      checkKeys(spec, LAYER_SPEC_KEYS, `layer ${i}`);
      if (i > 0 && spec.inputDim !== undefined && spec.inputDim !== width) {
        fail('SHAPE_MISMATCH', `layer ${i} has inputDim ${spec.inputDim} but the previous layer has ${width} units`);
      }
      const { then, folded: foldedNames, ...dense } = spec;
      steps.push(then === undefined ? [] : checkSteps(then, checkCount(spec.units, `layer ${i}'s units`), `layer ${i}`));
      folded.push(checkFolded(foldedNames, `layer ${i}`));
      // Weights that are views of wasm memory are copied now: building the first layers may grow it.
      const [kernel, bias] = [dense.kernel && ctx.heap.stable(dense.kernel), dense.bias && ctx.heap.stable(dense.bias)];
      configs.push({ seed: i, ...dense, kernel, bias, inputDim: width! });
      width = spec.units;
    });
    // The table: one ModelLayer per layer, then every step, then the steps' values (floats).
    const stepCount = steps.reduce((n, list) => n + list.length, 0);
    const valueFloats = steps.flat().reduce((n, step) => n + (step.values?.length ?? 0), 0);
    const layers: DenseLayer[] = [];
    try {
      for (const config of configs) layers.push(new DenseLayer(ctx, config));
      this.#table = ctx.heap.alloc(layers.length * MODEL_LAYER_BYTES + stepCount * MODEL_STEP_BYTES + valueFloats * 4);
    } catch (e) {
      for (const layer of layers) layer.dispose();
      throw e;
    }
    for (const layer of layers) layer.ownBy(this);
    this.layers = Object.freeze(layers);
    this.inputDim = layers[0]!.inputDim;
    this.outputDim = layers.at(-1)!.units;
    this.steps = Object.freeze(steps.map((list) => Object.freeze(list)));
    this.folded = Object.freeze(folded);
    this.#ctx = ctx;
    this.#writeTable(stepCount);
  }

  #writeTable(stepCount: number): void {
    const { memory } = this.#ctx.heap;
    let stepAt = this.#table + this.layers.length * MODEL_LAYER_BYTES;
    let valuesAt = stepAt + stepCount * MODEL_STEP_BYTES;
    this.layers.forEach((layer, i) => {
      const list = this.steps[i]!;
      writeModelLayer(memory, this.#table + i * MODEL_LAYER_BYTES, layer.desc, list.length ? stepAt : 0, list.length, layer.weightFormat);
      for (const step of list) {
        writeModelStep(memory, stepAt, stepDesc(step, valuesAt));
        stepAt += MODEL_STEP_BYTES;
        if (!step.values) continue;
        this.#ctx.heap.write(valuesAt, step.values);
        valuesAt += step.values.length * 4;
      }
    });
  }

  get paramCount(): number {
    return this.layers.reduce((n, l) => n + l.paramCount, 0);
  }

  #assertAlive(): void {
    if (this.#disposed) fail('DISPOSED', 'the model was disposed');
  }

  /** `[kernel0, bias0, kernel1, bias1, ...]`, copies (kernels in [in × out] layout). */
  getWeights(): Float32Array[] {
    this.#assertAlive();
    return this.layers.flatMap((l) => l.getWeights());
  }

  /** Takes the list `getWeights()` returns; every length is checked before any layer changes. */
  setWeights(weights: readonly ArrayLike<number>[]): void {
    this.#assertAlive();
    if (!Array.isArray(weights)) fail('INVALID_ARGUMENT', `setWeights needs an array of arrays, got ${String(weights)}`);
    if (weights.length !== this.layers.length * 2) {
      fail('SHAPE_MISMATCH', `setWeights needs ${this.layers.length * 2} arrays (kernel and bias per layer), got ${weights.length}`);
    }
    this.layers.forEach((l, i) => {
      checkLength(weights[2 * i]!, l.inputDim * l.units, `kernel of layer ${i}`);
      checkLength(weights[2 * i + 1]!, l.units, `bias of layer ${i}`);
    });
    // Copied out of wasm memory and packed through one pair of blocks allocated up front, so that no
    // allocation (which could fail, or detach a view) happens once the first layer has changed.
    const { heap } = this.#ctx;
    const values = weights.map((w) => heap.stable(w));
    const largest = (of: (l: DenseLayer) => number) => Math.max(...this.layers.map(of));
    this.#ctx.withBlocks([largest((l) => l.stagingFloats), largest((l) => l.units)], (k, b) => {
      this.layers.forEach((l, i) => l.packVia(k!, b!, values[2 * i]!, values[2 * i + 1]!, false));
    });
  }

  /**
   * Buffers and scratch for `batch` rows; reallocated only when the batch exceeds every earlier one,
   * and then all at once or (OUT_OF_MEMORY) not at all, the earlier ones kept.
   */
  #reserve(batch: number): Workspace {
    if (this.#workspace && batch <= this.#capacity) return this.#workspace;
    const hidden = Math.max(0, ...this.layers.slice(0, -1).map((l) => l.units));
    const { wasm } = this.#ctx;
    const stepScratch = this.steps.flatMap((list, i) =>
      list.map((step) =>
        step.kind === 'activation'
          ? this.#ctx.kernelLen(wasm.simdnet_rowwise_scratch_len(step.activation.code, this.layers[i]!.units), 'scratch')
          : 0,
      ),
    );
    const scratch = Math.max(...this.layers.map((l) => l.scratchFloats(batch)), ...stepScratch);
    // The shared scratch only grows, so once grown here `ctx.scratch(scratch)` in predict allocates nothing.
    const ptrs = this.#ctx.allocWithScratch(
      [this.inputDim, hidden, hidden, this.outputDim].map((w) => batch * w),
      scratch,
    );
    this.#releaseWorkspace();
    const [x, a, b, y] = ptrs as [number, number, number, number];
    this.#workspace = { x, a, b, y, scratch };
    this.#capacity = batch;
    return this.#workspace;
  }

  #releaseWorkspace(): void {
    if (!this.#workspace) return;
    const { x, a, b, y } = this.#workspace;
    for (const p of [x, a, b, y]) this.#ctx.heap.release(p);
    this.#workspace = null;
    this.#capacity = 0;
  }

  /**
   * Float32Array `[batch × inputDim]` → new Float32Array `[batch × outputDim]`, or `options.out`
   * overwritten; a Tensor whose last axis is inputDim → a new Tensor whose last axis is outputDim (in
   * wasm memory: dispose it), or `options.into` overwritten. After the first call at a given batch
   * size, nothing is allocated in wasm memory (nor, with `out` or `into`, in JavaScript).
   */
  predict(input: Float32Array, batch?: number, options?: ApplyOptions): Float32Array;
  predict(input: Tensor, options?: ApplyTensorOptions): Tensor;
  predict(input: Float32Array | Tensor, batchOrOptions?: number | ApplyTensorOptions, options?: ApplyOptions): Float32Array | Tensor;
  predict(input: Float32Array | Tensor, batchOrOptions?: number | ApplyTensorOptions, options?: ApplyOptions): Float32Array | Tensor {
    this.#assertAlive();
    const ctx = this.#ctx;
    const { heap } = ctx;
    if (input instanceof Tensor) {
      const x = ctx.tensorPtr(input, 'input');
      if (input.shape.at(-1) !== this.inputDim) {
        fail('SHAPE_MISMATCH', `input shape [${input.shape.join(', ')}] must end in inputDim ${this.inputDim}`);
      }
      const into = tensorOptions(batchOrOptions, 'predict');
      const rows = input.rows;
      // The last layer reads its input (a hidden buffer, or x for one layer) while writing: disjoint from x.
      const given = into === undefined ? undefined : ctx.outputPtr(into, rows * this.outputDim, input, 'disjoint');
      return ctx.call(given === undefined ? [rows * this.outputDim] : [], [], 0, ([y]) => {
        // Reserved here: if that fails, the call releases the output block it allocated.
        this.#forward(x, rows, this.#reserve(rows), given ?? y!);
        return into ?? new Tensor(heap, given ?? y!, [...input.shape.slice(0, -1), this.outputDim]);
      });
    }
    const rows = batchOf(input, this.inputDim, batchOrOptions as number | undefined);
    const out = outArrayOf(options, rows * this.outputDim, heap);
    const values = heap.stable(input);
    const ws = this.#reserve(rows);
    heap.write(ws.x, values);
    this.#forward(ws.x, rows, ws, ws.y);
    return heap.readInto(ws.y, rows * this.outputDim, out);
  }

  /** The whole model in one wasm call, from `x` into `y` through the workspace's hidden buffers. */
  #forward(x: number, rows: number, ws: Workspace, y: number): void {
    const scratch = this.#ctx.scratch(ws.scratch);
    const status = this.#ctx.wasm.simdnet_model_forward(this.#table, this.layers.length, x, rows, ws.a, ws.b, y, scratch);
    if (status !== 0) {
      const i = status - 1;
      const names = [this.layers[i]!.activation.name, ...this.steps[i]!.map(stepType)].join(', ');
      fail('UNKNOWN_ACTIVATION', `the kernel cannot apply layer ${i}'s activation or steps (${names})`);
    }
  }

  /** @internal Specs that rebuild the model: each layer's weights (int8 ones as they are), activation, steps and folded layers. */
  layerSpecs(): LayerSpec[] {
    this.#assertAlive();
    return this.layers.map((l, i) => {
      const [kernel, bias] = l.quantization ? [l.getQuantizedWeights(), l.getWeights()[1]] : l.getWeights();
      const then = this.steps[i]!.map((step): LayerStep =>
        step.kind === 'affine'
          ? { scale: step.values.subarray(0, l.units), shift: step.values.subarray(l.units), label: step.label }
          : step.spec,
      );
      const quantize = l.quantization ? { quantize: l.quantization } : {};
      return {
        inputDim: l.inputDim,
        units: l.units,
        activation: l.activationSpec,
        kernel,
        bias,
        then,
        folded: this.folded[i]!,
        ...quantize,
      };
    });
  }

  /**
   * A new model with this one's layers, activations and steps, its weights quantized to `scheme`
   * ('int8': see docs/int8.md); this model stays as it is, and usable.
   */
  quantize(scheme: Quantization): Sequential {
    this.#assertAlive();
    const quantize = checkQuantization(scheme);
    return new Sequential(
      this.#ctx,
      this.layerSpecs().map((spec) => ({ ...spec, quantize })),
    );
  }

  /** Prepares training (Keras' `compile`): loss, optimizer (fresh state) and metrics. See docs/training.md. */
  compile(options: CompileOptions): void {
    this.#assertAlive();
    const quantized = this.layers.findIndex((l) => l.quantization !== null);
    if (quantized >= 0) {
      fail(
        'INVALID_ARGUMENT',
        `layer ${quantized} has ${this.layers[quantized]!.quantization} weights, which are for inference: train the float32 model, then quantize() it`,
      );
    }
    const stepped = this.steps.findIndex((list) => list.length > 0);
    if (stepped >= 0) {
      fail(
        'INVALID_ARGUMENT',
        `layer ${stepped} has steps after its activation (an imported model's extra layers); training them is not supported yet`,
      );
    }
    const trainer = new Trainer(this.#ctx, this.layers, options);
    this.#trainer?.dispose();
    this.#trainer = trainer;
  }

  /** Trains for `options.epochs` over x and y (Keras' `fit`); resolves to the history of the logs. */
  fit(x: Float32Array | Tensor, y: Targets, options?: FitOptions): Promise<History> {
    return fit(this.#compiled(), x, y, options);
  }

  /** The loss and metrics over x and y, in batches (Keras' `evaluate`); nothing is updated. */
  evaluate(x: Float32Array | Tensor, y: Targets, options?: EvaluateOptions): Logs {
    return evaluate(this.#compiled(), x, y, options);
  }

  /** One optimizer step on one batch; the batch's loss and metrics before the update. */
  trainOnBatch(x: Float32Array | Tensor, y: Targets): Logs {
    return this.#compiled().trainOnBatch(x, y);
  }

  /** @internal The compiled training state (gradients for the tests, diagnostics). */
  get trainer(): Trainer {
    return this.#compiled();
  }

  #compiled(): Trainer {
    this.#assertAlive();
    if (this.#trainer === null) fail('INVALID_ARGUMENT', 'compile() the model before training or evaluating it');
    return this.#trainer;
  }

  /** The model in simdnet's own format (JSON + float32 weights), which `nn.loadModel` reads back exactly. */
  save(weightsPath?: string): SavedModel {
    this.#assertAlive();
    if (weightsPath !== undefined && typeof weightsPath !== 'string') {
      fail('INVALID_ARGUMENT', `weightsPath must be a string, got ${String(weightsPath)}`);
    }
    return saveModel(this, weightsPath);
  }

  /** The model as TF.js Layers files (ts/io/tfjs-export.ts): `model.json`, naming `weightsPath`, and its weights. */
  toTfjs(weightsPath?: string): TfjsExport {
    this.#assertAlive();
    return toTfjs(this, weightsPath);
  }

  /**
   * A Keras-like table of the layers, their output shapes and parameter counts: each step after a
   * layer's activation is a row of its own, as are the layers folded into its weights (0 parameters).
   */
  summary(): string {
    // Keras names a layer by its class in snake case, numbered from the second of a class on.
    const seen = new Map<string, number>();
    const named = (type: string) => {
      const base = type
        .split(',')[0]!
        .replace(/(.)([A-Z][a-z]+)/g, '$1_$2')
        .replace(/([a-z])([A-Z])/g, '$1_$2')
        .toLowerCase();
      const n = seen.get(base) ?? 0;
      seen.set(base, n + 1);
      return `${n === 0 ? base : `${base}_${n}`} (${type})`;
    };
    const count = (n: number) => n.toLocaleString('en-US');
    const stepFloats = this.steps.flat().reduce((n, step) => n + (step.values?.length ?? 0), 0);
    const quantizedKernels = this.layers.reduce((n, l) => n + (l.quantization ? l.inputDim * l.units : 0), 0);
    const rows = this.layers.flatMap((l, i) => {
      const shape = `(None, ${l.units})`;
      return [
        [
          named(`Dense${l.activation.name === 'linear' ? '' : `, ${l.activation.name}`}${l.quantization ? `, ${l.quantization}` : ''}`),
          shape,
          count(l.paramCount),
        ],
        ...this.folded[i]!.map((type) => [named(`${type}, folded`), shape, '0']),
        ...this.steps[i]!.map((step) => [named(stepType(step)), shape, count(step.values?.length ?? 0)]),
      ];
    });
    // Keras' widths, the first widened to fit a long name (a folded BatchNormalization's).
    const widths = [Math.max(34, ...rows.map((r) => r[0]!.length + 2)), 20, 12];
    const line = (cells: string[]) =>
      cells
        .map((c, i) => c.padEnd(widths[i]!))
        .join('')
        .trimEnd();
    const rule = (ch: string) => ch.repeat(widths.reduce((a, b) => a + b, 0));
    return [
      'Model: "sequential"',
      rule('_'),
      line(['Layer (type)', 'Output Shape', 'Param #']),
      rule('='),
      ...rows.flatMap((r, i) => (i === 0 ? [line(r)] : [rule('_'), line(r)])),
      rule('='),
      `Total params: ${count(this.paramCount + stepFloats)}`,
      // The steps' values are not weights: getWeights() and training leave them out.
      ...(stepFloats > 0 ? [`Trainable params: ${count(this.paramCount)}`, `Non-trainable params: ${count(stepFloats)}`] : []),
      ...(quantizedKernels > 0 ? [`Int8 weights: ${count(quantizedKernels)} (1 byte each, with one float32 scale per unit)`] : []),
      rule('_'),
    ].join('\n');
  }

  dispose(): void {
    this.#assertAlive();
    this.#releaseWorkspace();
    this.#trainer?.dispose();
    for (const l of this.layers) l.disposeBy(this);
    this.#ctx.heap.release(this.#table);
    this.#disposed = true;
  }

  [Symbol.dispose](): void {
    if (!this.#disposed) this.dispose();
  }
}
