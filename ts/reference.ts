/**
 * The plain-TypeScript implementation of every simdnet kernel: each function by its definition, in
 * double precision (`Math.exp`, `Math.expm1`, `Math.log1p`, `Math.tanh` and the `erfc` below),
 * rounded to float32 once at the end. It is the oracle of the tests and the baseline of the
 * benchmarks, with the same names, options and defaults as the wasm API.
 */
import {
  type ActivationName,
  type ActivationOptions,
  PRESET_DEFAULTS,
  type Preset,
  SELU_ALPHA,
  SELU_SCALE,
  preluSlopes,
  resolveActivation,
} from './activations.js';

export type ScalarActivation = (x: number) => number;

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

/** erfc in double precision (relative error ~1e-14): 1 - the Taylor series of erf below 2, the
 * continued fraction erfc(z) = e^(-z²)/√π · 1/(z + (1/2)/(z + 1/(z + (3/2)/(z + ...)))) above. */
export function erfc(z: number): number {
  if (Number.isNaN(z)) return NaN;
  if (z < 0) return 2 - erfc(-z);
  if (z < 2) {
    let term = z;
    let sum = z;
    for (let n = 1; Math.abs(term) > 1e-17 * Math.abs(sum); n++) {
      term *= (-z * z) / n;
      sum += term / (2 * n + 1);
    }
    return 1 - (2 / Math.sqrt(Math.PI)) * sum;
  }
  if (z > 27) return 0;
  let t = z;
  for (let k = 120; k >= 1; k--) t = z + k / 2 / t;
  return Math.exp(-z * z) / (Math.sqrt(Math.PI) * t);
}

const nanOr =
  (f: ScalarActivation): ScalarActivation =>
  (x) =>
    Number.isNaN(x) ? x : f(x);
const clip = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);
/** The sigmoid without overflow or cancellation on either side. */
const sigmoidOf = (x: number) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));
/** log(1 + e^z) without overflow. */
const softplusOf = (z: number) => Math.max(z, 0) + Math.log1p(Math.exp(-Math.abs(z)));

export const linear: ScalarActivation = (x) => x;
/** `x > 0 ? x : +0`; NaN stays NaN. */
export const relu: ScalarActivation = (x) => (x > 0 || Number.isNaN(x) ? x : 0);
/** The slope is a float32 in the kernel; the reference rounds it the same way, so leaky_relu is exact. */
export const leakyRelu = (slope: number): ScalarActivation => {
  const s = Math.fround(slope);
  return (x) => (x > 0 ? x : s * x);
};
export const sigmoid: ScalarActivation = sigmoidOf;
export const tanh: ScalarActivation = Math.tanh;

/** Keras 3 `relu(x, negative_slope, max_value, threshold)`. */
export const reluGeneral = (slope: number, maxValue: number, threshold: number): ScalarActivation =>
  nanOr((x) => {
    let pos = x > threshold ? x : 0;
    if (Number.isFinite(maxValue)) pos = clip(pos, 0, maxValue);
    return pos - (slope !== 0 ? slope * Math.max(threshold - x, 0) : 0);
  });

/** x - tanh(x); below |x| = 0.1 its series, as the difference cancels even in double. */
const tanhShrink: ScalarActivation = (x) => {
  if (Math.abs(x) >= 0.1) return x - Math.tanh(x);
  const x2 = x * x;
  return x * x2 * (1 / 3 + x2 * (-2 / 15 + x2 * (17 / 315 + x2 * (-62 / 2835 + x2 * (1382 / 155925)))));
};

/**
 * The parameters of an elementwise function with their defaults filled in, stated once for
 * `scalarActivation` and `derivative`. Written out here rather than read from activations.ts' kernel
 * parameters on purpose: the reference is an independent oracle of the options' meaning (only the
 * table of presets, a documented fact, is shared).
 */
function parametersOf(name: ActivationName, options: ActivationOptions) {
  const act = resolveActivation(name, options, ['axisSize']);
  const preset: Preset = options.preset ?? 'keras';
  const alpha = (fallback: number) => options.alpha ?? fallback;
  const [hardAlpha, hardBeta] = PRESET_DEFAULTS.hardSigmoid[preset];
  const { negativeSlope, maxValue, threshold } = options;
  return {
    name: act.name,
    /** relu's Keras 3 options, or null for the plain max(x, 0). */
    relu:
      negativeSlope === undefined && maxValue === undefined && threshold === undefined
        ? null
        : { slope: negativeSlope ?? 0, max: maxValue ?? Infinity, threshold: threshold ?? 0 },
    leakySlope: negativeSlope ?? alpha(PRESET_DEFAULTS.leakySlope[preset]),
    eluAlpha: alpha(1),
    hard: { alpha: alpha(hardAlpha), beta: options.beta ?? hardBeta },
    hardTanh: { min: options.minVal ?? -1, max: options.maxVal ?? 1 },
    shrink: threshold ?? 0.5,
    beta: options.beta ?? 1,
    softplusThreshold: threshold ?? PRESET_DEFAULTS.softplusThreshold[preset],
    b: options.b ?? 4,
    threshold: { at: threshold ?? 0, value: options.value ?? 0 },
    thresholdedAt: threshold ?? alpha(1),
    approximate: options.approximate ?? false,
  };
}

/** The elementwise function of a name and its options (row-wise names have none). */
export function scalarActivation(name: ActivationName, options: ActivationOptions = {}): ScalarActivation {
  const p = parametersOf(name, options);
  switch (p.name) {
    case 'linear':
      return linear;
    case 'relu':
      return p.relu ? reluGeneral(p.relu.slope, p.relu.max, p.relu.threshold) : relu;
    case 'leaky_relu':
      return leakyRelu(p.leakySlope);
    case 'relu6':
      return nanOr((x) => clip(relu(x), 0, 6));
    case 'elu': {
      const a = p.eluAlpha;
      return (x) => (x > 0 ? x : a * Math.expm1(x));
    }
    case 'selu':
      return (x) => SELU_SCALE * (x > 0 ? x : SELU_ALPHA * Math.expm1(x));
    case 'celu': {
      const a = p.eluAlpha;
      return (x) => (x > 0 ? x : a * Math.expm1(x / a));
    }
    case 'exponential':
      return Math.exp;
    case 'sigmoid':
      return sigmoid;
    case 'tanh':
      return tanh;
    case 'hard_sigmoid':
    case 'hard_silu': {
      const { alpha: al, beta: be } = p.hard;
      const hs = nanOr((x) => clip(al * x + be, 0, 1));
      return p.name === 'hard_silu' ? (x) => x * hs(x) : hs;
    }
    case 'hard_tanh':
      return nanOr((x) => clip(x, p.hardTanh.min, p.hardTanh.max));
    case 'hard_shrink': {
      const t = p.shrink;
      return nanOr((x) => (Math.abs(x) > t ? x : 0));
    }
    case 'soft_shrink': {
      const t = p.shrink;
      return nanOr((x) => (x > t ? x - t : x < -t ? x + t : 0));
    }
    case 'log_sigmoid':
      return (x) => -softplusOf(-x);
    case 'mish':
      return (x) => x * Math.tanh(softplusOf(x));
    case 'silu': {
      const b = p.beta;
      return (x) => x * sigmoidOf(b * x);
    }
    case 'softplus': {
      const [b, t] = [p.beta, p.softplusThreshold];
      return (x) => (b * x > t ? x : softplusOf(b * x) / b);
    }
    case 'softsign':
      return (x) => x / (1 + Math.abs(x));
    case 'sparse_plus':
      return nanOr((x) => (x <= -1 ? 0 : x >= 1 ? x : ((x + 1) * (x + 1)) / 4));
    case 'sparse_sigmoid':
      return nanOr((x) => (x <= -1 ? 0 : x >= 1 ? 1 : (x + 1) / 2));
    case 'squareplus': {
      const { b } = p;
      return (x) => {
        const root = Math.sqrt(x * x + b);
        return x >= 0 ? (x + root) / 2 : b / (2 * (root - x));
      };
    }
    case 'tanh_shrink':
      return tanhShrink;
    case 'threshold': {
      const { at: t, value: v } = p.threshold;
      return (x) => (x > t ? x : v);
    }
    case 'thresholded_relu': {
      const t = p.thresholdedAt;
      return (x) => (x > t ? x : 0);
    }
    case 'gelu':
      return p.approximate
        ? (x) => x * sigmoidOf(2 * SQRT_2_OVER_PI * (x + 0.044715 * x * x * x))
        : (x) => 0.5 * x * erfc(-x * Math.SQRT1_2);
    default:
      throw new TypeError(`${p.name} is row-wise: use activate()`);
  }
}

/** f'(x) of a name and its options, by its formula in double precision; NaN for NaN. At kinks
 * the value the kernels use: relu'(0) = 0, 0 at the ends of clipped ranges. */
export function derivative(name: ActivationName, options: ActivationOptions = {}): ScalarActivation {
  const p = parametersOf(name, options);
  const dsig = (v: number) => sigmoidOf(v) * sigmoidOf(-v);
  const normalDensity = (x: number) => Math.exp((-x * x) / 2) / Math.sqrt(2 * Math.PI);
  const f = ((): ScalarActivation => {
    switch (p.name) {
      case 'linear':
        return () => 1;
      case 'relu': {
        if (!p.relu) return (x) => (x > 0 ? 1 : 0);
        const { slope, max, threshold: t } = p.relu;
        const lo = Number.isFinite(max) ? 0 : -Infinity;
        return (x) => (x > t ? (x < max && x >= lo ? 1 : 0) : slope);
      }
      case 'leaky_relu': {
        const s = Math.fround(p.leakySlope);
        return (x) => (x > 0 ? 1 : s);
      }
      case 'relu6':
        return (x) => (x > 0 && x < 6 ? 1 : 0);
      case 'elu': {
        const a = p.eluAlpha;
        return (x) => (x > 0 ? 1 : a * Math.exp(x));
      }
      case 'selu':
        return (x) => SELU_SCALE * (x > 0 ? 1 : SELU_ALPHA * Math.exp(x));
      case 'celu': {
        const a = p.eluAlpha;
        return (x) => (x > 0 ? 1 : Math.exp(x / a));
      }
      case 'exponential':
        return Math.exp;
      case 'sigmoid':
        return dsig;
      case 'tanh':
        return (x) => 1 - Math.tanh(x) ** 2;
      case 'hard_sigmoid':
      case 'hard_silu': {
        const { alpha: al, beta: be } = p.hard;
        const inside = (x: number) => al * x + be > 0 && al * x + be < 1;
        if (p.name === 'hard_sigmoid') return (x) => (inside(x) ? al : 0);
        return (x) => clip(al * x + be, 0, 1) + (inside(x) ? x * al : 0);
      }
      case 'hard_tanh':
        return (x) => (x > p.hardTanh.min && x < p.hardTanh.max ? 1 : 0);
      case 'hard_shrink':
      case 'soft_shrink': {
        const t = p.shrink;
        return (x) => (Math.abs(x) > t ? 1 : 0);
      }
      case 'log_sigmoid':
        return (x) => sigmoidOf(-x);
      case 'mish':
        return (x) => {
          if (x > 40) return 1; // the second term is below 1e-30, and ∞·0 must not make NaN
          const t = Math.tanh(softplusOf(x));
          return t + x * (1 - t * t) * sigmoidOf(x);
        };
      // At ±Inf the second terms are 0·∞: their limit is 0.
      case 'silu': {
        const b = p.beta;
        return (x) => (Number.isFinite(x) ? sigmoidOf(b * x) + b * x * dsig(b * x) : sigmoidOf(b * x));
      }
      case 'softplus': {
        const [b, t] = [p.beta, p.softplusThreshold];
        return (x) => (b * x > t ? 1 : sigmoidOf(b * x));
      }
      case 'softsign':
        return (x) => 1 / (1 + Math.abs(x)) ** 2;
      case 'sparse_plus':
        return (x) => (x <= -1 ? 0 : x >= 1 ? 1 : (x + 1) / 2);
      case 'sparse_sigmoid':
        return (x) => (x <= -1 || x >= 1 ? 0 : 0.5);
      case 'squareplus': {
        // (1 + x/√(x² + b))/2 = squareplus(x)/√(x² + b), which does not cancel for x ≪ 0; at ±Inf its limits 1 and 0.
        const [b, y] = [p.b, scalarActivation(name, options)];
        return (x) => (Number.isFinite(x) ? y(x) / Math.sqrt(x * x + b) : x > 0 ? 1 : 0);
      }
      case 'tanh_shrink':
        return (x) => Math.tanh(x) ** 2;
      case 'threshold': {
        const t = p.threshold.at;
        return (x) => (x > t ? 1 : 0);
      }
      case 'thresholded_relu': {
        const t = p.thresholdedAt;
        return (x) => (x > t ? 1 : 0);
      }
      case 'gelu': {
        if (!p.approximate) return (x) => 0.5 * erfc(-x * Math.SQRT1_2) + x * normalDensity(x);
        const k = 2 * SQRT_2_OVER_PI;
        return (x) => {
          const v = k * (x + 0.044715 * x * x * x);
          return Number.isFinite(x) ? sigmoidOf(v) + x * dsig(v) * k * (1 + 3 * 0.044715 * x * x) : sigmoidOf(v);
        };
      }
      default:
        throw new TypeError(`${p.name} is row-wise: use activateBackward()`);
    }
  })();
  return nanOr(f);
}

/** The backward pass: dy·f'(x) elementwise, or the Jacobian product of softmax, log_softmax, softmin per row. */
export function activateBackward(
  name: ActivationName,
  x: ArrayLike<number>,
  dy: ArrayLike<number>,
  options: ActivationOptions & { axisSize?: number } = {},
): Float32Array {
  const act = resolveActivation(name, options, ['axisSize']);
  if (!act.rowwise) {
    const d = derivative(name, options);
    return Float32Array.from({ length: x.length }, (_, i) => dy[i]! * d(x[i]!));
  }
  const cols = options.axisSize ?? x.length;
  if (act.name === 'prelu') {
    const slopes = preluSlopes(options.slope, cols);
    return Float32Array.from({ length: x.length }, (_, i) => (Number.isNaN(x[i]!) ? NaN : dy[i]! * (x[i]! > 0 ? 1 : slopes[i % cols]!)));
  }
  const out = new Float32Array(x.length);
  if (act.name === 'glu') {
    const h = cols / 2;
    for (let start = 0; start < x.length; start += cols) {
      for (let i = 0; i < h; i++) {
        const [a, b, g] = [x[start + i]!, x[start + h + i]!, dy[start / 2 + i]!];
        out[start + i] = g * sigmoidOf(b);
        out[start + h + i] = g * a * sigmoidOf(b) * sigmoidOf(-b);
      }
    }
    return out;
  }
  const y = rowwise(act.name === 'log_softmax' ? 'softmax' : act.name, x, cols);
  if (act.name === 'sparsemax') {
    for (let start = 0; start < x.length; start += cols) {
      let [sum, count] = [0, 0];
      for (let i = start; i < start + cols; i++) if (y[i]! > 0) [sum, count] = [sum + dy[i]!, count + 1];
      for (let i = start; i < start + cols; i++) out[i] = Number.isNaN(y[i]!) ? NaN : y[i]! > 0 ? dy[i]! - sum / count : 0;
    }
    return out;
  }
  const sign = act.name === 'softmin' ? -1 : 1;
  for (let start = 0; start < x.length; start += cols) {
    let [dot, total] = [0, 0];
    for (let i = start; i < start + cols; i++) [dot, total] = [dot + dy[i]! * y[i]!, total + dy[i]!];
    for (let i = start; i < start + cols; i++) {
      out[i] = act.name === 'log_softmax' ? dy[i]! - y[i]! * total : sign * y[i]! * (dy[i]! - dot);
    }
  }
  return out;
}

/** One row-wise activation over rows of `axisSize`, in double precision (prelu: with its float32 slopes). */
export function rowwise(name: ActivationName, x: ArrayLike<number>, axisSize: number, slopes?: Float32Array): Float64Array {
  const halves = name === 'glu';
  const out = new Float64Array(halves ? x.length / 2 : x.length);
  if (axisSize === 0) return out;
  for (let start = 0; start < x.length; start += axisSize) {
    const row = Array.from({ length: axisSize }, (_, i) => x[start + i]!);
    const at = halves ? start / 2 : start;
    if (name === 'prelu') {
      for (let i = 0; i < axisSize; i++) out[at + i] = row[i]! > 0 ? row[i]! : slopes![i]! * row[i]!;
      continue;
    }
    if (halves) {
      const h = axisSize / 2;
      for (let i = 0; i < h; i++) out[at + i] = row[i]! * sigmoidOf(row[h + i]!);
      continue;
    }
    // A NaN makes the row NaN; in sparsemax so does +Inf (no k passes its support test), as Inf - Inf does in softmax.
    if (row.some(Number.isNaN) || (name === 'sparsemax' && row.includes(Infinity))) {
      out.fill(NaN, at, at + axisSize);
      continue;
    }
    if (name === 'sparsemax') {
      // As the kernel: not 1 + k·z > Σ, whose 1 is absorbed at |z| ≳ 2^53, nor x - (Σ - 1)/k, whose τ rounds the 1 away.
      const sorted = [...row].sort((a, b) => b - a);
      let [cumulative, supportSum, k] = [0, 0, 0];
      sorted.forEach((z, j) => {
        cumulative += z;
        if (cumulative - (j + 1) * z < 1) [k, supportSum] = [j + 1, cumulative];
      });
      row.forEach((v, i) => (out[at + i] = Math.max((k * v - supportSum + 1) / k, 0)));
      continue;
    }
    const z = name === 'softmin' ? row.map((v) => -v) : row;
    const max = Math.max(...z);
    let sum = 0;
    for (const v of z) sum += Math.exp(v - max);
    z.forEach((v, i) => (out[at + i] = name === 'log_softmax' ? v - max - Math.log(sum) : Math.exp(v - max) / sum));
  }
  return out;
}

export function softmax(x: ArrayLike<number>, axisSize: number = x.length): Float32Array {
  return new Float32Array(rowwise('softmax', x, axisSize));
}

/** `f` over every element, rounded to float32 (a plain loop: `Float32Array.from` with a map is slow in V8). */
function map(x: ArrayLike<number>, f: ScalarActivation): Float32Array {
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = f(x[i]!);
  return out;
}

/** `nn.activate` on plain arrays. */
export function activate(
  name: ActivationName,
  x: ArrayLike<number>,
  options: ActivationOptions & { axisSize?: number } = {},
): Float32Array {
  const act = resolveActivation(name, options, ['axisSize']);
  const cols = options.axisSize ?? x.length;
  if (act.rowwise) return new Float32Array(rowwise(act.name, x, cols, act.name === 'prelu' ? preluSlopes(options.slope, cols) : undefined));
  return map(x, scalarActivation(name, options));
}

export interface DenseWeights {
  inputDim: number;
  units: number;
  activation?: ActivationName;
  /** The activation's options (and `alpha`, as the layer's shorthand). */
  activationOptions?: ActivationOptions;
  alpha?: number;
  /** [inputDim × units] row-major. */
  kernel: ArrayLike<number>;
  bias?: ArrayLike<number>;
}

/** `x · kernel + bias` for `batch` rows, in double precision. */
export function preActivation(layer: DenseWeights, x: ArrayLike<number>, batch: number): Float64Array {
  const { inputDim, units, kernel, bias } = layer;
  const pre = new Float64Array(batch * units);
  for (let b = 0; b < batch; b++) {
    for (let o = 0; o < units; o++) {
      let acc = bias ? bias[o]! : 0;
      for (let k = 0; k < inputDim; k++) acc += x[b * inputDim + k]! * kernel[k * units + o]!;
      pre[b * units + o] = acc;
    }
  }
  return pre;
}

/** `act(x · kernel + bias)` for `batch` rows, accumulated in double precision. */
export function dense(layer: DenseWeights, x: ArrayLike<number>, batch: number): Float32Array {
  const pre = preActivation(layer, x, batch);
  const options = { ...(layer.alpha === undefined ? {} : { alpha: layer.alpha }), ...layer.activationOptions, axisSize: layer.units };
  return activate(layer.activation ?? 'linear', pre, options);
}

/** A Sequential model: each layer's float32 output feeds the next, as in the wasm model. */
export function predict(layers: readonly DenseWeights[], x: ArrayLike<number>, batch: number): Float32Array {
  let out: ArrayLike<number> = x;
  for (const layer of layers) out = dense(layer, out, batch);
  return new Float32Array(out);
}
export * from './reference-training.js';
