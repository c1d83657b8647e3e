import { type KernelExports, TOO_LARGE } from './abi.js';
import { fail } from './errors.js';
import type { Heap } from './memory.js';
import { Tensor } from './tensor.js';
import type { Pool } from './threads/pool.js';

/** What every object of one `init()` shares: the module's exports, the heap, the kernels' scratch, the worker pool. */
export class Context {
  readonly wasm: KernelExports;
  readonly heap: Heap;
  /** The workers `wasm` splits large kernel calls across (`Pool.wrap`), if `init({ threads })` started them. */
  readonly pool: Pool | undefined;
  #scratch = 0;
  #scratchFloats = 0;

  constructor(wasm: KernelExports, heap: Heap, pool?: Pool) {
    this.wasm = wasm;
    this.heap = heap;
    this.pool = pool;
  }

  /** The threads a kernel call large enough to wake the pool runs on: 1 without a pool, or once it stopped. */
  get threads(): number {
    return this.pool?.running ? this.pool.threads : 1;
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

  /**
   * The address of `into`, an output tensor that must hold exactly `size` floats and must not overlap
   * `input` (a kernel that reads a value after writing another would read its own output), except
   * that it may be `input` itself when `inPlace` says the kernel allows that.
   */
  outputPtr(into: unknown, size: number, input: Tensor, inPlace: 'may equal input' | 'disjoint'): number {
    if (!(into instanceof Tensor)) fail('INVALID_ARGUMENT', 'into must be a Tensor');
    const ptr = this.tensorPtr(into, 'into');
    if (into.size !== size) fail('SHAPE_MISMATCH', `into has ${into.size} values, the result has ${size}`);
    const [start, end, inputStart, inputEnd] = [ptr, ptr + 4 * size, input.ptr, input.ptr + 4 * input.size];
    const same = start === inputStart && end === inputEnd;
    if (start < inputEnd && inputStart < end && !(same && inPlace === 'may equal input')) {
      fail('INVALID_ARGUMENT', 'into overlaps the input: this kernel needs a separate output tensor');
    }
    return ptr;
  }

  /**
   * A kernel's size answer (a wasm `usize`, which JS sees as a signed i32) as a float count; the crate
   * returns `usize::MAX` for a size that does not fit in wasm32, an OUT_OF_MEMORY error here.
   */
  kernelLen(answer: number, what: string): number {
    const floats = answer >>> 0;
    if (floats === TOO_LARGE) fail('OUT_OF_MEMORY', `${what} does not fit in wasm32's 4 GiB`);
    return floats;
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

  /**
   * `allocAll(counts)` followed by the shared scratch grown to `scratchFloats` (its address last): all
   * of them, or (on OUT_OF_MEMORY) none, so that a rejected call allocates nothing.
   */
  allocWithScratch(counts: number[], scratchFloats: number): number[] {
    const ptrs = this.allocAll(counts);
    try {
      return [...ptrs, this.scratch(scratchFloats)];
    } catch (e) {
      for (const p of ptrs) this.heap.release(p);
      throw e;
    }
  }

  /**
   * Runs `body` with blocks of `outputs` floats (kept: the call's results), then of `temporaries`
   * floats (released afterwards), and the scratch grown to `scratchFloats`. Everything is allocated
   * before `body` runs, or nothing (OUT_OF_MEMORY); if `body` throws, the outputs are released too.
   */
  call<T>(outputs: number[], temporaries: number[], scratchFloats: number, body: (ptrs: number[], scratch: number) => T): T {
    const ptrs = this.allocWithScratch([...outputs, ...temporaries], scratchFloats);
    const scratch = ptrs.pop()!;
    let released = ptrs;
    try {
      const result = body(ptrs, scratch);
      released = ptrs.slice(outputs.length);
      return result;
    } finally {
      for (const p of released) this.heap.release(p);
    }
  }

  /** Runs `body` with temporary blocks of the given float counts, released afterwards even on error. */
  withBlocks<T>(counts: number[], body: (...ptrs: number[]) => T): T {
    return this.call([], counts, 0, (ptrs) => body(...ptrs));
  }
}
