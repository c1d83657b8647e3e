/**
 * The activation entry points: `nn.activate` and `nn.activateBackward` on Float32Arrays (streamed
 * through a cache-sized block of wasm memory, or blocks the worker pool splits) or tensors (in wasm
 * memory), elementwise, row-wise (softmax & co., glu) or with prelu's slopes.
 */
import { type KernelExports, RowwiseCode } from './abi.js';
import { type ActivationName, type ActivationOptions, type ResolvedActivation, preluSlopes, resolveActivation } from './activations.js';
import type { Context } from './context.js';
import { checkCount, fail } from './errors.js';
import { copyFloats } from './memory.js';
import { Tensor } from './tensor.js';
import { WAKE_MIN_FLOATS, splitsRowwise } from './threads/pool.js';

export interface ActivateOptions extends ActivationOptions {
  /** Row-wise activations: the length of each row (default: the tensor's last axis, or the whole array). */
  axisSize?: number;
  /** Write the result over the input: a tensor returns itself, a Float32Array is its own `out`. */
  inPlace?: boolean;
  /** Tensor input: write the result into this tensor of the result's size (allocating nothing) and return it. */
  into?: Tensor;
  /**
   * Float32Array input: write the result into this Float32Array of the result's size and return it.
   * It may be the input itself (in place) or a view of wasm memory, but not another view overlapping it.
   */
  out?: Float32Array;
}

/**
 * Floats per block when a Float32Array streams through wasm memory: copied in, computed, copied out
 * block by block, so that the three passes run over 16 KiB that stay in L1 instead of over the whole
 * array. Measured over 1 M floats with out (Node 20, SIMD128), blocks of 1024 to 65536 floats: relu
 * 2.3, 3.0, 3.2, 2.9, 3.1, 2.9, 2.9 Gelem/s; 4096 was best or within noise of it for every function.
 */
export const STREAM_BLOCK = 4096;
/**
 * The pool's claim of an elementwise activation (crate/src/pool.rs `ACTIVATE_CHUNK`): split blocks
 * are multiples of it, so that no claim is a sliver, and every float keeps its lane (a multiple of
 * the vector width), hence its bits.
 */
const POOL_CHUNK = 16384;
/**
 * Floats per block when the pool splits each block's kernel call (at least, but for a whole array
 * below it: see splitRows): few blocks, for each wakes the workers (~30 µs, and up to a scheduler tick, 4 ms, when another process
 * holds their core). Measured with a Float32Array and out, relaxed build, 2 threads against
 * `init()`, blocks of 2^18, 2^19, 2^20, 2^21 floats: sigmoid over 4 M floats 1.42, 1.54, 1.56,
 * 1.59×; over 1 M, 2^18 1.14–1.46×, 2^20 1.53–1.62×. Larger blocks gain little and the scratch keeps
 * them for later calls (2^20 floats: 4 to 8 MiB).
 */
export const SPLIT_BLOCK = 1 << 20;

const NO_OPTIONS: ActivateOptions = Object.freeze({});

/**
 * One call's options, each read exactly once: a getter cannot answer the checks one value and the
 * kernel another. `params` holds the activation's own options (undefined when none is given).
 */
interface Call {
  act: ResolvedActivation;
  params: ActivationOptions | undefined;
  axisSize: unknown;
  inPlace: boolean;
  into: unknown;
  out: unknown;
}

/**
 * The last resolution of each name with the option values it was resolved from. resolveActivation
 * is a pure function of those values, so equal values (Object.is) may reuse its answer; any other
 * value is resolved, and so validated, anew. At most one entry per activation name.
 */
const resolutions = new Map<unknown, { params: ActivationOptions | undefined; act: ResolvedActivation }>();

function resolve(name: unknown, params: ActivationOptions | undefined): ResolvedActivation {
  const last = resolutions.get(name);
  if (last !== undefined && sameParams(last.params, params)) return last.act;
  const act = resolveActivation(name, params);
  resolutions.set(name, { params, act });
  return act;
}

/** Whether two snapshots (plain objects built by readCall) hold the same keys with the same values. */
function sameParams(a: ActivationOptions | undefined, b: ActivationOptions | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  const keys = Object.keys(a) as (keyof ActivationOptions)[];
  return keys.length === Object.keys(b).length && keys.every((key) => Object.hasOwn(b, key) && Object.is(a[key], b[key]));
}

function readCall(name: unknown, options: unknown): Call {
  if (options === null || typeof options !== 'object') fail('INVALID_ARGUMENT', `options must be an object, got ${String(options)}`);
  let params: Record<string, unknown> | undefined;
  let axisSize: unknown, inPlace: unknown, into: unknown, out: unknown;
  for (const key in options) {
    const value = (options as Record<string, unknown>)[key];
    switch (key) {
      case 'axisSize':
        axisSize = value;
        break;
      case 'inPlace':
        inPlace = value;
        break;
      case 'into':
        into = value;
        break;
      case 'out':
        out = value;
        break;
      default:
        // The activation's own options; resolveActivation refuses any it does not read, naming it.
        (params ??= Object.create(null) as Record<string, unknown>)[key] = value; // null prototype: a "__proto__" key stays a key
    }
  }
  // A string would read as true.
  if (inPlace !== undefined && typeof inPlace !== 'boolean') fail('INVALID_ARGUMENT', `inPlace must be a boolean, got ${String(inPlace)}`);
  return { act: resolve(name, params), params, axisSize, inPlace: inPlace === true, into, out };
}

/**
 * `name` applied elementwise, or along rows of `axisSize` for the row-wise ones (softmax,
 * log_softmax, softmin, sparsemax, glu; glu halves the row). Float32Array → new Float32Array, or
 * `out`, or the input itself (`inPlace`); Tensor → new Tensor, or the input itself, or `into`.
 */
export function activate(
  ctx: Context,
  name: ActivationName,
  x: Float32Array | Tensor,
  options: ActivateOptions = NO_OPTIONS,
): Float32Array | Tensor {
  const call = readCall(name, options);
  if (x instanceof Float32Array) return activateArray(ctx, call, x);
  if (x instanceof Tensor) return activateTensor(ctx, call, x);
  fail('INVALID_ARGUMENT', 'activate() needs a Float32Array or a Tensor');
}

function activateTensor(ctx: Context, call: Call, x: Tensor): Tensor {
  if (call.out !== undefined) fail('INVALID_ARGUMENT', 'out takes a Float32Array input; a tensor writes into `into`');
  const { act } = call;
  const { size, cols, rows, slopes, kernelScratch } = layout(ctx, call, x.size, x.shape.at(-1) ?? 1);
  const halves = act.code === RowwiseCode.glu;
  if (halves && call.inPlace) fail('INVALID_ARGUMENT', 'glu halves the last axis: it cannot run in place');
  const src = ctx.tensorPtr(x, 'x');
  if (call.inPlace && call.into !== undefined) fail('INVALID_ARGUMENT', 'inPlace and into both given: pick one');
  const into = call.inPlace ? x : call.into;
  const outSize = halves ? size / 2 : size;
  // Every kernel here allows its output to be exactly its input (glu, which would not, is
  // rejected above or by the size check).
  const given = into === undefined ? undefined : ctx.outputPtr(into, outSize, x, 'may equal input');
  return ctx.call(given === undefined ? [outSize] : [], [], kernelScratch, (ptrs, aux) => {
    const dst = given ?? ptrs[0]!;
    if (slopes) ctx.heap.write(aux, slopes);
    forward(ctx.wasm, act, src, rows, cols, dst, aux);
    return (into as Tensor | undefined) ?? new Tensor(ctx.heap, dst, halves ? [...x.shape.slice(0, -1), cols / 2] : x.shape);
  });
}

/**
 * A Float32Array through wasm memory, a block of whole rows (elementwise: of floats) at a time: the
 * input block is copied into the shared scratch, computed in place there and copied to the result.
 * Split glu writes to a second block: its output rows are half as long as its input rows, so in
 * place a thread would overwrite input rows that another has yet to read.
 */
function activateArray(ctx: Context, call: Call, x: Float32Array): Float32Array {
  const { act } = call;
  const { size, cols, rows, slopes, kernelScratch } = layout(ctx, call, x.length, x.length);
  const outCols = act.code === RowwiseCode.glu ? cols / 2 : cols;
  const result = outputArray(call, x, rows * outCols);
  if (size === 0) return result;
  const split = splitsForward(ctx, act, size);
  const areas = split && outCols !== cols ? 2 : 1;
  const plan = planStream(ctx, areas, rows, cols, kernelScratch, split);
  const input = plan.grows ? ctx.heap.stable(x) : x;
  const resultAt = result.byteOffset;
  const block = ctx.scratch(plan.scratchFloats);
  const [output, aux] = [block + 4 * (areas - 1) * plan.blockFloats, block + 4 * areas * plan.blockFloats];
  // Taken after the scratch, whose growth would have emptied earlier views of wasm memory.
  const memory = ctx.heap.f32;
  const target = result.length === rows * outCols ? result : viewAt(memory, resultAt, rows * outCols);
  if (slopes) memory.set(slopes, aux / 4);
  for (let row = 0; row < rows; row += plan.rowsPerBlock) {
    const count = Math.min(plan.rowsPerBlock, rows - row);
    copyFloats(memory, block / 4, input, row * cols, count * cols);
    forward(ctx.wasm, act, block, count, cols, output, aux);
    copyFloats(target, row * outCols, memory, output / 4, count * outCols);
  }
  return target;
}

/**
 * The backward pass of `name` at `x`: `dx = dy · f'(x)` elementwise, or the row-wise Jacobian
 * product (rows of `axisSize`). `dy` has the output's size (for glu half of x's), and the same kind
 * as `x` (both Float32Array, or both Tensor). The result has the size of x: a new Float32Array or
 * `out` (which may be x or dy itself), or a new tensor.
 */
export function activateBackward(
  ctx: Context,
  name: ActivationName,
  x: Float32Array | Tensor,
  dy: Float32Array | Tensor,
  options: ActivateOptions = NO_OPTIONS,
): Float32Array | Tensor {
  const call = readCall(name, options);
  const isTensor = x instanceof Tensor;
  if (isTensor !== dy instanceof Tensor || (!isTensor && !(x instanceof Float32Array && dy instanceof Float32Array))) {
    fail('INVALID_ARGUMENT', 'activateBackward() needs x and dy both Float32Array or both Tensor');
  }
  const size = sizeOf(x);
  const dySize = sizeOf(dy);
  // glu's gradient has the shape of its output: half the last axis.
  const expected = call.act.code === RowwiseCode.glu ? size / 2 : size;
  if (dySize !== expected) fail('SHAPE_MISMATCH', `dy has ${dySize} values; ${call.act.name} of ${size} values needs ${expected}`);
  if (x instanceof Tensor) return backwardTensor(ctx, call, x, dy as Tensor);
  return backwardArray(ctx, call, x as Float32Array, dy as Float32Array);
}

function backwardTensor(ctx: Context, call: Call, x: Tensor, dy: Tensor): Tensor {
  if (call.out !== undefined || call.into !== undefined || call.inPlace) {
    fail('INVALID_ARGUMENT', 'activateBackward() on tensors returns a new tensor: out, into and inPlace are for Float32Arrays');
  }
  const { rows, cols, slopes, kernelScratch } = layout(ctx, call, x.size, x.shape.at(-1) ?? 1);
  const [xp, dyp] = [ctx.tensorPtr(x, 'x'), ctx.tensorPtr(dy, 'dy')];
  // dx is always a new block: the row-wise kernels must not write over dy.
  return ctx.call([x.size], [], kernelScratch, ([dxp], aux) => {
    if (slopes) ctx.heap.write(aux, slopes);
    backward(ctx.wasm, call.act, xp, dyp, rows, cols, dxp!, aux);
    return new Tensor(ctx.heap, dxp!, x.shape);
  });
}

/** As activateArray, with blocks of x, dy and dx side by side in the scratch (dx: the row-wise kernels must not write over dy). */
function backwardArray(ctx: Context, call: Call, x: Float32Array, dy: Float32Array): Float32Array {
  const { act } = call;
  const { size, cols, rows, slopes, kernelScratch } = layout(ctx, call, x.length, x.length);
  const dyCols = act.code === RowwiseCode.glu ? cols / 2 : cols;
  const result = outputArray(call, x, size, dy);
  if (size === 0) return result;
  const plan = planStream(ctx, 3, rows, cols, kernelScratch);
  const xs = plan.grows ? ctx.heap.stable(x) : x;
  const dys = plan.grows ? ctx.heap.stable(dy) : dy;
  const resultAt = result.byteOffset;
  const xb = ctx.scratch(plan.scratchFloats);
  const [dyb, dxb, aux] = [xb + 4 * plan.blockFloats, xb + 8 * plan.blockFloats, xb + 12 * plan.blockFloats];
  const memory = ctx.heap.f32;
  const target = result.length === size ? result : viewAt(memory, resultAt, size);
  if (slopes) memory.set(slopes, aux / 4);
  for (let row = 0; row < rows; row += plan.rowsPerBlock) {
    const count = Math.min(plan.rowsPerBlock, rows - row);
    copyFloats(memory, xb / 4, xs, row * cols, count * cols);
    copyFloats(memory, dyb / 4, dys, row * dyCols, count * dyCols);
    backward(ctx.wasm, act, xb, dyb, count, cols, dxb, aux);
    copyFloats(target, row * cols, memory, dxb / 4, count * cols);
  }
  return target;
}

const sizeOf = (x: Float32Array | Tensor) => (x instanceof Tensor ? x.size : x.length);
const align4 = (floats: number) => (floats + 3) & ~3;

/**
 * Whether a stream of `size` floats through `act` should use blocks that the pool splits: it runs,
 * the kernel is one it splits (elementwise, or row-wise but sparsemax and prelu), and the array
 * holds at least one block large enough to wake it. The cheapest functions too: their copies cost
 * as much as their kernel, yet on a threaded instance (whose shared memory copies ~1.5× slower)
 * blocks split beat the cache-sized stream: relu with out, 2 threads, over 1 M floats 2.63 against
 * 2.12 Gelem/s, over 4 M 1.50 against 1.05 (one thread, `init()`: 3.17 and 1.34).
 */
function splitsForward(ctx: Context, act: ResolvedActivation, size: number): boolean {
  if (ctx.threads === 1 || size < WAKE_MIN_FLOATS) return false;
  return !act.rowwise || (act.code !== RowwiseCode.prelu && splitsRowwise(act.code));
}

/**
 * A stream over `rows` of `cols` floats through `areas` blocks side by side in the scratch (input,
 * or x, dy and dx), then the kernel's own floats: as many whole rows per block as fit in
 * STREAM_BLOCK, or one row longer than that; each block a multiple of 4 floats, so that all start
 * 16-byte aligned. `grows`: the scratch must grow, which empties every view of wasm memory, so that
 * inputs that are such views are copied first (heap.stable) and the result's view is made anew.
 * `split`: blocks for the pool instead (splitRows).
 */
function planStream(ctx: Context, areas: number, rows: number, cols: number, kernelScratch: number, split = false) {
  const rowsPerBlock = Math.min(rows, split ? splitRows(rows, cols) : Math.max(1, Math.floor(STREAM_BLOCK / cols)));
  const blockFloats = align4(rowsPerBlock * cols);
  const scratchFloats = areas * blockFloats + align4(kernelScratch);
  return { rowsPerBlock, blockFloats, scratchFloats, grows: 4 * scratchFloats > ctx.scratchBytes };
}

/**
 * Rows per block of a stream whose every kernel call the pool splits: the array cut evenly into as
 * many blocks of at least SPLIT_BLOCK floats as it holds (a short last block would run on one
 * thread), elementwise rounded up to whole claims of the pool. Whole rows, so a row longer than
 * that is a block of its own, as in the single-threaded stream.
 */
function splitRows(rows: number, cols: number): number {
  const perBlock = Math.ceil(rows / Math.max(1, Math.floor((rows * cols) / SPLIT_BLOCK)));
  return cols === 1 ? Math.ceil(perBlock / POOL_CHUNK) * POOL_CHUNK : perBlock;
}

/**
 * The Float32Array a call writes to: `out` (checked), x itself for `inPlace`, or a new array. `out`
 * must have the result's size and be each input exactly or be disjoint from it: blocks are read
 * before the same positions are written, but a shifted view would read what an earlier block wrote.
 */
function outputArray(call: Call, x: Float32Array, size: number, dy?: Float32Array): Float32Array {
  if (call.into !== undefined) fail('INVALID_ARGUMENT', 'into takes a Tensor input; a Float32Array writes into `out`');
  if (call.inPlace && call.out !== undefined) fail('INVALID_ARGUMENT', 'inPlace and out both given');
  if (call.inPlace && x.length !== size) fail('INVALID_ARGUMENT', `${call.act.name} halves the last axis: it cannot run in place`);
  const out = call.inPlace ? x : call.out;
  if (out === undefined) return new Float32Array(size);
  if (!(out instanceof Float32Array)) fail('INVALID_ARGUMENT', 'out must be a Float32Array');
  if (out.length !== size) fail('SHAPE_MISMATCH', `out has ${out.length} values, the result has ${size}`);
  if (overlapsPartly(out, x) || (dy !== undefined && overlapsPartly(out, dy))) {
    fail('INVALID_ARGUMENT', 'out overlaps an input without being it: give the input or a separate array');
  }
  return out;
}

function overlapsPartly(a: Float32Array, b: Float32Array): boolean {
  if (a === b || (a === disjoint.a && b === disjoint.b && a.length === disjoint.aLength && b.length === disjoint.bLength)) return false;
  const [aStart, bStart] = [a.byteOffset, b.byteOffset];
  const [aEnd, bEnd] = [aStart + a.byteLength, bStart + b.byteLength];
  if (a.buffer !== b.buffer || aStart >= bEnd || bStart >= aEnd) {
    if (a.length > 0 && b.length > 0) Object.assign(disjoint, { a, b, aLength: a.length, bLength: b.length });
    return false;
  }
  return !(aStart === bStart && aEnd === bEnd);
}

/**
 * The last pair of non-empty arrays `overlapsPartly` found disjoint, with their lengths then. A view
 * keeps its offset for life, and its length too unless it tracks a resizable buffer's length (or goes
 * out of bounds: empty); with the same lengths, the two ranges are those found disjoint. So a caller
 * streaming through the same arrays skips the two `.buffer` reads, ~18% of a call over 16 floats (V8
 * calls out for that getter; relu over 16 floats with `out` 0.157 → 0.134 µs). It keeps the two
 * arrays alive until a call with others.
 */
const disjoint: { a?: Float32Array; b?: Float32Array; aLength?: number; bLength?: number } = {};

/**
 * `out`, a view of wasm memory at byte `offset` that the scratch's growth emptied, made anew over the
 * same floats: growth keeps the contents and replaces the buffer, whose old views read as empty.
 */
function viewAt(memory: Float32Array, offset: number, length: number): Float32Array {
  return memory.subarray(offset / 4, offset / 4 + length);
}

/**
 * An input's size, its rows of `cols` (elementwise: rows of one float; row-wise: `axisSize`,
 * default `lastAxis`, checked), prelu's slopes, and the floats of scratch the kernel reads beside
 * the data (`aux`): prelu's slopes, or sparsemax's sorting space.
 */
function layout(ctx: Context, call: Call, size: number, lastAxis: number) {
  const { act } = call;
  if (!act.rowwise) {
    // Checked though an elementwise function needs no rows: generic code may pass it to any name.
    if (call.axisSize !== undefined) axisSize(act, call.axisSize, size, size);
    return { size, cols: 1, rows: size, slopes: null, kernelScratch: 0 };
  }
  const cols = axisSize(act, call.axisSize, lastAxis, size);
  const slopes = act.code === RowwiseCode.prelu ? preluSlopes(call.params?.slope, cols) : null;
  const kernelScratch = slopes ? slopes.length : ctx.kernelLen(ctx.wasm.simdnet_rowwise_scratch_len(act.code, cols), 'scratch');
  return { size, cols, rows: cols === 0 ? 0 : size / cols, slopes, kernelScratch };
}

function axisSize(act: ResolvedActivation, requested: unknown, fallback: number, size: number): number {
  const cols = requested === undefined ? fallback : checkCount(requested, 'axisSize');
  if (cols === 0 ? size !== 0 : size % cols !== 0) {
    fail('SHAPE_MISMATCH', `${act.name} axisSize ${cols} does not divide the ${size} values`);
  }
  if (act.code === RowwiseCode.glu && cols % 2 !== 0) fail('SHAPE_MISMATCH', `glu needs an even axis to split in halves, got ${cols}`);
  return cols;
}

/** `rows × cols` floats at `src` through the kernel into `dst`; `aux` is prelu's slopes or the row-wise kernels' scratch. */
function forward(wasm: KernelExports, act: ResolvedActivation, src: number, rows: number, cols: number, dst: number, aux: number): void {
  if (act.code === RowwiseCode.prelu) wasm.simdnet_prelu(src, rows, cols, aux, dst);
  else if (act.rowwise) checkStatus(wasm.simdnet_rowwise(act.code, src, rows, cols, dst, aux), act);
  else checkStatus(wasm.simdnet_activate(act.code, act.params[0], act.params[1], act.params[2], src, rows * cols, dst), act);
}

function backward(
  wasm: KernelExports,
  act: ResolvedActivation,
  x: number,
  dy: number,
  rows: number,
  cols: number,
  dx: number,
  aux: number,
): void {
  if (act.code === RowwiseCode.prelu) wasm.simdnet_prelu_backward(x, dy, rows, cols, aux, dx);
  else if (act.rowwise) checkStatus(wasm.simdnet_rowwise_backward(act.code, x, dy, rows, cols, dx, aux), act);
  else checkStatus(wasm.simdnet_activate_backward(act.code, act.params[0], act.params[1], act.params[2], x, dy, rows * cols, dx), act);
}

/** A kernel's status: non-zero means it did not know the code (a TS/crate mismatch), and wrote nothing. */
function checkStatus(status: number, act: ResolvedActivation): void {
  if (status !== 0) fail('UNKNOWN_ACTIVATION', `the kernel does not know ${act.name} (code ${act.code})`);
}
