import type { KernelExports } from './abi.js';
import { fail } from './errors.js';
import type { Heap } from './memory.js';
import type { Tensor } from './tensor.js';

/** What every object of one `init()` shares: the module's exports and the heap over its memory. */
export interface Context {
  readonly wasm: KernelExports;
  readonly heap: Heap;
}

/** Rejects a disposed tensor, or one from another `init()`, before its address is used. */
export function tensorPtr(ctx: Context, tensor: Tensor, what: string): number {
  const ptr = tensor.ptr;
  if (tensor.heap !== ctx.heap) fail('INVALID_ARGUMENT', `${what} belongs to another simdnet instance`);
  return ptr;
}

/** Runs `body` with temporary blocks of the given float counts, released afterwards even on error. */
export function withBlocks<T>(ctx: Context, counts: number[], body: (...ptrs: number[]) => T): T {
  const ptrs: number[] = [];
  try {
    for (const n of counts) ptrs.push(ctx.heap.allocF32(n));
    return body(...ptrs);
  } finally {
    for (const p of ptrs) ctx.heap.release(p);
  }
}
