import { checkCount, fail } from './errors.js';
import { type Heap, MAX_BYTES, elementCountOf } from './memory.js';

/** A shape's sizes, checked: an array of non-negative integers whose product fits in wasm32's 4 GiB. */
export function checkShape(shape: unknown): number[] {
  if (!Array.isArray(shape)) fail('INVALID_ARGUMENT', `shape must be an array of sizes, got ${String(shape)}`);
  // Array.from visits holes (map skips them), which are then refused like any other non-size.
  const dims = Array.from(shape as unknown[], (d, i) => checkCount(d, `shape[${i}]`));
  const size = elementCountOf(dims);
  if (size * 4 > MAX_BYTES) fail('OUT_OF_MEMORY', `a tensor of shape [${dims.join(', ')}] needs ${size * 4} bytes, more than 4 GiB`);
  return dims;
}

/**
 * A float32 array in wasm memory with a shape. `data` is a live view: read it again after any call
 * that may allocate (growing the memory detaches older views).
 */
export class Tensor {
  readonly shape: readonly number[];
  readonly size: number;
  #heap: Heap;
  #ptr: number;
  #disposed = false;

  /** @internal Created by `nn.tensor()` and by kernels; `ptr` is a heap block of `size` floats. */
  constructor(heap: Heap, ptr: number, shape: readonly number[]) {
    this.#heap = heap;
    this.#ptr = ptr;
    this.shape = Object.freeze([...shape]);
    this.size = shape.reduce((a, b) => a * b, 1);
  }

  /** @internal Byte address in wasm memory; throws DISPOSED after `dispose()`. */
  get ptr(): number {
    if (this.#disposed) fail('DISPOSED', `tensor of shape [${this.shape.join(', ')}] was disposed`);
    return this.#ptr;
  }

  /** @internal The heap the tensor lives in, to reject tensors of another `init()`. */
  get heap(): Heap {
    return this.#heap;
  }

  get disposed(): boolean {
    return this.#disposed;
  }

  /** A live Float32Array over the tensor's memory. */
  get data(): Float32Array {
    const start = this.ptr / 4;
    return this.#heap.f32.subarray(start, start + this.size);
  }

  /** A copy of the values, independent of wasm memory. */
  toArray(): Float32Array {
    return this.data.slice();
  }

  /** How many rows of the last axis there are: the product of the other axes (1 for a scalar). */
  get rows(): number {
    return this.shape.slice(0, -1).reduce((a, b) => a * b, 1);
  }

  /** Frees the memory; a second call throws DISPOSED. */
  dispose(): void {
    this.#heap.release(this.ptr);
    this.#disposed = true;
  }

  /** `using` support: disposes unless already disposed. */
  [Symbol.dispose](): void {
    if (!this.#disposed) this.dispose();
  }
}
