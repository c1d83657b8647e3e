import { ActivationCode, RowwiseCode } from './abi.js';
import { fail } from './errors.js';

/** Whose defaults fill the parameters a call leaves out. */
export type Preset = 'keras' | 'torch' | 'onnx' | 'tfjs';
export const PRESETS: readonly Preset[] = ['keras', 'torch', 'onnx', 'tfjs'];

/** Every parameter any activation takes; each function reads the ones it documents. */
export interface ActivationOptions {
  /** Whose defaults apply (default 'keras': Keras 3's `keras.activations`). */
  preset?: Preset;
  /** leaky_relu, relu: slope for x below the threshold. */
  negativeSlope?: number;
  /** relu: upper clip (default none). */
  maxValue?: number;
  /** relu, threshold, thresholded_relu, softplus, hard_shrink, soft_shrink: see the table in README. */
  threshold?: number;
  /** threshold: the value below the threshold (default 0). */
  value?: number;
  /** leaky_relu (= negativeSlope), elu, celu, hard_sigmoid, hard_silu, thresholded_relu (= threshold). */
  alpha?: number;
  /** hard_sigmoid, hard_silu, softplus, swish/silu. */
  beta?: number;
  /** gelu: the tanh approximation instead of the exact erf form. */
  approximate?: boolean;
  /** hard_tanh bounds (default -1, 1). */
  minVal?: number;
  maxVal?: number;
  /** squareplus (default 4). */
  b?: number;
  /** prelu: one slope per position of the last axis, or one for all (required). */
  slope?: number | ArrayLike<number>;
}

/** A validated activation: its kernel code, its three float parameters, and whether it is row-wise. */
export interface ResolvedActivation {
  readonly name: ActivationName;
  readonly code: number;
  readonly params: readonly [number, number, number];
  readonly rowwise: boolean;
}

type Params = [number, number, number];
/** An option a function reads: any other (but `preset`, which only chooses defaults) is an error. */
type OptionKey = Exclude<keyof ActivationOptions, 'preset'>;
type Resolver = (o: ActivationOptions, preset: Preset) => Params;

const num = (value: unknown, what: string, fallback: number): number => {
  const v = value ?? fallback;
  if (typeof v !== 'number' || Number.isNaN(v)) fail('INVALID_ARGUMENT', `${what} must be a number, got ${String(value)}`);
  return v;
};
const finite = (value: unknown, what: string, fallback: number): number => {
  const v = num(value, what, fallback);
  if (!Number.isFinite(v)) fail('INVALID_ARGUMENT', `${what} must be finite, got ${v}`);
  return v;
};
const nonNegative = (value: unknown, what: string, fallback: number): number => {
  const v = finite(value, what, fallback);
  if (v < 0) fail('INVALID_ARGUMENT', `${what} must be ≥ 0, got ${v}`);
  return v;
};

/** Defaults that differ between frameworks (the README's table lists them all). */
export const PRESET_DEFAULTS = {
  leakySlope: { keras: 0.2, torch: 0.01, onnx: 0.01, tfjs: 0.2 },
  hardSigmoid: { keras: [1 / 6, 0.5], torch: [1 / 6, 0.5], onnx: [0.2, 0.5], tfjs: [0.2, 0.5] },
  softplusThreshold: { keras: Infinity, torch: 20, onnx: Infinity, tfjs: Infinity },
} as const;

/** SELU's α and λ (Klambauer et al. 2017), as Keras and ONNX state them. */
export const SELU_ALPHA = 1.6732632423543772;
export const SELU_SCALE = 1.0507009873554805;

function hardSigmoidParams(o: ActivationOptions, preset: Preset): Params {
  const [a, b] = PRESET_DEFAULTS.hardSigmoid[preset];
  const alpha = finite(o.alpha, 'alpha', a);
  if (alpha === 0) fail('INVALID_ARGUMENT', 'hard_sigmoid alpha must be non-zero');
  // The kernel computes clip((x + beta/alpha)·alpha, 0, 1): x + 3 is exact near -3, x/6 + 0.5 is not.
  return [alpha, finite(o.beta, 'beta', b) / alpha, 0];
}

const ELEMENTWISE = {
  linear: [ActivationCode.linear, [], () => [0, 0, 0]],
  relu: [ActivationCode.relu, ['negativeSlope', 'maxValue', 'threshold'], () => [0, 0, 0]],
  leaky_relu: [
    ActivationCode.leaky_relu,
    ['negativeSlope', 'alpha'],
    (o, p) => [finite(o.negativeSlope ?? o.alpha, 'negativeSlope', PRESET_DEFAULTS.leakySlope[p]), 0, 0],
  ],
  relu6: [ActivationCode.relu6, [], () => [0, 0, 0]],
  elu: [ActivationCode.elu, ['alpha'], (o) => [finite(o.alpha, 'alpha', 1), 1, 1]],
  selu: [ActivationCode.elu, [], () => [SELU_ALPHA, SELU_SCALE, 1]],
  celu: [
    ActivationCode.elu,
    ['alpha'],
    (o) => {
      const alpha = finite(o.alpha, 'alpha', 1);
      if (alpha === 0) fail('INVALID_ARGUMENT', 'celu alpha must be non-zero');
      return [alpha, 1, alpha];
    },
  ],
  exponential: [ActivationCode.exponential, [], () => [0, 0, 0]],
  sigmoid: [ActivationCode.sigmoid, [], () => [0, 0, 0]],
  tanh: [ActivationCode.tanh, [], () => [0, 0, 0]],
  hard_sigmoid: [ActivationCode.hard_sigmoid, ['alpha', 'beta'], hardSigmoidParams],
  hard_silu: [ActivationCode.hard_silu, ['alpha', 'beta'], hardSigmoidParams],
  hard_tanh: [
    ActivationCode.hard_tanh,
    ['minVal', 'maxVal'],
    (o) => {
      const [lo, hi] = [num(o.minVal, 'minVal', -1), num(o.maxVal, 'maxVal', 1)];
      if (!(lo <= hi)) fail('INVALID_ARGUMENT', `hard_tanh needs minVal ≤ maxVal, got ${lo} > ${hi}`);
      return [lo, hi, 0];
    },
  ],
  hard_shrink: [ActivationCode.hard_shrink, ['threshold'], (o) => [nonNegative(o.threshold, 'threshold', 0.5), 0, 0]],
  soft_shrink: [ActivationCode.soft_shrink, ['threshold'], (o) => [nonNegative(o.threshold, 'threshold', 0.5), 0, 0]],
  log_sigmoid: [ActivationCode.log_sigmoid, [], () => [0, 0, 0]],
  mish: [ActivationCode.mish, [], () => [0, 0, 0]],
  silu: [ActivationCode.swish, ['beta'], (o) => [finite(o.beta, 'beta', 1), 0, 0]],
  softplus: [
    ActivationCode.softplus,
    ['beta', 'threshold'],
    (o, p) => {
      const beta = finite(o.beta, 'beta', 1);
      if (beta === 0) fail('INVALID_ARGUMENT', 'softplus beta must be non-zero');
      return [beta, num(o.threshold, 'threshold', PRESET_DEFAULTS.softplusThreshold[p]), 0];
    },
  ],
  softsign: [ActivationCode.softsign, [], () => [0, 0, 0]],
  sparse_plus: [ActivationCode.sparse_plus, [], () => [0, 0, 0]],
  sparse_sigmoid: [ActivationCode.sparse_sigmoid, [], () => [0, 0, 0]],
  squareplus: [ActivationCode.squareplus, ['b'], (o) => [nonNegative(o.b, 'b', 4), 0, 0]],
  tanh_shrink: [ActivationCode.tanh_shrink, [], () => [0, 0, 0]],
  threshold: [ActivationCode.threshold, ['threshold', 'value'], (o) => [num(o.threshold, 'threshold', 0), num(o.value, 'value', 0), 0]],
  thresholded_relu: [ActivationCode.threshold, ['threshold', 'alpha'], (o) => [num(o.threshold ?? o.alpha, 'alpha', 1), 0, 0]],
  gelu: [ActivationCode.gelu, ['approximate'], () => [0, 0, 0]],
} satisfies Record<string, [number, readonly OptionKey[], Resolver]>;

/** The row-wise functions' options: prelu's slopes; the others take none. */
const ROWWISE_OPTIONS: Partial<Record<RowwiseName, readonly OptionKey[]>> = { prelu: ['slope'] };

const ROWWISE = {
  softmax: RowwiseCode.softmax,
  log_softmax: RowwiseCode.log_softmax,
  softmin: RowwiseCode.softmin,
  sparsemax: RowwiseCode.sparsemax,
  glu: RowwiseCode.glu,
  prelu: RowwiseCode.prelu,
} satisfies Record<string, number>;

/** Other names of the same function. */
const ALIASES = { swish: 'silu', hard_swish: 'hard_silu' } satisfies Record<string, keyof typeof ELEMENTWISE>;

/** Every name `activate` and layers take: the tables' keys. */
export type ActivationName = keyof typeof ELEMENTWISE | keyof typeof ROWWISE | keyof typeof ALIASES;
export type RowwiseName = keyof typeof ROWWISE;

export const ACTIVATION_NAMES = [...Object.keys(ELEMENTWISE), ...Object.keys(ROWWISE), ...Object.keys(ALIASES)].sort() as ActivationName[];
/** The activations computed along rows (softmax & co., glu, prelu's per-position slopes). */
export const ROWWISE_NAMES = Object.keys(ROWWISE) as RowwiseName[];

/** prelu's slopes for rows of `cols`: `slope` has one per position, or one for all (broadcast). */
export function preluSlopes(slope: unknown, cols: number): Float32Array {
  if (slope === undefined) fail('INVALID_ARGUMENT', 'prelu needs options.slope (a number, or one per position of the last axis)');
  const values = typeof slope === 'number' ? [slope] : (slope as ArrayLike<number>);
  if (values === null || typeof values !== 'object' || typeof values.length !== 'number')
    fail('INVALID_ARGUMENT', 'prelu slope must be a number or an array');
  if (values.length !== 1 && values.length !== cols) fail('SHAPE_MISMATCH', `prelu has ${values.length} slopes for rows of ${cols}`);
  const out = new Float32Array(cols);
  for (let i = 0; i < cols; i++) out[i] = finite(values[values.length === 1 ? 0 : i], 'slope', NaN);
  return out;
}

/** An activation as layers take it: a name, or a name with its options. */
export type ActivationSpec = ActivationName | ({ name: ActivationName } & ActivationOptions);

/** Resolves a layer's activation spec; `extra` (e.g. a layer's top-level alpha) fills options it leaves out. */
export function resolveSpec(spec: unknown, extra: ActivationOptions = {}, ignoring: readonly string[] = []): ResolvedActivation {
  if (spec !== null && typeof spec === 'object') {
    const { name, ...options } = spec as { name: unknown } & ActivationOptions;
    return resolveActivation(name, { ...extra, ...options }, ignoring);
  }
  return resolveActivation(spec, extra, ignoring);
}

/**
 * Validates a name and its options into a kernel code and parameters. An option the function does
 * not read is an error naming it (a misspelt `alpah`, or `alpha` on sigmoid), except the caller's own
 * keys listed in `ignoring` (activate()'s axisSize, inPlace, ...).
 */
export function resolveActivation(name: unknown, options: ActivationOptions = {}, ignoring: readonly string[] = []): ResolvedActivation {
  const given = name === undefined || name === null ? 'linear' : name;
  if (typeof given !== 'string') fail('UNKNOWN_ACTIVATION', `activation must be a name, got ${String(given)}`);
  const key: string = Object.hasOwn(ALIASES, given) ? ALIASES[given as keyof typeof ALIASES] : given;
  const isRowwise = Object.hasOwn(ROWWISE, key);
  if (!isRowwise && !Object.hasOwn(ELEMENTWISE, key)) {
    fail('UNKNOWN_ACTIVATION', `unknown activation ${JSON.stringify(name)}; known: ${ACTIVATION_NAMES.join(', ')}`);
  }
  if (options === null || typeof options !== 'object')
    fail('INVALID_ARGUMENT', `activation options must be an object, got ${String(options)}`);
  const known = isRowwise ? (ROWWISE_OPTIONS[key as RowwiseName] ?? []) : ELEMENTWISE[key as keyof typeof ELEMENTWISE][1];
  for (const option of Object.keys(options)) {
    if (option !== 'preset' && !known.includes(option as OptionKey) && !ignoring.includes(option)) {
      fail(
        'INVALID_ARGUMENT',
        `${given} takes no option '${option}'${known.length ? `; its options: ${known.join(', ')}, preset` : ' (but preset)'}`,
      );
    }
  }
  const preset = options.preset ?? 'keras';
  if (!PRESETS.includes(preset)) fail('INVALID_ARGUMENT', `unknown preset ${JSON.stringify(preset)}; presets: ${PRESETS.join(', ')}`);
  if (isRowwise) return { name: key as ActivationName, code: ROWWISE[key as RowwiseName], params: [0, 0, 0], rowwise: true };
  const [code, , resolve] = ELEMENTWISE[key as keyof typeof ELEMENTWISE] as [number, readonly OptionKey[], Resolver];
  let resolvedCode = code;
  let params = resolve(options, preset);
  if (key === 'relu' && (options.negativeSlope !== undefined || options.maxValue !== undefined || options.threshold !== undefined)) {
    const maxValue = num(options.maxValue, 'maxValue', Infinity);
    if (maxValue < 0) fail('INVALID_ARGUMENT', `maxValue must be ≥ 0, got ${maxValue}`);
    resolvedCode = ActivationCode.relu_general;
    params = [finite(options.negativeSlope, 'negativeSlope', 0), maxValue, finite(options.threshold, 'threshold', 0)];
  }
  if (options.approximate !== undefined && typeof options.approximate !== 'boolean') {
    fail('INVALID_ARGUMENT', `approximate must be true or false, got ${JSON.stringify(options.approximate)}`);
  }
  if (key === 'gelu' && (options.approximate ?? false)) resolvedCode = ActivationCode.gelu_tanh;
  return { name: key as ActivationName, code: resolvedCode, params, rowwise: false };
}
