import {
  type ActivationName,
  type ActivationOptions,
  type ActivationSpec,
  type ResolvedActivation,
  preluSlopes,
  resolveSpec,
} from './activations.js';
import { type LayerDesc, WeightFormat } from './abi.js';
import type { Context } from './context.js';
import { checkCount, checkKeys, fail } from './errors.js';
import { type Heap, MAX_BYTES } from './memory.js';
import {
  type QuantizedWeights,
  type Quantization,
  MAX_INT8_INPUTS,
  checkQuantization,
  dequantizeWeights,
  quantizeWeights,
  readBytes,
  writeBytes,
} from './int8.js';
import { glorotUniform, seededRandom } from './random.js';
import { Tensor } from './tensor.js';

export interface DenseConfig {
  inputDim: number;
  units: number;
  /** A name, or `{ name, ...options }` (see `nn.activate`); default 'linear'. Not glu (it halves the
   * width). prelu takes `{ name: 'prelu', slope }`: one slope, or one per unit. */
  activation?: ActivationSpec;
  /** Shorthand for the activation's `alpha` option (leaky_relu's slope, elu's alpha, ...). */
  alpha?: number;
  /**
   * `inputDim × units` floats; default: Glorot-uniform from `seed`, as Keras initializes. With
   * `quantize: 'int8'`, also int8 weights as they are: `{ codes: Int8Array, scales }` (weight = code·scale, one scale per unit).
   */
  kernel?: ArrayLike<number> | QuantizedWeights;
  /** `units` floats; default zeros. */
  bias?: ArrayLike<number>;
  /** 'io': kernel is [inputDim × units] (Keras, TF.js; default); 'oi': [units × inputDim] (PyTorch, ONNX Gemm transB). */
  kernelLayout?: KernelLayout;
  /** Seed of the default kernel initializer (default 0). */
  seed?: number;
  /**
   * 'int8': the weights are stored as int8 codes with one scale per unit (quantized from the float
   * kernel here and at every setWeights), and each call quantizes its inputs row by row (see docs/int8.md).
   */
  quantize?: Quantization;
}

type KernelLayout = 'io' | 'oi';

/** DenseConfig's keys, as the runtime check of a config sees them (the type states them for TypeScript). */
export const DENSE_CONFIG_KEYS = [
  'inputDim',
  'units',
  'activation',
  'alpha',
  'kernel',
  'bias',
  'kernelLayout',
  'seed',
  'quantize',
] as const satisfies readonly (keyof DenseConfig)[];

/** Options of `apply` on a Float32Array. */
export interface ApplyOptions {
  /** A Float32Array of `batch × units` floats to write the result into (not a view of wasm memory): nothing is allocated. */
  out?: Float32Array;
}

/** Options of `apply` on a Tensor. */
export interface ApplyTensorOptions {
  /** A tensor of the result's size, not overlapping the input, to write the result into: nothing is allocated. */
  into?: Tensor;
}

/** A kernel layout, checked (default 'io'); whether the kernel is transposed ('oi'). */
function isTransposed(layout: unknown): boolean {
  if (layout !== undefined && layout !== 'io' && layout !== 'oi') {
    fail('INVALID_ARGUMENT', `kernelLayout must be 'io' or 'oi', got ${String(layout)}`);
  }
  return layout === 'oi';
}

/** A layer width: a count small enough that one row of it fits in wasm32's 4 GiB. */
function checkWidth(value: unknown, what: string): number {
  const width = checkCount(value, what);
  if (width * 4 > MAX_BYTES) fail('OUT_OF_MEMORY', `${what} ${width}: one row of it needs more than 4 GiB`);
  return width;
}

export function checkLength(values: ArrayLike<number>, expected: number, what: string): void {
  if (values === null || typeof values !== 'object' || typeof values.length !== 'number') {
    fail('INVALID_ARGUMENT', `${what} must be an array of numbers`);
  }
  if (values.length !== expected) fail('SHAPE_MISMATCH', `${what} has ${values.length} values, expected ${expected}`);
}

/** A dense layer `y = act(x·W + b)` whose weights live packed in wasm memory. */
export class DenseLayer {
  readonly inputDim: number;
  readonly units: number;
  readonly activation: ResolvedActivation;
  /** How the weights are stored: 'int8', or null for float32. */
  readonly quantization: Quantization | null;
  /** The activation as given (name and options). */
  readonly #spec: { name: ActivationName } & ActivationOptions;
  #ctx: Context;
  #packed: number;
  /** prelu's slopes in wasm memory (`units` floats), or 0. */
  #slopes = 0;
  #disposed = false;
  /** The model that owns the layer and alone may dispose it, or null. */
  #owner: object | null = null;

  /** @internal Use `nn.dense()`. */
  constructor(ctx: Context, config: DenseConfig) {
    if (config === null || typeof config !== 'object') fail('INVALID_ARGUMENT', 'dense() needs a config object');
    checkKeys(config, DENSE_CONFIG_KEYS, 'a dense layer');
    this.inputDim = checkWidth(config.inputDim, 'inputDim');
    this.units = checkWidth(config.units, 'units');
    if (this.units === 0) fail('INVALID_ARGUMENT', 'units must be a positive integer, got 0');
    const extra = config.alpha === undefined ? {} : { alpha: config.alpha };
    this.activation = resolveSpec(config.activation, extra);
    const slopes = this.activation.name === 'prelu' ? preluSlopes((config.activation as ActivationOptions).slope, this.units) : null;
    this.#spec =
      typeof config.activation === 'object' && config.activation !== null
        ? { ...extra, ...config.activation, ...(slopes ? { slope: Array.from(slopes) } : {}) }
        : { name: this.activation.name, ...extra };
    if (this.activation.name === 'glu')
      fail('INVALID_ARGUMENT', 'a dense layer cannot apply glu (it halves the width): apply it with nn.activate');
    const transposed = isTransposed(config.kernelLayout);
    this.quantization = config.quantize === undefined ? null : checkQuantization(config.quantize);
    if (this.quantization && this.inputDim > MAX_INT8_INPUTS) {
      fail('INVALID_ARGUMENT', `an int8 layer takes at most ${MAX_INT8_INPUTS} inputs (its sums are int32), got ${this.inputDim}`);
    }
    this.#ctx = ctx;
    const given = this.#checkWeights(config.kernel, config.bias);
    const seed = checkCount(config.seed ?? 0, 'seed');
    const name = `dense ${this.inputDim}→${this.units}`;
    const packedLen = this.quantization ? ctx.wasm.simdnet_qdense_packed_len : ctx.wasm.simdnet_dense_packed_len;
    const packedFloats = ctx.kernelLen(packedLen(this.inputDim, this.units), `the weights of ${name}`);
    const bias = config.bias && ctx.heap.stable(config.bias);
    // Allocated before the default kernel is drawn, so that a layer too large for memory fails fast.
    const [packed, slopesPtr] = ctx.allocAll([packedFloats, ...(slopes ? [slopes.length] : [])]);
    [this.#packed, this.#slopes] = [packed!, slopesPtr ?? 0];
    try {
      if (slopes) ctx.heap.write(this.#slopes, slopes);
      this.#pack(given ?? glorotUniform(this.inputDim, this.units, seededRandom(seed)), bias, transposed);
    } catch (e) {
      this.#release();
      throw e;
    }
  }

  /** The activation as given, which is what a saved model records; prelu's slopes as they are now (training learns them). */
  get activationSpec(): { name: ActivationName } & ActivationOptions {
    return this.#slopes === 0 ? this.#spec : { ...this.#spec, slope: Array.from(this.slopes()) };
  }

  /** prelu's slopes (`units` floats, a copy), or an empty array. */
  slopes(): Float32Array {
    this.#assertAlive();
    return this.#ctx.heap.read(this.#slopes, this.#slopes === 0 ? 0 : this.units);
  }

  get disposed(): boolean {
    return this.#disposed;
  }

  /** @internal Byte address of prelu's slopes, or 0. */
  get slopesPtr(): number {
    this.#assertAlive();
    return this.#slopes;
  }

  /** @internal Byte address of the packed weights. */
  get packedPtr(): number {
    this.#assertAlive();
    return this.#packed;
  }

  #assertAlive(): void {
    if (this.#disposed) fail('DISPOSED', `dense layer ${this.inputDim}→${this.units} was disposed`);
  }

  /** The kernel checked (copied out of wasm memory, whose growth would detach a view of it), or undefined. */
  #checkWeights(
    kernel: ArrayLike<number> | QuantizedWeights | undefined,
    bias: ArrayLike<number> | undefined,
  ): ArrayLike<number> | QuantizedWeights | undefined {
    const name = `dense ${this.inputDim}→${this.units}`;
    if (bias !== undefined) checkLength(bias, this.units, `bias of ${name}`);
    if (kernel === undefined) return undefined;
    if (kernel === null || typeof kernel !== 'object' || !('codes' in kernel)) {
      checkLength(kernel, this.inputDim * this.units, `kernel of ${name}`);
      return this.#ctx.heap.stable(kernel);
    }
    if (!this.quantization) fail('INVALID_ARGUMENT', `int8 codes given to ${name}, which is not quantized: pass quantize: 'int8'`);
    const { codes, scales } = kernel;
    if (!(codes instanceof Int8Array)) fail('INVALID_ARGUMENT', `the codes of ${name} must be an Int8Array`);
    checkLength(codes, this.inputDim * this.units, `codes of ${name}`);
    checkLength(scales, this.units, `scales of ${name}`);
    return { codes: codes.slice(), scales: Float32Array.from(this.#ctx.heap.stable(scales)) };
  }

  get paramCount(): number {
    return this.inputDim * this.units + this.units;
  }

  #pack(kernel: ArrayLike<number> | QuantizedWeights, bias: ArrayLike<number> | undefined, transposed: boolean): void {
    this.#ctx.withBlocks([this.stagingFloats, this.units], (k, b) => this.packVia(k!, b!, kernel, bias, transposed));
  }

  /** @internal Floats of the block `packVia` stages the kernel in: the floats, or the int8 codes (4 a float) and scales. */
  get stagingFloats(): number {
    const count = this.inputDim * this.units;
    return this.quantization ? Math.ceil(count / 4) + this.units : count;
  }

  /** The int8 codes ([inputDim × units]), one scale per unit, and the bias of a quantized layer, copies. */
  getQuantizedWeights(): { codes: Int8Array; scales: Float32Array; bias: Float32Array } {
    const packed = this.packedPtr;
    if (!this.quantization) fail('INVALID_ARGUMENT', `dense layer ${this.inputDim}→${this.units} is not quantized`);
    const { wasm, heap } = this.#ctx;
    const count = this.inputDim * this.units;
    return this.#ctx.withBlocks([Math.ceil(count / 4), this.units, this.units], (c, s, b) => {
      wasm.simdnet_qdense_unpack(packed, this.inputDim, this.units, c!, s!, b!);
      return { codes: readBytes(heap, c!, count), scales: heap.read(s!, this.units), bias: heap.read(b!, this.units) };
    });
  }

  /**
   * @internal Packs `kernel` (floats, quantized here for an int8 layer, or int8 weights as they are)
   * and `bias` (checked, and not views of wasm memory) through the temporary blocks `k`
   * (`stagingFloats`) and `b` (`units` floats); allocates nothing.
   */
  packVia(
    k: number,
    b: number,
    kernel: ArrayLike<number> | QuantizedWeights,
    bias: ArrayLike<number> | undefined,
    transposed: boolean,
  ): void {
    const { wasm, heap } = this.#ctx;
    if (bias) heap.write(b, bias);
    const [inputs, units, t] = [this.inputDim, this.units, transposed ? 1 : 0];
    if (!this.quantization) {
      heap.write(k, kernel as ArrayLike<number>);
      wasm.simdnet_dense_pack(k, bias ? b : 0, inputs, units, t, this.packedPtr);
      return;
    }
    const { codes, scales } = 'codes' in kernel ? kernel : quantizeWeights(kernel, inputs, units, transposed);
    const scalesAt = k + 4 * Math.ceil(codes.length / 4);
    writeBytes(heap, k, codes);
    heap.write(scalesAt, scales);
    wasm.simdnet_qdense_pack(k, scalesAt, bias ? b : 0, inputs, units, t, this.packedPtr);
  }

  /**
   * Replaces the weights: `setWeights(kernel, bias?, kernelLayout?)`, or the array `getWeights()`
   * returns (`setWeights([kernel, bias])`, as Keras' `layer.set_weights`). The kernel is in
   * [inputDim × units] layout unless `kernelLayout` is 'oi'. Also on a layer of a model, whose
   * predictions then use them.
   */
  setWeights(weights: readonly [kernel: ArrayLike<number> | QuantizedWeights, bias?: ArrayLike<number>]): void;
  setWeights(kernel: ArrayLike<number> | QuantizedWeights, bias?: ArrayLike<number>, kernelLayout?: KernelLayout): void;
  setWeights(
    kernelOrWeights: ArrayLike<number> | QuantizedWeights | readonly [ArrayLike<number> | QuantizedWeights, ArrayLike<number>?],
    bias?: ArrayLike<number>,
    kernelLayout: KernelLayout = 'io',
  ): void {
    this.#assertAlive();
    if (kernelOrWeights === undefined) fail('INVALID_ARGUMENT', 'setWeights needs a kernel');
    // The array form: an array of arrays (a kernel is an array of numbers, never of arrays).
    const listed = Array.isArray(kernelOrWeights) && kernelOrWeights.length > 0 && typeof kernelOrWeights[0] === 'object';
    if (listed && (kernelOrWeights.length > 2 || bias !== undefined)) {
      fail(
        'INVALID_ARGUMENT',
        `setWeights([kernel, bias]) takes one array of at most 2 arrays, got ${kernelOrWeights.length} and ${bias === undefined ? 'no' : 'a'} second argument`,
      );
    }
    const [kernel, b] = listed
      ? (kernelOrWeights as [ArrayLike<number> | QuantizedWeights, ArrayLike<number>?])
      : [kernelOrWeights as ArrayLike<number> | QuantizedWeights, bias];
    const checked = this.#checkWeights(kernel, b)!;
    const transposed = isTransposed(kernelLayout);
    this.#pack(checked, b && this.#ctx.heap.stable(b), transposed);
  }

  /** `[kernel [inputDim × units], bias [units]]`, copies; a quantized layer's kernel dequantized (code·scale). */
  getWeights(): [kernel: Float32Array, bias: Float32Array] {
    const packed = this.packedPtr;
    if (this.quantization) {
      const { codes, scales, bias } = this.getQuantizedWeights();
      return [dequantizeWeights(codes, scales), bias];
    }
    const { wasm, heap } = this.#ctx;
    return this.#ctx.withBlocks([this.inputDim * this.units, this.units], (k, b) => {
      wasm.simdnet_dense_unpack(packed, this.inputDim, this.units, k!, b!);
      return [heap.read(k!, this.inputDim * this.units), heap.read(b!, this.units)];
    });
  }

  /** @internal How the packed weights are stored (ts/abi.ts `WeightFormat`), for a model's table. */
  get weightFormat(): number {
    return this.quantization ? WeightFormat.int8 : WeightFormat.f32;
  }

  /** @internal The layer's entry in a model's table (ts/abi.ts `LayerDesc`). */
  get desc(): LayerDesc {
    const { code, params } = this.activation;
    return { packed: this.packedPtr, inputs: this.inputDim, outputs: this.units, activation: code, params, slopes: this.#slopes };
  }

  /** @internal Floats of scratch `run` needs for `batch` rows. */
  scratchFloats(batch: number): number {
    const { wasm } = this.#ctx;
    const scratchLen = this.quantization ? wasm.simdnet_qdense_scratch_len : wasm.simdnet_dense_scratch_len;
    return this.#ctx.kernelLen(scratchLen(batch, this.inputDim, this.units, this.activation.code), 'scratch');
  }

  /** @internal Runs the kernel on addresses already in wasm memory (`x` and `y` disjoint). */
  run(x: number, batch: number, y: number, scratch: number): void {
    const {
      code,
      params: [p0, p1, p2],
    } = this.activation;
    const { wasm } = this.#ctx;
    const dense = this.quantization ? wasm.simdnet_qdense : wasm.simdnet_dense;
    if (dense(x, batch, this.inputDim, this.units, this.packedPtr, code, p0, p1, p2, this.#slopes, y, scratch) !== 0) {
      fail('UNKNOWN_ACTIVATION', `the kernel has no dense form of ${this.activation.name} (code ${code})`);
    }
  }

  /**
   * Float32Array `[batch × inputDim]` in (batch defaults to length / inputDim) → new Float32Array
   * `[batch × units]`, or `options.out` overwritten; or a Tensor whose last axis is inputDim → a new
   * Tensor with last axis units, or `options.into`, a tensor of that size that does not overlap the
   * input, overwritten (nothing allocated).
   */
  apply(input: Float32Array, batch?: number, options?: ApplyOptions): Float32Array;
  apply(input: Tensor, options?: ApplyTensorOptions): Tensor;
  apply(input: Float32Array | Tensor, batchOrOptions?: number | ApplyTensorOptions, options?: ApplyOptions): Float32Array | Tensor;
  apply(input: Float32Array | Tensor, batchOrOptions?: number | ApplyTensorOptions, options?: ApplyOptions): Float32Array | Tensor {
    this.#assertAlive();
    const ctx = this.#ctx;
    const { heap } = ctx;
    if (input instanceof Tensor) {
      const x = ctx.tensorPtr(input, 'input');
      const last = input.shape.at(-1);
      if (input.shape.length === 0 || last !== this.inputDim) {
        fail('SHAPE_MISMATCH', `input shape [${input.shape.join(', ')}] must end in inputDim ${this.inputDim}`);
      }
      const into = tensorOptions(batchOrOptions, 'apply');
      const rows = input.rows;
      // The kernel reads x after it starts writing y: they must not overlap at all.
      const given = into === undefined ? undefined : ctx.outputPtr(into, rows * this.units, input, 'disjoint');
      return ctx.call(given === undefined ? [rows * this.units] : [], [], this.scratchFloats(rows), (ptrs, scratch) => {
        const y = given ?? ptrs[0]!;
        this.run(x, rows, y, scratch);
        return into ?? new Tensor(heap, y, [...input.shape.slice(0, -1), this.units]);
      });
    }
    const rows = batchOf(input, this.inputDim, batchOrOptions as number | undefined);
    const out = outArrayOf(options, rows * this.units, heap);
    const values = heap.stable(input);
    return ctx.call([], [values.length, rows * this.units], this.scratchFloats(rows), ([x, y], scratch) => {
      heap.write(x!, values);
      this.run(x!, rows, y!, scratch);
      return heap.readInto(y!, rows * this.units, out);
    });
  }

  /**
   * @internal Makes `owner` (a model) the only one that may dispose the layer: its table holds the
   * layer's addresses, which must stay valid as long as the model lives.
   */
  ownBy(owner: object): void {
    this.#owner = owner;
  }

  /** @internal The owning model's disposal of the layer. */
  disposeBy(owner: object): void {
    if (owner !== this.#owner) fail('INVALID_ARGUMENT', 'only the model that owns a layer disposes it');
    this.#owner = null;
    this.dispose();
  }

  /** Frees the weights; a layer of a model is freed with the model (INVALID_ARGUMENT here). */
  dispose(): void {
    this.#assertAlive();
    if (this.#owner !== null) {
      fail('INVALID_ARGUMENT', `dense layer ${this.inputDim}→${this.units} is owned by a model; dispose the model`);
    }
    this.#release();
    this.#disposed = true;
  }

  #release(): void {
    this.#ctx.heap.release(this.#packed);
    if (this.#slopes !== 0) this.#ctx.heap.release(this.#slopes);
  }

  [Symbol.dispose](): void {
    if (!this.#disposed) this.dispose();
  }
}

/** The batch of a flat `[batch × width]` input, checked against its length. */
export function batchOf(input: unknown, width: number, batch: number | undefined): number {
  if (!(input instanceof Float32Array)) fail('INVALID_ARGUMENT', 'input must be a Float32Array or a Tensor');
  if (batch === undefined) {
    if (width === 0) fail('INVALID_ARGUMENT', 'batch must be given when the input width is 0');
    if (input.length % width !== 0) {
      fail('SHAPE_MISMATCH', `input length ${input.length} is not a multiple of the input width ${width}`);
    }
    return input.length / width;
  }
  checkCount(batch, 'batch');
  if (input.length !== batch * width) {
    fail('SHAPE_MISMATCH', `input length ${input.length} != batch ${batch} × input width ${width}`);
  }
  return batch;
}

/** The `into` tensor of options given with a Tensor input (INVALID_ARGUMENT for anything else). */
export function tensorOptions(options: unknown, method: string): Tensor | undefined {
  if (options === undefined) return undefined;
  if (options === null || typeof options !== 'object')
    fail('INVALID_ARGUMENT', `${method}(tensor, options): options must be an object, got ${String(options)}`);
  checkKeys(options, ['into'], `${method}(tensor, options)`);
  return (options as ApplyTensorOptions).into;
}

/**
 * The `out` array of a layer's or model's options on a Float32Array input: exactly `size` floats, and
 * not a view of wasm memory (their buffers may grow it mid-call, which would detach such a view;
 * nn.activate, which streams through a fixed scratch, accepts one: see ts/activate.ts).
 */
export function outArrayOf(options: unknown, size: number, heap: Heap): Float32Array | undefined {
  if (options === undefined) return undefined;
  if (options === null || typeof options !== 'object') fail('INVALID_ARGUMENT', `options must be an object, got ${String(options)}`);
  checkKeys(options, ['out'], 'a call on a Float32Array');
  const { out } = options as ApplyOptions;
  if (out === undefined) return undefined;
  if (!(out instanceof Float32Array)) fail('INVALID_ARGUMENT', 'out must be a Float32Array');
  // A view of wasm memory would be emptied by any growth during the call: tensors take `into`.
  if (!heap.outside(out)) fail('INVALID_ARGUMENT', 'out may not be a view of wasm memory: pass the tensor and use into');
  if (out.length !== size) fail('SHAPE_MISMATCH', `out has ${out.length} values, the result has ${size}`);
  return out;
}
