import { fail } from './errors.js';

export const ALIGN = 16;
const PAGE = 65536;
/** wasm32's limit: 65536 pages of 64 KiB = 4 GiB. */
export const MAX_PAGES = 65536;
/** No block can be larger than the whole address space. */
export const MAX_BYTES = MAX_PAGES * PAGE;

/**
 * The element count of `dims` (non-negative safe integers), or Infinity when it is not a safe
 * integer: each partial product is checked, since Infinity · 0 would make NaN, which passes every
 * comparison with a limit. A zero dimension makes the count 0 whatever the others.
 */
export function elementCountOf(dims: readonly number[]): number {
  if (dims.includes(0)) return 0;
  let count = 1;
  for (const d of dims) {
    count *= d;
    if (!Number.isSafeInteger(count)) return Infinity;
  }
  return count;
}

interface Block {
  start: number;
  size: number;
}

const alignUp = (n: number) => Math.ceil(n / ALIGN) * ALIGN;

/**
 * Below this many floats a JS loop copies faster than `set` on a fresh subarray view (the view is an
 * allocation): `predict` at batch 1 reading its one output, 1.43 → 1.40 µs (Keras MLP, relaxed).
 */
const SHORT_COPY = 64;

/** `dst[to, to + n) = src[from, from + n)`. */
export function copyFloats(dst: Float32Array, to: number, src: Float32Array, from: number, n: number): void {
  if (n < SHORT_COPY) {
    for (let i = 0; i < n; i++) dst[to + i] = src[from + i]!;
  } else {
    dst.set(from === 0 && n === src.length ? src : src.subarray(from, from + n), to);
  }
}

/**
 * The allocator over the module's linear memory, above the Rust stack (`__heap_base`).
 *
 * First fit over an address-ordered free list with coalescing: layers and tensors are long-lived and
 * few, so the list stays short. Growing the memory detaches every typed-array view of it (they
 * become length 0 and drop writes silently), so views are only ever obtained through `f32`, which
 * re-creates its view whenever the buffer changed.
 */
export class Heap {
  readonly memory: WebAssembly.Memory;
  /** Free blocks, sorted by address, never adjacent (adjacent ones are merged). */
  private readonly free: Block[] = [];
  /** Size of every live allocation, by address. */
  private readonly live = new Map<number, number>();
  private view: Float32Array;
  /** The last two views `outside` found outside this memory (they are kept alive until replaced). */
  #outside: [ArrayBufferView?, ArrayBufferView?] = [];
  /**
   * Every buffer this memory has had. A shared memory's growth gives `memory.buffer` a new
   * SharedArrayBuffer over the same bytes while views of the old one stay live: those are views of
   * wasm memory too (a plain memory's old buffers are detached, their views empty).
   */
  readonly #buffers = new WeakSet<ArrayBufferLike>();

  constructor(memory: WebAssembly.Memory, heapBase: number) {
    this.memory = memory;
    const start = alignUp(heapBase);
    const end = memory.buffer.byteLength;
    if (end > start) this.free.push({ start, size: end - start });
    this.view = new Float32Array(memory.buffer);
    this.#buffers.add(memory.buffer);
  }

  /** A Float32Array over the whole memory, valid until the next allocation that grows it. */
  get f32(): Float32Array {
    // Growth detaches the old buffer, which empties every view of it; testing the length is ~20 ns
    // cheaper per call than reading `memory.buffer`, and the memory is never empty.
    if (this.view.length === 0) this.view = new Float32Array(this.memory.buffer);
    return this.view;
  }

  get byteLength(): number {
    return this.memory.buffer.byteLength;
  }

  /** Bytes held by live allocations. */
  get allocatedBytes(): number {
    let total = 0;
    for (const size of this.live.values()) total += size;
    return total;
  }

  /** A 16-byte-aligned block of at least `bytes` bytes (contents unspecified). */
  alloc(bytes: number): number {
    // A negative, fractional or non-number size would be rounded into a block smaller than asked for.
    if (!Number.isSafeInteger(bytes) || bytes < 0) fail('INVALID_ARGUMENT', `cannot allocate ${String(bytes)} bytes`);
    if (bytes > MAX_BYTES) fail('OUT_OF_MEMORY', `allocating ${bytes} bytes: more than wasm32's 4 GiB`);
    const size = Math.max(ALIGN, alignUp(bytes));
    let index = this.free.findIndex((b) => b.size >= size);
    if (index < 0) index = this.grow(size);
    const block = this.free[index]!;
    const ptr = block.start;
    if (block.size === size) this.free.splice(index, 1);
    else {
      block.start += size;
      block.size -= size;
    }
    this.live.set(ptr, size);
    return ptr;
  }

  /** Copies `values` to the floats at byte address `ptr`. */
  /**
   * Copies `values` to the floats at byte address `ptr`. A value that is not a number (a BigInt, a
   * valueOf that throws) is INVALID_ARGUMENT; the caller releases what it allocated for the write.
   */
  write(ptr: number, values: ArrayLike<number>): void {
    try {
      this.f32.set(values, ptr / 4);
    } catch (e) {
      fail('INVALID_ARGUMENT', `values must be numbers (${e instanceof Error ? e.message : String(e)})`);
    }
  }

  /** A copy of `count` floats at byte address `ptr`. */
  read(ptr: number, count: number): Float32Array {
    return this.f32.slice(ptr / 4, ptr / 4 + count);
  }

  /** The `count` floats at byte address `ptr` copied into `out` (which holds exactly that many), or a new copy. */
  readInto(ptr: number, count: number, out: Float32Array | undefined): Float32Array {
    if (out === undefined) return this.read(ptr, count);
    copyFloats(out, 0, this.f32, ptr / 4, count);
    return out;
  }

  /** A block for `count` floats. */
  allocF32(count: number): number {
    if (!Number.isSafeInteger(count) || count < 0) fail('INVALID_ARGUMENT', `cannot allocate ${String(count)} floats`);
    return this.alloc(count * 4);
  }

  /**
   * `values`, or a copy when it is a view of this memory: the next allocation may grow the memory,
   * which detaches such a view (reading it then throws). Empty views are copied too: a view of an
   * already detached buffer is empty, and `write` would throw on it. BigInt arrays are refused here,
   * before any allocation; other values that are not numbers are refused by `write`.
   */
  stable<T extends ArrayLike<number>>(values: T): T | Float32Array {
    if (values instanceof BigInt64Array || values instanceof BigUint64Array)
      fail('INVALID_ARGUMENT', 'values must be numbers, not BigInts');
    if (!ArrayBuffer.isView(values)) return values;
    if (values.length === 0) return new Float32Array(0);
    return this.outside(values) ? values : Float32Array.from(values);
  }

  /**
   * Whether `view` lies outside this memory. A view's buffer is fixed for life and no other buffer
   * ever becomes this memory's, so the answer is remembered for the last two views found outside
   * (a call's input and its `out`): a caller passing the same arrays call after call skips the two
   * `.buffer` reads, ~30 ns each time (V8 calls out for both getters; twice per `predict`).
   */
  outside(view: ArrayBufferView): boolean {
    const [last, before] = this.#outside;
    if (view === last || view === before) return true;
    if (view.buffer === this.memory.buffer || this.#buffers.has(view.buffer)) return false;
    this.#outside = [view, last];
    return true;
  }

  release(ptr: number): void {
    const size = this.live.get(ptr);
    if (size === undefined) fail('INVALID_ARGUMENT', `address ${ptr} is not a live allocation`);
    this.live.delete(ptr);
    let index = this.free.findIndex((b) => b.start > ptr);
    if (index < 0) index = this.free.length;
    this.free.splice(index, 0, { start: ptr, size });
    this.mergeAround(index);
  }

  /** Grows the memory so that a free block of `size` bytes exists; returns its index. */
  private grow(size: number): number {
    const end = this.memory.buffer.byteLength;
    const last = this.free.at(-1);
    const tail = last && last.start + last.size === end ? last.size : 0;
    const pages = Math.ceil((size - tail) / PAGE);
    const have = end / PAGE;
    if (have + pages > MAX_PAGES) {
      fail('OUT_OF_MEMORY', `allocating ${size} bytes needs ${have + pages} pages of wasm memory; the limit is ${MAX_PAGES} (4 GiB)`);
    }
    try {
      this.memory.grow(pages);
    } catch (e) {
      fail('OUT_OF_MEMORY', `the engine refused to grow wasm memory from ${end} by ${pages * PAGE} bytes (${(e as Error).message})`);
    }
    // A shared memory's old views keep their old length rather than emptying: `f32` would not notice.
    this.view = new Float32Array(this.memory.buffer);
    this.#buffers.add(this.memory.buffer);
    this.free.push({ start: end, size: pages * PAGE });
    this.mergeAround(this.free.length - 1);
    return this.free.length - 1;
  }

  private mergeAround(index: number): void {
    const next = this.free[index + 1];
    const block = this.free[index]!;
    if (next && block.start + block.size === next.start) {
      block.size += next.size;
      this.free.splice(index + 1, 1);
    }
    const prev = this.free[index - 1];
    if (prev && prev.start + prev.size === block.start) {
      prev.size += block.size;
      this.free.splice(index, 1);
    }
  }
}
