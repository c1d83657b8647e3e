import { StepMode, TRAIN_LAYER_BYTES, TRAIN_STEP_BYTES, readTrainStepLoss, writeTrainLayer, writeTrainStep } from '../abi.js';
import type { Context } from '../context.js';
import type { DenseLayer } from '../dense.js';
import { fail } from '../errors.js';
import { Tensor } from '../tensor.js';
import { type LossSpec, type ResolvedLoss, resolveLoss } from './losses.js';
import { type MetricName, type Logs, computeMetrics, resolveMetrics } from './metrics.js';
import { type OptimizerSpec, type ResolvedOptimizer, optimizerDesc, resolveOptimizer, stateSlots } from './optimizers.js';

export interface CompileOptions {
  /** Default 'rmsprop', as Keras. */
  optimizer?: OptimizerSpec;
  loss: LossSpec;
  metrics?: readonly string[];
}

/** prelu's slopes padded to whole vectors of 4, as the kernel updates them (`Slopes` of crate/src/train/step.rs). */
const paddedSlopes = (units: number) => Math.ceil(units / 4) * 4;

type Mode = (typeof StepMode)[keyof typeof StepMode];

/** Targets as the training calls take them: values, or class ids for the sparse loss. */
export type Targets = Float32Array | Int32Array | Uint8Array;

/** A checked data set: n samples of inputs, and targets (n × units values, or n class ids). */
export interface Dataset {
  readonly x: Float32Array;
  readonly y: Targets;
  readonly n: number;
}

/** Buffers that grow with the batch: inputs, targets, the two gradient buffers, each layer's z and a. */
interface BatchBuffers {
  x: number;
  targets: number;
  gradA: number;
  gradB: number;
  z: number[];
  a: number[];
  scratchFloats: number;
}

/**
 * What `compile()` makes: the loss, the optimizer and its state in wasm memory (zeroed), and the
 * training table the one-call step walks. Buffers that depend on the batch grow with it only.
 */
export class Trainer {
  readonly loss: ResolvedLoss;
  readonly optimizer: ResolvedOptimizer;
  readonly metrics: readonly MetricName[];
  readonly #ctx: Context;
  readonly layers: readonly DenseLayer[];
  readonly #table: number;
  readonly #step: number;
  /** Per layer: the packed gradient, then the three state slots (0 where unused). */
  readonly #grads: number[];
  readonly #states: [number, number, number][];
  #iterations = 0;
  #batch: BatchBuffers | null = null;
  #capacity = 0;
  #disposed = false;

  constructor(ctx: Context, layers: readonly DenseLayer[], options: CompileOptions) {
    if (options === null || typeof options !== 'object') fail('INVALID_ARGUMENT', 'compile() needs { optimizer, loss, metrics }');
    this.loss = resolveLoss(options.loss);
    this.optimizer = resolveOptimizer(options.optimizer ?? 'rmsprop');
    // Layers have at least one unit (dense() refuses units: 0); a layer without inputs has only a bias.
    const empty = layers.findIndex((l) => l.inputDim === 0);
    if (empty >= 0) fail('INVALID_ARGUMENT', `layer ${empty} has no inputs: there is nothing to train`);
    const output = layers.at(-1)!;
    this.metrics = resolveMetrics(options.metrics ?? [], this.loss, output.units);
    const slots = stateSlots(this.optimizer);
    // Per layer, floats of the gradient and of each state array (`TrainLayer` of crate/src/abi.rs).
    const sizes = layers.map((l) => {
      const packed = ctx.wasm.simdnet_dense_packed_len(l.inputDim, l.units);
      const slopes = l.activation.name === 'prelu' ? paddedSlopes(l.units) : 0;
      return { grad: packed + 2 * slopes, state: packed + slopes };
    });
    const arrayFloats = sizes.flatMap((n) => [n.grad, ...slots.map(() => n.state)]);
    const ptrs = ctx.allocAll([(layers.length * TRAIN_LAYER_BYTES) / 4, TRAIN_STEP_BYTES / 4, ...arrayFloats]);
    [this.#table, this.#step] = ptrs as [number, number];
    this.#grads = [];
    this.#states = [];
    let next = 2;
    sizes.forEach(({ grad, state: stateFloats }) => {
      const arrays = ptrs.slice(next, next + 1 + slots.length);
      next += arrays.length;
      // Gradients and optimizer state start at zero, and padding must stay zero.
      arrays.forEach((p, i) => ctx.heap.f32.fill(0, p / 4, p / 4 + (i === 0 ? grad : stateFloats)));
      this.#grads.push(arrays[0]!);
      const state: [number, number, number] = [0, 0, 0];
      slots.forEach((slot, i) => (state[slot] = arrays[1 + i]!));
      this.#states.push(state);
    });
    this.#ctx = ctx;
    this.layers = layers;
  }

  get inputDim(): number {
    return this.layers[0]!.inputDim;
  }

  get outputDim(): number {
    return this.layers.at(-1)!.units;
  }

  /** Optimizer steps taken since `compile()` (Keras' `optimizer.iterations`). */
  get iterations(): number {
    return this.#iterations;
  }

  /** Checks inputs and targets, and returns them as a data set (a Tensor's values copied out). */
  dataset(x: unknown, y: unknown, what = ''): Dataset {
    const { heap } = this.#ctx;
    // Views of wasm memory (a tensor's .data) are copied: the steps' buffers may grow the memory.
    const inputs =
      x instanceof Tensor ? heap.read(this.#ctx.tensorPtr(x, `x${what}`), x.size) : x instanceof Float32Array ? heap.stable(x) : x;
    if (!(inputs instanceof Float32Array)) fail('INVALID_ARGUMENT', `x${what} must be a Float32Array or a Tensor`);
    if (inputs.length % this.inputDim !== 0)
      fail('SHAPE_MISMATCH', `x${what} has ${inputs.length} values, not a multiple of inputDim ${this.inputDim}`);
    const n = inputs.length / this.inputDim;
    const units = this.outputDim;
    if (this.loss.sparse) {
      if (!(y instanceof Int32Array || y instanceof Uint8Array || y instanceof Float32Array)) {
        fail('INVALID_ARGUMENT', `y${what} must hold class ids (Int32Array, Uint8Array or Float32Array) for ${this.loss.name}`);
      }
      if (y.length !== n) fail('SHAPE_MISMATCH', `y${what} has ${y.length} class ids for ${n} samples`);
      const bad = y.findIndex((c) => !Number.isInteger(c) || c < 0 || c >= units);
      if (bad >= 0) fail('INVALID_ARGUMENT', `y${what}[${bad}] = ${y[bad]} is not a class id in [0, ${units})`);
    } else {
      if (!(y instanceof Float32Array)) fail('INVALID_ARGUMENT', `y${what} must be a Float32Array of ${n} × ${units} targets`);
      if (y.length !== n * units)
        fail('SHAPE_MISMATCH', `y${what} has ${y.length} values; ${n} samples × ${units} units need ${n * units}`);
    }
    if (n === 0) fail('INVALID_ARGUMENT', `x${what} holds no samples`);
    return { x: inputs, y: heap.stable(y as Targets) as Targets, n };
  }

  /**
   * Copies samples `order[start .. start + rows]` (or `start ..` when `order` is null) into the batch
   * buffers and runs a step; returns the batch's mean loss.
   */
  step(data: Dataset, order: Int32Array | null, start: number, rows: number, mode: Mode): number {
    // A callback of fit() may have recompiled or disposed the model between two steps.
    if (this.#disposed) fail('DISPOSED', 'the model was recompiled or disposed during training');
    const b = this.#reserve(rows);
    const { heap, wasm } = this.#ctx;
    const scratch = this.#ctx.scratch(b.scratchFloats);
    const [inputs, units] = [this.inputDim, this.outputDim];
    const f32 = heap.f32;
    const [x, y, sparse] = [data.x, data.y, this.loss.sparse];
    if (sparse) f32.fill(0, b.targets / 4, b.targets / 4 + rows * units);
    if (!order) {
      // Consecutive samples: one copy each (a subarray per row would make a garbage object per row).
      f32.set(x.subarray(start * inputs, (start + rows) * inputs), b.x / 4);
      if (!sparse) f32.set(y.subarray(start * units, (start + rows) * units), b.targets / 4);
    }
    for (let r = 0; r < rows; r++) {
      const i = order ? order[start + r]! : start + r;
      if (order) copyRow(x, i * inputs, f32, b.x / 4 + r * inputs, inputs);
      if (sparse) f32[b.targets / 4 + r * units + y[i]!] = 1;
      else if (order) copyRow(y, i * units, f32, b.targets / 4 + r * units, units);
    }
    const t = mode === StepMode.update ? this.#iterations + 1 : 1;
    const { code, fromLogits, delta } = this.loss;
    writeTrainStep(heap.memory, this.#step, {
      layers: this.#table,
      count: this.layers.length,
      x: b.x,
      targets: b.targets,
      batch: rows,
      gradientA: b.gradA,
      gradientB: b.gradB,
      scratch,
      mode,
      loss: { code, fromLogits, delta },
      optimizer: optimizerDesc(this.optimizer, t),
    });
    const status = wasm.simdnet_train_step(this.#step);
    if (status !== 0) fail('UNKNOWN_ACTIVATION', `the training kernel cannot run layer ${status - 1} (status ${status})`);
    if (mode === StepMode.update) this.#iterations = t;
    return readTrainStepLoss(heap.memory, this.#step);
  }

  /** The last step's outputs and (one-hot for sparse labels) targets, `rows × units` each. */
  lastBatch(rows: number): { predictions: Float32Array; targets: Float32Array } {
    const b = this.#batch!;
    const units = this.outputDim;
    return { predictions: this.#ctx.heap.read(b.a.at(-1)!, rows * units), targets: this.#ctx.heap.read(b.targets, rows * units) };
  }

  /** One optimizer step on one batch: the loss and metrics of the batch, before the update (as Keras). */
  trainOnBatch(x: unknown, y: unknown): Logs {
    const data = this.dataset(x, y);
    const loss = this.step(data, null, 0, data.n, StepMode.update);
    const { predictions, targets } = this.lastBatch(data.n);
    return { loss, ...computeMetrics(this.metrics, targets, predictions) };
  }

  /**
   * The gradient of the mean loss over `x`, `y` for every layer, `[kernel0, bias0, ...]`, a prelu
   * layer's slopes after its bias (nothing updated).
   */
  gradients(x: unknown, y: unknown): Float32Array[] {
    const data = this.dataset(x, y);
    this.step(data, null, 0, data.n, StepMode.gradients);
    const { heap, wasm } = this.#ctx;
    return this.layers.flatMap((l, i) =>
      this.#ctx.withBlocks([l.inputDim * l.units, l.units], (k, b) => {
        const packed = wasm.simdnet_dense_packed_len(l.inputDim, l.units);
        wasm.simdnet_dense_unpack(this.#grads[i]!, l.inputDim, l.units, k!, b!);
        const slopes = l.activation.name === 'prelu' ? [heap.read(this.#grads[i]! + 4 * packed, l.units)] : [];
        return [heap.read(k!, l.inputDim * l.units), heap.read(b!, l.units), ...slopes];
      }),
    );
  }

  /** Per layer: live views (valid until the next allocation) of the last step's pre-activations and weight gradient. */
  layerViews(rows: number): { z: Float32Array; grad: Float32Array }[] {
    const f32 = this.#ctx.heap.f32;
    return this.layers.map((l, i) => {
      const [z, grad] = [this.#batch!.z[i]! / 4, this.#grads[i]! / 4];
      return {
        z: f32.subarray(z, z + rows * l.units),
        grad: f32.subarray(grad, grad + this.#ctx.wasm.simdnet_dense_packed_len(l.inputDim, l.units)),
      };
    });
  }

  /** Buffers for `rows` samples; reallocated (all or none) only when the batch exceeds every earlier one. */
  #reserve(rows: number): BatchBuffers {
    if (this.#batch && rows <= this.#capacity) return this.#batch;
    const layers = this.layers;
    const widest = Math.max(...layers.map((l) => l.units));
    // A linear layer's activation is its pre-activation: one buffer serves as both.
    const nonlinear = layers.filter((l) => l.activation.name !== 'linear');
    const ptrs = this.#ctx.allocAll([
      rows * this.inputDim,
      rows * this.outputDim,
      rows * widest,
      rows * widest,
      ...layers.map((l) => rows * l.units),
      ...nonlinear.map((l) => rows * l.units),
    ]);
    this.#releaseBatch();
    const [x, targets, gradA, gradB] = ptrs as [number, number, number, number];
    const z = ptrs.slice(4, 4 + layers.length);
    const own = ptrs.slice(4 + layers.length);
    const a = layers.map((l, i) => (l.activation.name === 'linear' ? z[i]! : own.shift()!));
    layers.forEach((layer, i) => {
      const buffers = { z: z[i]!, a: a[i]!, grad: this.#grads[i]!, state: this.#states[i]! };
      writeTrainLayer(this.#ctx.heap.memory, this.#table + i * TRAIN_LAYER_BYTES, { desc: layer.desc, ...buffers });
    });
    const scratchFloats = this.#ctx.kernelLen(
      this.#ctx.wasm.simdnet_train_scratch_len(this.#table, layers.length, rows),
      'training scratch',
    );
    this.#batch = { x, targets, gradA, gradB, z, a, scratchFloats };
    this.#capacity = rows;
    return this.#batch;
  }

  #releaseBatch(): void {
    if (!this.#batch) return;
    const { x, targets, gradA, gradB, z, a } = this.#batch;
    for (const p of new Set([x, targets, gradA, gradB, ...z, ...a])) this.#ctx.heap.release(p);
    this.#batch = null;
    this.#capacity = 0;
  }

  dispose(): void {
    this.#disposed = true;
    this.#releaseBatch();
    for (const p of [this.#table, this.#step, ...this.#grads, ...this.#states.flat().filter((p) => p !== 0)]) this.#ctx.heap.release(p);
  }
}

/** `count` values from `from[at..]` to `to[into..]`, by a loop: for rows of tens of floats this beats a subarray and `set`, and makes no garbage. */
function copyRow(from: ArrayLike<number>, at: number, to: Float32Array, into: number, count: number): void {
  for (let k = 0; k < count; k++) to[into + k] = from[at + k]!;
}
