import type { KernelExports } from './abi.js';
import { fail } from './errors.js';
import type { Heap } from './memory.js';
import { Tensor } from './tensor.js';

/** What every object of one `init()` shares: the module's exports, the heap, the kernels' scratch. */
export class Context {
  readonly wasm: KernelExports;
  readonly heap: Heap;
  #scratch = 0;
  #scratchFloats = 0;

  constructor(wasm: KernelExports, heap: Heap) {
    this.wasm = wasm;
    this.heap = heap;
  }

  /**
   * A block of at least `floats` floats for a kernel's temporary data, shared by every call of this
   * instance (calls never overlap: wasm runs them one at a time). It grows with the largest request
   * and is never shrunk, so repeated calls allocate nothing.
   */
  scratch(floats: number): number {
    if (floats > this.#scratchFloats) {
      const ptr = this.heap.allocF32(floats);
      if (this.#scratchFloats > 0) this.heap.release(this.#scratch);
      this.#scratch = ptr;
      this.#scratchFloats = floats;
    }
    return this.#scratch;
  }

  /** Bytes held by the scratch block. */
  get scratchBytes(): number {
    return this.#scratchFloats * 4;
  }

  /** Rejects a disposed tensor, or one from another `init()`, before its address is used. */
  tensorPtr(tensor: Tensor, what: string): number {
    const ptr = tensor.ptr;
    if (tensor.heap !== this.heap) fail('INVALID_ARGUMENT', `${what} belongs to another simdnet instance`);
    return ptr;
  }

  /** The address of `into`, an output tensor that must hold exactly `size` floats. */
  outputPtr(into: unknown, size: number): number {
    if (!(into instanceof Tensor)) fail('INVALID_ARGUMENT', 'into must be a Tensor');
    const ptr = this.tensorPtr(into, 'into');
    if (into.size !== size) fail('SHAPE_MISMATCH', `into has ${into.size} values, the result has ${size}`);
    return ptr;
  }

  /** Blocks of the given float counts: all of them, or (on OUT_OF_MEMORY) none, the others released. */
  allocAll(counts: number[]): number[] {
    const ptrs: number[] = [];
    try {
      for (const n of counts) ptrs.push(this.heap.allocF32(n));
    } catch (e) {
      for (const p of ptrs) this.heap.release(p);
      throw e;
    }
    return ptrs;
  }

  /** Runs `body` with temporary blocks of the given float counts, released afterwards even on error. */
  withBlocks<T>(counts: number[], body: (...ptrs: number[]) => T): T {
    const ptrs = this.allocAll(counts);
    try {
      return body(...ptrs);
    } finally {
      for (const p of ptrs) this.heap.release(p);
    }
  }
}
