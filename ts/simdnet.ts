import { type ActivateOptions, activate, activateBackward } from './activate.js';
import type { ActivationName } from './activations.js';
import { Context } from './context.js';
import { type DenseConfig, DenseLayer } from './dense.js';
import { fail } from './errors.js';
import { type ModelSource, readModel } from './io/load.js';
import type { LoadModelOptions } from './io/read.js';
import {
  type InitOptions,
  type Variant,
  instantiate,
  instantiateThreaded,
  loadModule,
  requestedThreads,
  sharedMemory,
  threadedBuildUnavailable,
} from './loader.js';
import { Heap } from './memory.js';
import { type LayerSpec, Sequential } from './sequential.js';
import { Tensor, checkShape } from './tensor.js';
import { Pool, poolUnavailable } from './threads/pool.js';

/** Builds by `simdnet_build()`'s answer. */
const BUILDS: readonly Variant[] = ['scalar', 'simd', 'relaxed'];

/** One loaded simdnet module with its memory: what `init()` returns. */
export class Simdnet {
  /** Which build runs: 'relaxed' (relaxed SIMD), 'simd' (SIMD128) or 'scalar' (no SIMD). */
  readonly variant: Variant;
  readonly #ctx: Context;
  readonly #threadsReason: string | undefined;

  /** @internal Use `init()`. */
  constructor(ctx: Context, threadsReason?: string) {
    this.#ctx = ctx;
    this.variant = BUILDS[ctx.wasm.simdnet_build()]!;
    this.#threadsReason = threadsReason;
  }

  /**
   * The threads that run large dense layers, models and activations: 1 unless `init({ threads })`
   * started more and they still run.
   */
  get threads(): number {
    return this.#ctx.threads;
  }

  /** @internal For tests. */
  get pool(): Pool | undefined {
    return this.#ctx.pool;
  }

  /** Calls split across the threads so far (smaller ones run on the calling thread alone): a diagnostic. */
  get threadedCalls(): number {
    return this.#ctx.pool?.jobs ?? 0;
  }

  /** Why fewer threads run than `init({ threads })` asked for (undefined when they all run, or one was asked for). */
  get threadsReason(): string | undefined {
    const pool = this.#ctx.pool;
    if (pool?.failure !== undefined) return pool.failure;
    if (pool !== undefined && !pool.running) return 'dispose() stopped the pool';
    return this.#threadsReason;
  }

  /**
   * Stops the worker threads (a Node process with an idle pool exits anyway: they do not hold it);
   * later calls run on one thread. Tensors, layers and models stay usable.
   */
  dispose(): void {
    this.#ctx.pool?.stop();
  }

  /** The module's memory (for diagnostics; views of it die when it grows). */
  get memory(): WebAssembly.Memory {
    return this.#ctx.heap.memory;
  }

  /** Bytes held by live tensors, layers and models (not the kernels' shared scratch). */
  get allocatedBytes(): number {
    return this.#ctx.heap.allocatedBytes - this.#ctx.scratchBytes - (this.#ctx.pool?.bytes ?? 0);
  }

  /** Copies `data` into wasm memory as a tensor of `shape` (default: one axis of data.length). */
  tensor(data: ArrayLike<number>, shape?: readonly number[]): Tensor {
    if (data === null || typeof data !== 'object' || typeof data.length !== 'number') {
      fail('INVALID_ARGUMENT', 'tensor() needs an array of numbers');
    }
    const dims = checkShape(shape ?? [data.length]);
    const size = dims.reduce((a, b) => a * b, 1);
    if (size !== data.length) fail('SHAPE_MISMATCH', `shape [${dims.join(', ')}] holds ${size} values, data has ${data.length}`);
    const { heap } = this.#ctx;
    const values = heap.stable(data);
    const ptr = heap.allocF32(size);
    try {
      heap.write(ptr, values);
    } catch (e) {
      heap.release(ptr);
      throw e;
    }
    return new Tensor(heap, ptr, dims);
  }

  /** A tensor of zeros. */
  zeros(shape: readonly number[]): Tensor {
    const dims = checkShape(shape);
    return this.tensor(new Float32Array(dims.reduce((a, b) => a * b, 1)), dims);
  }

  dense(config: DenseConfig): DenseLayer {
    return new DenseLayer(this.#ctx, config);
  }

  sequential(layers: readonly LayerSpec[]): Sequential {
    return new Sequential(this.#ctx, layers);
  }

  /**
   * A model: saved by `model.save()` (the `{ json, weights }` it returned, or the path or URL of the
   * JSON, whose weights file, named in it, sits beside it); a TF.js Layers model (the path or URL of
   * its model.json with the shards beside it, or the artifacts `tf.io` hands a save handler); or an
   * ONNX MLP (its bytes, or a path or URL ending in `.onnx`). Model files may be untrusted: weight
   * files must lie in the model file's folder (unless `allowExternalWeights`) and be exactly as long
   * as the model declares; anything malformed is INVALID_MODEL, anything unreadable IO_ERROR.
   */
  async loadModel(source: ModelSource, options?: LoadModelOptions): Promise<Sequential> {
    return this.sequential(await readModel(source, options));
  }

  /**
   * `name` applied elementwise, or along rows of `axisSize` for the row-wise ones (softmax,
   * log_softmax, softmin, sparsemax, glu; glu halves the row). Float32Array → new Float32Array, or
   * `out` (allocating nothing), or the input itself (`inPlace`); Tensor → new Tensor, or the input
   * itself (`inPlace`), or `into`.
   */
  activate(name: ActivationName, x: Float32Array, options?: ActivateOptions): Float32Array;
  activate(name: ActivationName, x: Tensor, options?: ActivateOptions): Tensor;
  activate(name: ActivationName, x: Float32Array | Tensor, options?: ActivateOptions): Float32Array | Tensor;
  activate(name: ActivationName, x: Float32Array | Tensor, options?: ActivateOptions): Float32Array | Tensor {
    return activate(this.#ctx, name, x, options);
  }

  /**
   * The backward pass of `name` at `x`: `dx = dy · f'(x)` elementwise, or the row-wise Jacobian
   * product (rows of `axisSize`). `dy` has the output's size (for glu half of x's), and the same kind
   * as `x` (both Float32Array, or both Tensor); the result has the size of x: new, or for
   * Float32Arrays `out` (which may be x or dy) or x itself (`inPlace`).
   */
  activateBackward(name: ActivationName, x: Float32Array, dy: Float32Array, options?: ActivateOptions): Float32Array;
  activateBackward(name: ActivationName, x: Tensor, dy: Tensor, options?: ActivateOptions): Tensor;
  activateBackward(
    name: ActivationName,
    x: Float32Array | Tensor,
    dy: Float32Array | Tensor,
    options?: ActivateOptions,
  ): Float32Array | Tensor;
  activateBackward(
    name: ActivationName,
    x: Float32Array | Tensor,
    dy: Float32Array | Tensor,
    options?: ActivateOptions,
  ): Float32Array | Tensor {
    return activateBackward(this.#ctx, name, x, dy, options);
  }
}

/**
 * Loads simdnet: the bundled build for this engine unless `options` gives a module, bytes or URL;
 * with `threads` > 1, its threaded variant and a pool of workers where the engine allows (else one
 * thread, `nn.threadsReason` saying why).
 */
export async function init(options: InitOptions = {}): Promise<Simdnet> {
  const threads = options !== null && typeof options === 'object' ? requestedThreads(options.threads) : 1;
  let reason = threads > 1 ? (threadedBuildUnavailable(options) ?? poolUnavailable()) : undefined;
  const memory = threads > 1 && reason === undefined ? sharedMemory() : undefined;
  if (typeof memory === 'string') reason = memory;
  else if (memory !== undefined) {
    const module = await loadModule(options, true);
    const wasm = await instantiateThreaded(module, memory);
    const heap = new Heap(memory, wasm.__heap_base.value as number);
    try {
      const pool = await Pool.start(module, heap, wasm, threads);
      return new Simdnet(new Context(pool.wrap(wasm), heap, pool));
    } catch (e) {
      reason = `the workers could not start: ${(e as Error).message}`;
    }
  }
  const wasm = await instantiate(await loadModule(options));
  return new Simdnet(new Context(wasm, new Heap(wasm.memory, wasm.__heap_base.value as number)), reason);
}
