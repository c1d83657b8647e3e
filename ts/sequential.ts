import { LAYER_DESC_BYTES } from './abi.js';
import type { Context } from './context.js';
import { type DenseConfig, DenseLayer, batchOf, checkLength } from './dense.js';
import { fail } from './errors.js';
import { type SavedModel, saveModel } from './format.js';
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

/** Writes `layer`'s `LayerDesc` (crate/src/model.rs) at byte address `at`. */
export function writeLayerDesc(view: DataView, at: number, layer: DenseLayer): void {
  view.setUint32(at, layer.packedPtr, true);
  view.setUint32(at + 4, layer.inputDim, true);
  view.setUint32(at + 8, layer.units, true);
  view.setUint32(at + 12, layer.activation.code, true);
  layer.activation.params.forEach((p, j) => view.setFloat32(at + 16 + 4 * j, p, true));
  view.setUint32(at + 28, layer.slopesPtr, true);
}

/** A dense layer of a Sequential model: `inputDim` is needed on the first layer only. */
export type LayerSpec = Omit<DenseConfig, 'inputDim'> & { inputDim?: number };

/**
 * A stack of dense layers run by one wasm call per `predict`: the activations between layers stay in
 * wasm memory, in two buffers that are reused across calls and grow only with the batch.
 */
export class Sequential {
  readonly layers: readonly DenseLayer[];
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
    let width = specs[0]?.inputDim;
    if (width === undefined) fail('INVALID_ARGUMENT', 'the first layer needs inputDim');
    specs.forEach((spec, i) => {
      if (spec === null || typeof spec !== 'object') fail('INVALID_ARGUMENT', `layer ${i} must be an object`);
      if (i > 0 && spec.inputDim !== undefined && spec.inputDim !== width) {
        fail('SHAPE_MISMATCH', `layer ${i} has inputDim ${spec.inputDim} but the previous layer has ${width} units`);
      }
      configs.push({ seed: i, ...spec, inputDim: width! });
      width = spec.units;
    });
    const layers: DenseLayer[] = [];
    try {
      for (const config of configs) layers.push(new DenseLayer(ctx, config));
    } catch (e) {
      for (const layer of layers) layer.dispose();
      throw e;
    }
    this.layers = layers;
    this.#ctx = ctx;
    this.#table = ctx.heap.alloc(layers.length * LAYER_DESC_BYTES);
    const view = new DataView(ctx.heap.memory.buffer);
    layers.forEach((layer, i) => writeLayerDesc(view, this.#table + i * LAYER_DESC_BYTES, layer));
  }

  get inputDim(): number {
    return this.layers[0]!.inputDim;
  }

  get outputDim(): number {
    return this.layers.at(-1)!.units;
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
    if (!Array.isArray(weights) || weights.length !== this.layers.length * 2) {
      fail('SHAPE_MISMATCH', `setWeights needs ${this.layers.length * 2} arrays (kernel and bias per layer), got ${Array.isArray(weights) ? weights.length : typeof weights}`);
    }
    this.layers.forEach((l, i) => {
      checkLength(weights[2 * i]!, l.inputDim * l.units, `kernel of layer ${i}`);
      checkLength(weights[2 * i + 1]!, l.units, `bias of layer ${i}`);
    });
    this.layers.forEach((l, i) => l.setWeights(weights[2 * i]!, weights[2 * i + 1]!));
  }

  /** Scratch for `batch` rows; reallocated only when the batch exceeds every earlier one. */
  #reserve(batch: number): Workspace {
    if (this.#workspace && batch <= this.#capacity) return this.#workspace;
    const hidden = Math.max(0, ...this.layers.slice(0, -1).map((l) => l.units));
    const ptrs = this.#ctx.allocAll([this.inputDim, hidden, hidden, this.outputDim].map((w) => batch * w));
    this.#releaseWorkspace();
    const [x, a, b, y] = ptrs as [number, number, number, number];
    const scratch = Math.max(...this.layers.map((l) => this.#ctx.wasm.simdnet_dense_scratch_len(batch, l.inputDim, l.units, l.activation.code)));
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
   * Float32Array `[batch × inputDim]` (or a Tensor whose last axis is inputDim) → new Float32Array
   * `[batch × outputDim]`. After the first call at a given batch size, nothing is allocated.
   */
  predict(input: Float32Array | Tensor, batch?: number): Float32Array {
    this.#assertAlive();
    const { heap, wasm } = this.#ctx;
    let rows: number;
    let source: number | null = null;
    if (input instanceof Tensor) {
      source = this.#ctx.tensorPtr(input, 'input');
      if (input.shape.at(-1) !== this.inputDim) {
        fail('SHAPE_MISMATCH', `input shape [${input.shape.join(', ')}] must end in inputDim ${this.inputDim}`);
      }
      rows = input.rows;
    } else {
      rows = batchOf(input, this.inputDim, batch);
    }
    const ws = this.#reserve(rows);
    if (source === null) {
      heap.write(ws.x, input as Float32Array);
      source = ws.x;
    }
    const scratch = this.#ctx.scratch(ws.scratch);
    const status = wasm.simdnet_model_forward(this.#table, this.layers.length, source, rows, ws.a, ws.b, ws.y, scratch);
    if (status !== 0) fail('UNKNOWN_ACTIVATION', `the kernel has no dense form of layer ${status - 1}'s ${this.layers[status - 1]!.activation.name}`);
    return heap.read(ws.y, rows * this.outputDim);
  }

  /** Prepares training (Keras' `compile`): loss, optimizer (fresh state) and metrics. See docs/training.md. */
  compile(options: CompileOptions): void {
    this.#assertAlive();
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
    return saveModel(this, weightsPath);
  }

  /** A Keras-like table of the layers, their output shapes and parameter counts. */
  summary(): string {
    const rows = this.layers.map((l, i) => [
      `${i === 0 ? 'dense' : `dense_${i}`} (Dense${l.activation.name === 'linear' ? '' : `, ${l.activation.name}`})`,
      `(None, ${l.units})`,
      l.paramCount.toLocaleString('en-US'),
    ]);
    const widths = [34, 20, 12];
    const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('').trimEnd();
    const rule = (ch: string) => ch.repeat(widths.reduce((a, b) => a + b, 0));
    return [
      'Model: "sequential"',
      rule('_'),
      line(['Layer (type)', 'Output Shape', 'Param #']),
      rule('='),
      ...rows.flatMap((r, i) => (i === 0 ? [line(r)] : [rule('_'), line(r)])),
      rule('='),
      `Total params: ${this.paramCount.toLocaleString('en-US')}`,
      rule('_'),
    ].join('\n');
  }

  dispose(): void {
    this.#assertAlive();
    this.#releaseWorkspace();
    this.#trainer?.dispose();
    for (const l of this.layers) l.dispose();
    this.#ctx.heap.release(this.#table);
    this.#disposed = true;
  }

  [Symbol.dispose](): void {
    if (!this.#disposed) this.dispose();
  }
}
