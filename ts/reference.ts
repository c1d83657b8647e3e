/**
 * The plain-TypeScript implementation of every simdnet kernel: double-precision arithmetic with
 * `Math.exp`/`Math.tanh`, rounded to float32 once at the end. It is the oracle of the tests and the
 * baseline of the benchmarks, and it has the same names and argument orders as the wasm API.
 */
import { type ActivationName, type ActivationOptions, resolveActivation } from './activations.js';

export type ScalarActivation = (x: number) => number;

export const linear: ScalarActivation = (x) => x;
/** `x > 0 ? x : +0`; NaN stays NaN. */
export const relu: ScalarActivation = (x) => (x > 0 || Number.isNaN(x) ? x : 0);
/** The slope is a float32 in the kernel, as every parameter is; the reference rounds it the same way. */
export const leakyRelu = (alpha: number): ScalarActivation => {
  const slope = Math.fround(alpha);
  return (x) => (x > 0 ? x : slope * x);
};
export const sigmoid: ScalarActivation = (x) => 1 / (1 + Math.exp(-x));
export const tanh: ScalarActivation = Math.tanh;

/** The elementwise function of an activation name (softmax has none: it is row-wise). */
export function scalarActivation(name: ActivationName, options: ActivationOptions = {}): ScalarActivation {
  const { name: key, alpha } = resolveActivation(name, options);
  switch (key) {
    case 'linear': return linear;
    case 'relu': return relu;
    case 'leaky_relu': return leakyRelu(alpha);
    case 'sigmoid': return sigmoid;
    case 'tanh': return tanh;
    case 'softmax': throw new TypeError('softmax is row-wise: use softmax()');
  }
}

/** Softmax of each row of `axisSize` values, in double precision: exp(x - max) / Σ exp(x - max). */
export function softmaxRows(x: ArrayLike<number>, axisSize: number): Float64Array {
  const out = new Float64Array(x.length);
  for (let start = 0; start < x.length; start += axisSize) {
    let max = -Infinity;
    for (let i = start; i < start + axisSize; i++) max = Number.isNaN(x[i]!) || x[i]! > max ? x[i]! : max;
    if (Number.isNaN(max)) {
      out.fill(NaN, start, start + axisSize);
      continue;
    }
    let sum = 0;
    for (let i = start; i < start + axisSize; i++) sum += out[i] = Math.exp(x[i]! - max);
    for (let i = start; i < start + axisSize; i++) out[i]! /= sum;
  }
  return out;
}

export function softmax(x: ArrayLike<number>, axisSize: number = x.length): Float32Array {
  return new Float32Array(softmaxRows(x, axisSize));
}

/** `nn.activate` on plain arrays. */
export function activate(name: ActivationName, x: ArrayLike<number>, options: ActivationOptions & { axisSize?: number } = {}): Float32Array {
  if (name === 'softmax') return softmax(x, options.axisSize ?? x.length);
  return map(x, scalarActivation(name, options));
}

/** `f` over every element, rounded to float32 (a plain loop: `Float32Array.from` with a map is slow in V8). */
function map(x: ArrayLike<number>, f: ScalarActivation): Float32Array {
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = f(x[i]!);
  return out;
}

export interface DenseWeights {
  inputDim: number;
  units: number;
  activation?: ActivationName;
  alpha?: number;
  /** [inputDim × units] row-major. */
  kernel: ArrayLike<number>;
  bias?: ArrayLike<number>;
}

/** `act(x · kernel + bias)` for `batch` rows, accumulated in double precision. */
export function dense(layer: DenseWeights, x: ArrayLike<number>, batch: number): Float32Array {
  const { inputDim, units, kernel, bias } = layer;
  const pre = new Float64Array(batch * units);
  for (let b = 0; b < batch; b++) {
    for (let o = 0; o < units; o++) {
      let acc = bias ? bias[o]! : 0;
      for (let k = 0; k < inputDim; k++) acc += x[b * inputDim + k]! * kernel[k * units + o]!;
      pre[b * units + o] = acc;
    }
  }
  if (layer.activation === 'softmax') return units === 0 ? new Float32Array(0) : new Float32Array(softmaxRows(pre, units));
  return map(pre, scalarActivation(layer.activation ?? 'linear', { alpha: layer.alpha }));
}

/** A Sequential model: each layer's float32 output feeds the next, as in the wasm model. */
export function predict(layers: readonly DenseWeights[], x: ArrayLike<number>, batch: number): Float32Array {
  let out: ArrayLike<number> = x;
  for (const layer of layers) out = dense(layer, out, batch);
  return new Float32Array(out);
}
