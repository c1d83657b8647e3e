/**
 * The activation entry points: `nn.activate` and `nn.activateBackward` on Float32Arrays (copied in and
 * out) or tensors (in wasm memory), elementwise, row-wise (softmax & co., glu) or with prelu's slopes.
 */
import { type ActivationName, type ActivationOptions, type ResolvedActivation, preluSlopes, resolveActivation } from './activations.js';
import type { Context } from './context.js';
import { checkCount, fail } from './errors.js';
import { Tensor } from './tensor.js';

export interface ActivateOptions extends ActivationOptions {
  /** Row-wise activations: the length of each row (default: the tensor's last axis, or the whole array). */
  axisSize?: number;
  /** Tensor input: write the result over the input and return the same tensor. */
  inPlace?: boolean;
  /** Tensor input: write the result into this tensor of the same size (allocating nothing) and return it. */
  into?: Tensor;
}

/** ActivateOptions' own keys, which the activation's option check leaves to this file. */
const CALL_KEYS: readonly (keyof ActivateOptions)[] = ['axisSize', 'inPlace', 'into'];

/**
 * `name` applied elementwise, or along rows of `axisSize` for the row-wise ones (softmax,
 * log_softmax, softmin, sparsemax, glu; glu halves the row). Float32Array → new Float32Array;
 * Tensor → new Tensor, or the input itself (`inPlace`), or `into`.
 */
export function activate(ctx: Context, name: ActivationName, x: Float32Array | Tensor, options: ActivateOptions = {}): Float32Array | Tensor {
  const act = resolveActivation(name, checkActivateOptions(options), CALL_KEYS);
  const { heap, wasm } = ctx;
  if (!(x instanceof Tensor) && !(x instanceof Float32Array)) fail('INVALID_ARGUMENT', 'activate() needs a Float32Array or a Tensor');
  const { size, cols, rows, slopes, scratchFloats } = layout(ctx, act, x, options);
  const halves = act.name === 'glu';
  const outSize = halves ? size / 2 : size;
  if (halves && options.inPlace) fail('INVALID_ARGUMENT', 'glu halves the last axis: it cannot run in place');
  const run = (src: number, dst: number, slopesPtr: number, scratch: number) => {
    if (slopes) {
      heap.write(slopesPtr, slopes);
      wasm.simdnet_prelu(src, rows, cols, slopesPtr, dst);
    } else if (act.rowwise) checkStatus(wasm.simdnet_rowwise(act.code, src, rows, cols, dst, scratch), act);
    else checkStatus(wasm.simdnet_activate(act.code, ...act.params, src, size, dst), act);
  };
  const slopeCount = slopes?.length ?? 0;
  if (x instanceof Tensor) {
    const src = ctx.tensorPtr(x, 'x');
    const into = options.inPlace ? x : options.into;
    // Every kernel here allows its output to be exactly its input (glu, which would not, is
    // rejected above or by the size check).
    const given = into === undefined ? undefined : ctx.outputPtr(into, outSize, x, 'may equal input');
    return ctx.call(given === undefined ? [outSize] : [], [slopeCount], scratchFloats, (ptrs, scratch) => {
      const dst = given ?? ptrs[0]!;
      run(src, dst, ptrs.at(-1)!, scratch);
      return into ?? new Tensor(heap, dst, halves ? [...x.shape.slice(0, -1), cols / 2] : x.shape);
    });
  }
  const input = heap.stable(x);
  return ctx.call([], [size, slopeCount], scratchFloats, ([p, s], scratch) => {
    heap.write(p!, input);
    run(p!, p!, s!, scratch);
    return heap.read(p!, outSize);
  });
}

/**
 * The backward pass of `name` at `x`: `dx = dy · f'(x)` elementwise, or the row-wise Jacobian
 * product (rows of `axisSize`). `dy` has the output's size (for glu half of x's), and the same kind
 * as `x` (both Float32Array, or both Tensor); the result, the size of x, is new.
 */
export function activateBackward(
ctx: Context, name: ActivationName, x: Float32Array | Tensor, dy: Float32Array | Tensor, options: ActivateOptions = {},
): Float32Array | Tensor {
  const act = resolveActivation(name, checkActivateOptions(options), CALL_KEYS);
  const { heap, wasm } = ctx;
  const isTensor = x instanceof Tensor;
  if (isTensor !== dy instanceof Tensor || (!isTensor && !(x instanceof Float32Array && dy instanceof Float32Array))) {
    fail('INVALID_ARGUMENT', 'activateBackward() needs x and dy both Float32Array or both Tensor');
  }
  const { size, cols, rows, slopes, scratchFloats } = layout(ctx, act, x, options);
  // glu's gradient has the shape of its output: half the last axis.
  const dySize = dy instanceof Tensor ? dy.size : dy.length;
  const expected = act.name === 'glu' ? size / 2 : size;
  if (dySize !== expected) fail('SHAPE_MISMATCH', `dy has ${dySize} values; ${act.name} of ${size} values needs ${expected}`);
  // dx is always a new block: the row-wise kernels must not write over dy.
  const run = (xp: number, dyp: number, dxp: number, slopesPtr: number, scratch: number) => {
    if (slopes) {
      heap.write(slopesPtr, slopes);
      wasm.simdnet_prelu_backward(xp, dyp, rows, cols, slopesPtr, dxp);
    } else if (act.rowwise) checkStatus(wasm.simdnet_rowwise_backward(act.code, xp, dyp, rows, cols, dxp, scratch), act);
    else checkStatus(wasm.simdnet_activate_backward(act.code, ...act.params, xp, dyp, size, dxp), act);
  };
  const slopeCount = slopes?.length ?? 0;
  if (x instanceof Tensor && dy instanceof Tensor) {
    const [xp, dyp] = [ctx.tensorPtr(x, 'x'), ctx.tensorPtr(dy, 'dy')];
    return ctx.call([size], [slopeCount], scratchFloats, ([dxp, s], scratch) => {
      run(xp, dyp, dxp!, s!, scratch);
      return new Tensor(heap, dxp!, x.shape);
    });
  }
  const [xs, dys] = [heap.stable(x as Float32Array), heap.stable(dy as Float32Array)];
  return ctx.call([], [size, dySize, size, slopeCount], scratchFloats, ([xp, dyp, dxp, s], scratch) => {
    heap.write(xp!, xs);
    heap.write(dyp!, dys);
    run(xp!, dyp!, dxp!, s!, scratch);
    return heap.read(dxp!, size);
  });
}

/**
 * An input's size, and for row-wise functions its row length (checked) and count, prelu's slopes,
 * and the floats of scratch the kernel needs.
 */
function layout(ctx: Context, act: ResolvedActivation, x: Float32Array | Tensor, options: ActivateOptions) {
  const size = x instanceof Tensor ? x.size : x.length;
  const cols = act.rowwise ? axisSize(act.name, options.axisSize, x instanceof Tensor ? x.shape.at(-1) ?? 1 : size, size) : 0;
  const slopes = act.name === 'prelu' ? preluSlopes(options.slope, cols) : null;
  const scratchFloats = act.rowwise ? ctx.kernelLen(ctx.wasm.simdnet_rowwise_scratch_len(act.code, cols), 'scratch') : 0;
  return { size, cols, rows: cols === 0 ? 0 : size / cols, slopes, scratchFloats };
}

function axisSize(name: string, requested: number | undefined, fallback: number, size: number): number {
  const cols = requested === undefined ? fallback : checkCount(requested, 'axisSize');
  if (cols === 0 ? size !== 0 : size % cols !== 0) {
    fail('SHAPE_MISMATCH', `${name} axisSize ${cols} does not divide the ${size} values`);
  }
  if (name === 'glu' && cols % 2 !== 0) fail('SHAPE_MISMATCH', `glu needs an even axis to split in halves, got ${cols}`);
  return cols;
}

/** `options` of activate(): an object whose `inPlace`, if given, is a boolean (a string would read as true). */
function checkActivateOptions(options: unknown): ActivateOptions {
  if (options === null || typeof options !== 'object') fail('INVALID_ARGUMENT', `options must be an object, got ${String(options)}`);
  const { inPlace } = options as ActivateOptions;
  if (inPlace !== undefined && typeof inPlace !== 'boolean') fail('INVALID_ARGUMENT', `inPlace must be a boolean, got ${String(inPlace)}`);
  return options as ActivateOptions;
}

/** A kernel's status: non-zero means it did not know the code (a TS/crate mismatch), and wrote nothing. */
function checkStatus(status: number, act: ResolvedActivation): void {
  if (status !== 0) fail('UNKNOWN_ACTIVATION', `the kernel does not know ${act.name} (code ${act.code})`);
}
